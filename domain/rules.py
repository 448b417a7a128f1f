"""The scheduling rules in force, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from domain.periods import DueRules
from domain.slots import ReminderPolicy

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hhmm(value: str) -> time:
    """'08:30' -> time(8, 30); used by time-of-day settings."""
    hours, sep, minutes = value.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"{value!r} is not a time of day like 08:30")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class ScheduleRules:
    due: DueRules
    policy: ReminderPolicy
    tz: ZoneInfo
    grace: timedelta
    # A claim older than this is taken back (its instance died mid-send); must be longer than
    # any single send can take, 429 waits included.
    lease: timedelta = timedelta(minutes=5)


# Reminders move onto working days: a "14 days before" slot can land ~10 days earlier still
# when Tết closes offices, and overdue slots count working days, so look well past the offsets.
_SHIFT_MARGIN = timedelta(days=30)


def item_window(today: date, rules: ScheduleRules) -> tuple[date, date]:
    """Due days of the items that may have a reminder slot around ``today``."""
    longest_before = max(rules.policy.before_days, default=0)
    longest_overdue = max(rules.policy.overdue_working_days, default=0)
    return (today - timedelta(days=2 * longest_overdue) - _SHIFT_MARGIN,
            today + timedelta(days=longest_before) + _SHIFT_MARGIN)
