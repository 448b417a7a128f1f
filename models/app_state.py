"""A tiny key-value store for facts the running bot learns (e.g. its own username)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.db import session_scope
from models.tables import AppState
from models.types import utcnow

BOT_USERNAME = "bot_username"


def get(session: Session, key: str) -> str | None:
    row = session.get(AppState, key)
    return row.value if row is not None else None


def set_value(session: Session, key: str, value: str, *, now: datetime | None = None) -> None:
    """Store ``value`` under ``key``: one upsert, because two instances starting together (or
    syncing together) write the same keys, and a read-then-insert lets both insert."""
    table = AppState.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(key=key, value=value, updated_at=now or utcnow())
    session.execute(statement.on_conflict_do_update(
        index_elements=["key"], set_={"value": statement.excluded.value,
                                      "updated_at": statement.excluded.updated_at}))
    loaded = session.identity_map.get(session.identity_key(AppState, key))
    if loaded is not None:
        session.expire(loaded)  # a row loaded before reads the stored value again


def bot_username(session: Session) -> str | None:
    return get(session, BOT_USERNAME) or None


def remember_bot_username(session: Session, username: str | None) -> None:
    if username:
        set_value(session, BOT_USERNAME, username)


def record_bot_username(engine: Engine, username: str | None) -> None:
    """Called once the bot knows who it is (post_init), so ``dondoc invite`` can print links."""
    with session_scope(engine) as session:
        remember_bot_username(session, username)
