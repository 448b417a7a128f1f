"""Admin alerts about unhandled errors, at most one per kind of error per interval.

The state is a row per kind in ``error_alert``, changed with single conditional UPDATEs, so the
limit holds across restarts and when two instances hit the same error at once: the UPDATE
that moves ``last_alert_at`` forward wins the alert (PostgreSQL re-checks the WHERE after the
row lock; SQLite has one writer), every other error of that kind only counts itself in
``suppressed``, and the next alert tells how many there were."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from models.db import insert_ignore
from models.tables import ErrorAlert, Member, MemberRole

ALERT_INTERVAL = timedelta(minutes=10)


def claim_alert(session: Session, kind: str, *, now: datetime,
                interval: timedelta = ALERT_INTERVAL) -> int | None:
    """Record one error of ``kind``. Returns None when an alert of that kind went out less than
    ``interval`` ago (this error is counted for the next one); otherwise the caller sends the
    alert, and the number returned is how many errors of that kind were not alerted since the
    previous alert."""
    insert_ignore(session, ErrorAlert, [{"kind": kind, "last_alert_at": None, "suppressed": 0,
                                         "reported": 0, "last_seen_at": now}], ("kind",))
    row = col(ErrorAlert.kind) == kind
    # SET expressions read the row as it was: "reported" takes the old "suppressed".
    claimed = session.execute(
        update(ErrorAlert).where(row, or_(col(ErrorAlert.last_alert_at).is_(None),
                                          col(ErrorAlert.last_alert_at) <= now - interval))
        .values(last_alert_at=now, reported=col(ErrorAlert.suppressed), suppressed=0, last_seen_at=now))
    if claimed.rowcount:  # type: ignore[attr-defined]
        return int(session.exec(select(ErrorAlert.reported).where(row)).one())
    session.execute(update(ErrorAlert).where(row).values(
        suppressed=col(ErrorAlert.suppressed) + 1, last_seen_at=now))
    return None


@dataclass(frozen=True)
class AlertRecipient:
    chat_id: int
    language: str | None  # None: the default language


def alert_recipients(session: Session, configured: frozenset[int]) -> list[AlertRecipient]:
    """Active, reachable admin members (in their language) and the configured admin ids."""
    query = select(Member.telegram_user_id, Member.language).where(
        Member.role == MemberRole.ADMIN.value, col(Member.active), col(Member.unreachable_at).is_(None))
    found = {chat_id: language for chat_id, language in session.exec(query)}
    for chat_id in configured:
        found.setdefault(chat_id, None)
    return [AlertRecipient(chat_id, found[chat_id]) for chat_id in sorted(found)]
