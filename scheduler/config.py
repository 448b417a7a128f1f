"""The scheduling rules in force, built from settings and the admins' calendar changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.tables import CalendarDay
from scheduler.calendar import WorkingCalendar
from scheduler.periods import DueRules
from scheduler.slots import ReminderPolicy

if TYPE_CHECKING:
    from bot.settings import Settings


@dataclass(frozen=True)
class ScheduleRules:
    due: DueRules
    policy: ReminderPolicy
    tz: ZoneInfo
    grace: timedelta
    # A claim older than this is taken back (its instance died mid-send); must be longer than
    # any single send can take, 429 waits included.
    lease: timedelta = timedelta(minutes=5)


_DEFAULT_DUE = {"quarterly": "31-03,30-06,30-09,31-12", "annual": "31-12", "semiannual": "30-06,31-12"}


def _due_rules(settings: Settings) -> DueRules:
    """The due days; a bad one is reported with the setting that holds it."""
    given = {"quarterly": settings.due_quarterly, "annual": settings.due_annual,
             "semiannual": settings.due_semiannual}
    for name, value in given.items():
        try:
            DueRules.parse(**{**_DEFAULT_DUE, name: value})
        except ValueError as exc:
            raise ValueError(f"DONDOC_DUE_{name.upper()}={value!r}: {exc}") from None
    return DueRules.parse(**given)


def _policy(settings: Settings) -> ReminderPolicy:
    try:
        return ReminderPolicy.parse(
            before_days=settings.remind_before_days, on_due_day=str(settings.remind_on_due_day),
            overdue_working_days=settings.remind_overdue_days,
            leaders_from=str(settings.escalate_leaders_from),
            coordinators_from=str(settings.escalate_coordinators_from),
            send_at=settings.remind_at, quiet_start=settings.quiet_start, quiet_end=settings.quiet_end)
    except ValueError as exc:
        raise ValueError(f"reminder policy (DONDOC_REMIND_*/QUIET_*/ESCALATE_*): {exc}") from None


def check_schedule_settings(settings: Settings) -> None:
    _due_rules(settings)
    _policy(settings)


def schedule_rules(settings: Settings) -> ScheduleRules:
    return ScheduleRules(due=_due_rules(settings), policy=_policy(settings), tz=settings.tz,
                         grace=timedelta(hours=settings.grace_hours),
                         lease=timedelta(seconds=settings.claim_lease_seconds))


ITEMS_DIRTY = "items_dirty"


def mark_items_dirty(app_data: dict[str, object]) -> None:
    """Something changed the deadlines (an event was recorded): re-sync items at the next tick."""
    app_data[ITEMS_DIRTY] = True


def working_calendar(session: Session) -> WorkingCalendar:
    """Vietnam's calendar with the admins' extra days off and make-up working days."""
    days = list(session.exec(select(CalendarDay)))
    return WorkingCalendar(days_off=[d.day for d in days if d.kind == "day_off"],
                           working_days=[d.day for d in days if d.kind == "working_day"])
