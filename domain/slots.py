"""When reminders go out for one open item (an agency's deadline).

Reminders count down in calendar days before the due day (people think "two weeks left"),
but overdue time counts in working days (a weekend does not make an agency "more late").
Every reminder lands on a working day, at a civil hour, and at most once a day, so focal
points are nudged without being spammed; long-overdue items escalate to the agency's leaders
and then to the coordinators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.calendar import WorkingCalendar

BEFORE, DUE, OVERDUE = "before", "due", "overdue"
FOCAL_POINT, LEADER, COORDINATOR = "focal_point", "leader", "coordinator"
_MAX_OFFSET = 366
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _check_offsets(name: str, offsets: tuple[int, ...]) -> None:
    """Offsets are whole days in 1..366, each once: duplicates would only collapse anyway."""
    for value in offsets:
        if isinstance(value, bool) or not 1 <= value <= _MAX_OFFSET:
            raise ValueError(f"{name}: {value!r} must be a whole number of days in 1..{_MAX_OFFSET}")
    if len(set(offsets)) != len(offsets):
        raise ValueError(f"{name}: {offsets!r} lists a day twice")


def _parse_offsets(name: str, text: str) -> tuple[int, ...]:
    """Parse "14,7,3,1"; an empty string means no reminders of that kind."""
    if not text.strip():
        return ()
    values = []
    for raw in text.split(","):
        item = raw.strip()
        if not item.isdigit():
            raise ValueError(f"{name}: {item!r} is not a whole number of days (e.g. 14,7,3,1)")
        values.append(int(item))
    return tuple(values)


def _parse_time(name: str, text: str) -> time:
    """Parse "08:30" (24-hour local time)."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"{name}: {text!r} is not a time of day as HH:MM, e.g. 08:30")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{name}: {text!r} is not a valid time of day (00:00..23:59)")
    return time(hour, minute)


def _parse_int(name: str, text: str) -> int:
    item = text.strip()
    if not item.isdigit():
        raise ValueError(f"{name}: {text!r} is not a whole number")
    return int(item)


def _parse_bool(name: str, text: str) -> bool:
    item = text.strip().lower()
    if item in _TRUE:
        return True
    if item in _FALSE:
        return False
    raise ValueError(f"{name}: {text!r} is not yes/no (true/false, 1/0, on/off)")


@dataclass(frozen=True)
class ReminderPolicy:
    """How often, how early and to whom reminders go; every number comes from settings."""

    before_days: tuple[int, ...] = (14, 7, 3, 1)  # calendar days before the due day
    on_due_day: bool = True
    overdue_working_days: tuple[int, ...] = (1, 3, 7)  # working days after the due day
    leaders_from: int = 3  # overdue offsets >= this also go to the agency's leaders
    coordinators_from: int = 7  # ... and from this one to the coordinators too
    send_at: time = time(8, 30)  # local time of day
    quiet_start: time = time(21, 0)  # nothing is sent in [quiet_start, quiet_end)
    quiet_end: time = time(7, 0)

    def __post_init__(self) -> None:
        _check_offsets("before_days", self.before_days)
        _check_offsets("overdue_working_days", self.overdue_working_days)
        for name in ("leaders_from", "coordinators_from"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {value!r} must be a whole number of working days >= 1")

    @classmethod
    def parse(
        cls,
        *,
        before_days: str | None = None,
        on_due_day: str | None = None,
        overdue_working_days: str | None = None,
        leaders_from: str | None = None,
        coordinators_from: str | None = None,
        send_at: str | None = None,
        quiet_start: str | None = None,
        quiet_end: str | None = None,
    ) -> ReminderPolicy:
        """Build a policy from settings strings; None keeps the default."""
        values: dict[str, object] = {}
        if before_days is not None:
            values["before_days"] = _parse_offsets("before_days", before_days)
        if overdue_working_days is not None:
            values["overdue_working_days"] = _parse_offsets(
                "overdue_working_days", overdue_working_days
            )
        if on_due_day is not None:
            values["on_due_day"] = _parse_bool("on_due_day", on_due_day)
        for name, text in (("leaders_from", leaders_from), ("coordinators_from", coordinators_from)):
            if text is not None:
                values[name] = _parse_int(name, text)
        for name, text in (("send_at", send_at), ("quiet_start", quiet_start), ("quiet_end", quiet_end)):
            if text is not None:
                values[name] = _parse_time(name, text)
        return cls(**values)  # type: ignore[arg-type]

    def audience(self, overdue_offset: int) -> frozenset[str]:
        """Who gets an overdue reminder that many working days late."""
        who = {FOCAL_POINT}
        if overdue_offset >= self.leaders_from:
            who.add(LEADER)
        if overdue_offset >= self.coordinators_from:
            who.add(COORDINATOR)
        return frozenset(who)


@dataclass(frozen=True)
class Slot:
    """One reminder to send."""

    at: datetime  # aware, in the plan's time zone
    kind: str  # "before" | "due" | "overdue"
    offset_days: int  # days before (before), 0 (due), working days after (overdue)
    audience: frozenset[str] = field(default_factory=lambda: frozenset({FOCAL_POINT}))


def is_quiet(dt: datetime, policy: ReminderPolicy) -> bool:
    """True when dt's local wall time is inside quiet hours (which may wrap midnight)."""
    start, end, now = policy.quiet_start, policy.quiet_end, dt.time()
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def shift_out_of_quiet(dt: datetime, policy: ReminderPolicy) -> datetime:
    """dt, or the end of the quiet hours it falls in (22:00 -> 07:00 the next morning).

    The dispatcher also uses this for catch-up sends after downtime, hence aware input only.
    """
    if dt.tzinfo is None:
        raise ValueError("shift_out_of_quiet needs an aware datetime")
    if not is_quiet(dt, policy):
        return dt
    day = dt.date()
    # In a wrapping window the evening part belongs to the night that ends tomorrow.
    if policy.quiet_start > policy.quiet_end and dt.time() >= policy.quiet_start:
        day += timedelta(days=1)
    return datetime.combine(day, policy.quiet_end, tzinfo=dt.tzinfo)


def _urgency(slot: Slot) -> tuple[int, int]:
    """Higher is more urgent: overdue (later first) > due > before (closer first)."""
    if slot.kind == OVERDUE:
        return (2, slot.offset_days)
    if slot.kind == DUE:
        return (1, 0)
    return (0, -slot.offset_days)


@dataclass(frozen=True)
class _Day:
    """A reminder's day and meaning, before it gets its time of day."""

    day: date
    kind: str
    offset_days: int
    audience: frozenset[str] = frozenset({FOCAL_POINT})


def _candidates(due: date, calendar: WorkingCalendar, policy: ReminderPolicy) -> list[_Day]:
    """Every configured reminder, each already moved onto a working day."""
    found = [
        _Day(calendar.on_or_before(due - timedelta(days=n)), BEFORE, n) for n in policy.before_days
    ]
    if policy.on_due_day:
        found.append(_Day(calendar.on_or_before(due), DUE, 0))
    found += [
        _Day(calendar.add_working_days(due, n), OVERDUE, n, policy.audience(n))
        for n in policy.overdue_working_days
    ]
    return found


def _send_time(
    day: date, calendar: WorkingCalendar, policy: ReminderPolicy, tz: ZoneInfo
) -> datetime:
    """send_at on day, out of quiet hours, and still on a working day.

    Shifting out of quiet hours can cross midnight (send_at 22:00 on a Friday would become
    Saturday 07:00); then the reminder waits for the next working morning.
    """
    at = shift_out_of_quiet(datetime.combine(day, policy.send_at, tzinfo=tz), policy)
    if calendar.is_working_day(at.date()):
        return at
    return datetime.combine(calendar.on_or_after(at.date()), policy.quiet_end, tzinfo=tz)


def _collapse(slots: list[Slot]) -> list[Slot]:
    """One reminder per local day: the most urgent, to everyone any of them was for."""
    by_day: dict[date, Slot] = {}
    for slot in slots:
        kept = by_day.get(slot.at.date())
        if kept is None:
            by_day[slot.at.date()] = slot
            continue
        winner = max(kept, slot, key=_urgency)
        by_day[slot.at.date()] = Slot(
            winner.at, winner.kind, winner.offset_days, kept.audience | slot.audience
        )
    return sorted(by_day.values(), key=lambda s: (s.at, _urgency(s)))


def plan_slots(
    due: date,
    *,
    calendar: WorkingCalendar,
    policy: ReminderPolicy,
    tz: ZoneInfo,
    not_before: date | None = None,
) -> list[Slot]:
    """All reminders for an item due on due, sorted by time.

    not_before is the day the item opened: reminders dated earlier are dropped instead of
    being sent late (an item opened 5 days before its due day gets no "14 days" reminder).
    """
    timed = [
        Slot(_send_time(c.day, calendar, policy, tz), c.kind, c.offset_days, c.audience)
        for c in _candidates(due, calendar, policy)
    ]
    if not_before is not None:
        timed = [s for s in timed if s.at.date() >= not_before]
    return _collapse(timed)


class SlotCache:
    """:func:`plan_slots` once per due day for one calendar and policy, reused for every item
    due that day (a country has a hundred thousand open items and a handful of due days).

    An item's own opening day only drops whole days of reminders (``plan_slots`` collapses per
    day, then drops days before ``not_before``), so it is applied to the cached list."""

    def __init__(self, calendar: WorkingCalendar, policy: ReminderPolicy, tz: ZoneInfo) -> None:
        self.calendar, self.policy, self.tz = calendar, policy, tz
        self._slots: dict[date, tuple[Slot, ...]] = {}

    def slots(self, due: date, not_before: date | None = None) -> tuple[Slot, ...]:
        found = self._slots.get(due)
        if found is None:
            found = tuple(plan_slots(due, calendar=self.calendar, policy=self.policy, tz=self.tz))
            self._slots[due] = found
        if not_before is None:
            return found
        return tuple(s for s in found if s.at.date() >= not_before)


def explanation_slots(
    asked_on: date,
    due_on: date,
    *,
    calendar: WorkingCalendar,
    policy: ReminderPolicy,
    tz: ZoneInfo,
) -> list[Slot]:
    """Reminders of an open explanation request, sorted by time: the working day before its
    answer's due day, the due day itself, then the policy's overdue working days, each at the
    reminder hour of a working day (never on the day it was asked: the request itself went then).

    Before and on the due day they are for the asked agency (FOCAL_POINT: its focal points and
    leaders); overdue ones also escalate to the requester (COORDINATOR), as overdue tasks do."""
    agency = frozenset({FOCAL_POINT})
    days = [_Day(calendar.add_working_days(due_on, -1), BEFORE, 1, agency),
            _Day(calendar.on_or_before(due_on), DUE, 0, agency)]
    days += [_Day(calendar.add_working_days(due_on, n), OVERDUE, n, agency | {COORDINATOR})
             for n in policy.overdue_working_days]
    timed = [Slot(_send_time(d.day, calendar, policy, tz), d.kind, d.offset_days, d.audience)
             for d in days]
    return _collapse([s for s in timed if s.at.date() > asked_on])
