"""models.db.insert_ignore stores exactly what it is given, on SQLite and PostgreSQL (where each
column goes as the text of one array literal): quotes, backslashes, braces, commas, the word
NULL, line breaks and Vietnamese in strings; NULLs; aware datetimes; and a row already there
is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine
from sqlmodel import select

from models.db import insert_ignore, session_scope
from models.tables import Delivery

AWKWARD = ['plain', 'with "quotes"', "back\\slash\\", "{braces},commas", "NULL", "", " padded ",
           "line\nbreak\ttab", "Sở Y tế — báo cáo", "'single'", '\\"both\\"', "{}", "a,b"]


def _row(n: int, text: str, at: datetime) -> dict[str, object]:
    return {"key": f"k{n}:{text}"[:128], "kind": "notice", "chat_id": 2**40 + n,
            "member_id": None, "item_id": None, "ref_id": n if n % 2 else None, "slot_at": at,
            "slot_kind": text[:16], "offset_days": -n, "audience": "", "state": "pending",
            "attempts": 0, "next_attempt_at": at, "last_error": text, "created_at": at}


def test_insert_ignore_round_trips_awkward_values(engine: Engine) -> None:
    hanoi = timezone(timedelta(hours=7))
    at = datetime(2026, 12, 2, 8, 30, 15, 123456, tzinfo=hanoi)
    rows = [_row(n, text, at + timedelta(minutes=n)) for n, text in enumerate(AWKWARD)]
    with session_scope(engine) as session:
        assert insert_ignore(session, Delivery, rows, ("key",)) == len(AWKWARD)
        again = [*rows[:3], _row(99, "new", at)]
        assert insert_ignore(session, Delivery, again, ("key",)) == 1  # only the new key
    with session_scope(engine) as session:
        stored = {d.key: d for d in session.exec(select(Delivery))}
    assert len(stored) == len(AWKWARD) + 1
    for n, text in enumerate(AWKWARD):
        d = stored[f"k{n}:{text}"]
        assert (d.last_error, d.slot_kind, d.chat_id, d.offset_days) == (text, text[:16], 2**40 + n, -n)
        assert d.ref_id == (n if n % 2 else None) and d.member_id is None
        assert d.slot_at == (at + timedelta(minutes=n)).astimezone(UTC)
