"""A tiny key-value store for facts the running bot learns (e.g. its own username)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from models.db import session_scope
from models.tables import AppState
from models.types import utcnow

BOT_USERNAME = "bot_username"


def get(session: Session, key: str) -> str | None:
    row = session.get(AppState, key)
    return row.value if row is not None else None


def set_value(session: Session, key: str, value: str, *, now: datetime | None = None) -> None:
    """Store ``value`` under ``key`` (insert or replace)."""
    row = session.get(AppState, key)
    stamp = now or utcnow()
    if row is None:
        session.add(AppState(key=key, value=value, updated_at=stamp))
    elif row.value != value:
        row.value, row.updated_at = value, stamp
    session.flush()


def bot_username(session: Session) -> str | None:
    return get(session, BOT_USERNAME) or None


def remember_bot_username(session: Session, username: str | None) -> None:
    if username:
        set_value(session, BOT_USERNAME, username)


def record_bot_username(engine: Engine, username: str | None) -> None:
    """Called once the bot knows who it is (post_init), so ``dondoc invite`` can print links."""
    with session_scope(engine) as session:
        remember_bot_username(session, username)
