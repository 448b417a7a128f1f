"""Group bookkeeping: joins, removals, lost rights, supergroup migration, send errors."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from models import groups
from models.db import session_scope
from models.tables import AuditLog, Chat, Delivery
from models.types import utcnow


def _row(chat_id: int, key: str, state: str = "pending") -> Delivery:
    now = utcnow()
    return Delivery(key=key, kind="broadcast", chat_id=chat_id, slot_at=now, next_attempt_at=now,
                    state=state)


def test_migration_moves_registration_and_queued_rows(engine: Engine) -> None:
    with session_scope(engine) as s:
        groups.bot_joined(s, chat_id=-1, title="G", chat_type="group", can_post=True, actor="t")
        groups.register(s, -1, purpose="leaders", actor="t")
        s.add_all([_row(-1, "a"), _row(-1, "b", "sent")])
    for _ in range(2):  # Telegram tells both chats: the second call changes nothing
        with session_scope(engine) as s:
            groups.ensure_group(s, chat_id=-100, title="G", chat_type="supergroup")
            groups.migrate(s, -1, -100, actor="system")
    with session_scope(engine) as s:
        (chat,) = s.exec(select(Chat))
        assert (chat.telegram_chat_id, chat.purpose, chat.type) == (-100, "leaders", "supergroup")
        rows = {r.key: r.chat_id for r in s.exec(select(Delivery))}
        assert rows == {"a": -100, "b": -1}
        assert s.exec(select(AuditLog).where(AuditLog.action == "group.migrated")).first()


def test_send_errors_mark_the_group(engine: Engine) -> None:
    with session_scope(engine) as s:
        for chat_id in (-1, -2):
            groups.bot_joined(s, chat_id=chat_id, title="G", chat_type="group", can_post=True, actor="t")
        s.add(_row(-1, "x"))
    assert groups.note_send_error(engine, -1, "Forbidden: bot was kicked from the group chat") == "gone"
    muted = "Bad Request: not enough rights to send text messages to the chat"
    assert groups.note_send_error(engine, -2, muted) == "muted"
    assert groups.note_send_error(engine, -2, "Bad Request: message is too long") is None
    with session_scope(engine) as s:
        one, two = (groups.chat_by_telegram_id(s, c) for c in (-1, -2))
        assert one is not None and two is not None
        assert (one.active, two.active, two.can_post) == (False, True, False)
        (row,) = s.exec(select(Delivery))
        assert row.state == "failed" and "kicked" in row.last_error
