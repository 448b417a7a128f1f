"""The scheduling rules in force, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
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
