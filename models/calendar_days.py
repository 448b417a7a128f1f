"""Admins' changes to the working calendar: extra days off and make-up working days.

Vietnam's government moves working days around holidays by decree (a Saturday worked to make
a bridge day off); the ``holidays`` package only partly knows these swaps, so admins record
them here and :func:`working_calendar` applies them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar
from models.tables import AuditLog, CalendarDay

DAY_OFF, WORKING_DAY = "day_off", "working_day"
KINDS = (DAY_OFF, WORKING_DAY)
MAX_NOTE = 255


class CalendarError(ValueError):
    """A calendar change that cannot be made; the message says why."""


@dataclass(frozen=True)
class CalendarChange:
    day: date
    kind: str
    note: str
    replaced: str | None  # the kind it had before, if any


def set_day(session: Session, *, day: date, kind: str, note: str = "", actor: str = "cli") -> CalendarChange:
    """Make ``day`` a day off or a working day (replacing an earlier change of that day)."""
    if kind not in KINDS:
        raise CalendarError(f"{kind!r}: expected one of {', '.join(KINDS)}")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise CalendarError(f"the note is {len(note)} characters long; at most {MAX_NOTE} are kept")
    existing = session.get(CalendarDay, day)
    replaced = existing.kind if existing is not None else None
    if existing is None:
        session.add(CalendarDay(day=day, kind=kind, note=note))
    else:
        existing.kind, existing.note = kind, note
    _audit(session, actor, f"calendar.{kind}", day, {"note": note, "replaced": replaced})
    session.flush()
    return CalendarChange(day, kind, note, replaced)


def remove_day(session: Session, *, day: date, actor: str = "cli") -> CalendarChange:
    """Forget the change made for ``day`` (it becomes whatever the national calendar says)."""
    existing = session.get(CalendarDay, day)
    if existing is None:
        raise CalendarError(f"{day.isoformat()}: no day off or working day was added for this date")
    change = CalendarChange(day, existing.kind, existing.note, None)
    session.delete(existing)
    _audit(session, actor, "calendar.remove", day, {"kind": existing.kind})
    session.flush()
    return change


def list_days(session: Session, *, first: date | None = None, last: date | None = None) -> list[CalendarDay]:
    query = select(CalendarDay).order_by(col(CalendarDay.day))
    if first is not None:
        query = query.where(col(CalendarDay.day) >= first)
    if last is not None:
        query = query.where(col(CalendarDay.day) <= last)
    return list(session.exec(query))


def _audit(session: Session, actor: str, action: str, day: date, details: dict[str, object]) -> None:
    session.add(AuditLog(actor=actor, action=action, entity="calendar_day", entity_id=day.isoformat(),
                         details=json.dumps(details, ensure_ascii=False)))


def working_calendar(session: Session) -> WorkingCalendar:
    """Vietnam's calendar with the admins' extra days off and make-up working days."""
    days = list(session.exec(select(CalendarDay)))
    return WorkingCalendar(days_off=[d.day for d in days if d.kind == DAY_OFF],
                           working_days=[d.day for d in days if d.kind == WORKING_DAY])
