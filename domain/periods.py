"""Reporting periods implied by a task's cadence ("Định kỳ hàng quý", "Hàng năm", ...).

A recurring task owes one report per period; the period's due day comes from settings
(DueRules) so a province can move, say, quarterly reports to the 20th of the last month
without a code change. Event-driven cadences (after an approval, around an election) have
no recurring period: their deadlines open when a coordinator records the event. A one-off task
(``once``: the plan gives a date, "Trước 30/6/2027", "Quý II/2027") owes one report, due on the
task's own date; its one period runs from the day the plan is in force to that date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MonthDay = tuple[int, int]

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Longest month lengths; February 29 is rejected separately since most years lack it.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAY_MONTH = re.compile(r"^(\d{1,2})-(\d{1,2})$")

QUARTER, HALF, YEAR = "quarter", "half", "year"
ONCE = "once"  # the kind of a one-off task's single period (its key: the due day, ISO)
_MONTHS_PER_KIND = {QUARTER: 3, HALF: 6, YEAR: 12}

KIND_BY_CADENCE: dict[str, str | None] = {
    "quarterly": QUARTER,
    "december": YEAR,
    "annual": YEAR,
    # The plan reviews progress every 6 months (section II.4), so open-ended work reports
    # on that cycle.
    "periodic": HALF,
    "ongoing": HALF,
    "roadmap": HALF,
    "master_plan": HALF,
    "other": HALF,
    "after_approval": None,
    "election": None,
    "once": None,  # one period, due on the task's own date (``one_off``)
}


def _format(md: MonthDay) -> str:
    return f"{md[1]:02d}-{md[0]:02d}"


def _check_month_day(md: MonthDay) -> None:
    """Raise unless (month, day) exists in every year, so a due day never silently shifts."""
    month, day = md
    if not 1 <= month <= 12:
        raise ValueError(f"{_format(md)}: month must be 01..12")
    if month == 2 and day == 29:
        raise ValueError(f"{_format(md)}: February 29 does not exist in most years")
    if day < 1:
        raise ValueError(f"{_format(md)}: day must be 01 or later")
    if day > _MONTH_DAYS[month - 1]:
        limit = 28 if month == 2 else _MONTH_DAYS[month - 1]
        raise ValueError(f"{_format(md)}: {_MONTH_NAMES[month - 1]} has only {limit} days")


def _check_one_per_slice(name: str, values: tuple[MonthDay, ...], kind: str) -> None:
    """Each period of the year needs exactly one due day, inside that period, in order."""
    size = _MONTHS_PER_KIND[kind]
    expected = 12 // size
    if len(values) != expected:
        listed = ",".join(_format(v) for v in values)
        raise ValueError(f"{name} needs {expected} due days (DD-MM), got {len(values)}: {listed!r}")
    for index, md in enumerate(values):
        _check_month_day(md)
        first, last = index * size + 1, (index + 1) * size
        if not first <= md[0] <= last:
            raise ValueError(
                f"{_format(md)}: {name} due day #{index + 1} must fall in "
                f"{_MONTH_NAMES[first - 1]}..{_MONTH_NAMES[last - 1]}"
            )


def _parse_day_months(text: str) -> tuple[MonthDay, ...]:
    """Parse "31-03,30-06" (DD-MM, the way Vietnamese write dates) into (month, day) pairs."""
    result = []
    for raw in text.split(","):
        item = raw.strip()
        match = _DAY_MONTH.match(item)
        if match is None:
            raise ValueError(f"{item!r}: expected a day as DD-MM, e.g. 31-12")
        result.append((int(match.group(2)), int(match.group(1))))
    return tuple(result)


@dataclass(frozen=True)
class DueRules:
    """The due day of each period as (month, day) pairs; defaults are the period ends."""

    quarterly: tuple[MonthDay, ...] = ((3, 31), (6, 30), (9, 30), (12, 31))
    annual: MonthDay = (12, 31)  # used by "annual" and "december"
    semiannual: tuple[MonthDay, ...] = ((6, 30), (12, 31))  # the plan's 6-monthly review

    def __post_init__(self) -> None:
        _check_one_per_slice("quarterly", self.quarterly, QUARTER)
        _check_one_per_slice("semiannual", self.semiannual, HALF)
        _check_month_day(self.annual)

    @classmethod
    def parse(cls, *, quarterly: str, annual: str, semiannual: str) -> DueRules:
        """Build rules from settings strings like "31-03,30-06,30-09,31-12" / "31-12"."""
        annual_days = _parse_day_months(annual)
        if len(annual_days) != 1:
            raise ValueError(f"annual needs exactly 1 due day (DD-MM), got {annual!r}")
        return cls(
            quarterly=_parse_day_months(quarterly),
            annual=annual_days[0],
            semiannual=_parse_day_months(semiannual),
        )

    def due_in(self, kind: str, year: int, index: int) -> date:
        """Due day of the index-th (0-based) period of that kind in year."""
        if kind == QUARTER:
            month, day = self.quarterly[index]
        elif kind == HALF:
            month, day = self.semiannual[index]
        else:
            month, day = self.annual
        return date(year, month, day)


@dataclass(frozen=True)
class Period:
    """One reporting period: the report for key is due on due."""

    key: str  # stable id: "2026-Q4", "2026", "2026-H2"
    kind: str  # "quarter" | "half" | "year"
    start: date
    end: date
    due: date


def _check_kind(kind: str) -> int:
    months = _MONTHS_PER_KIND.get(kind)
    if months is None:
        raise ValueError(f"{kind!r}: unknown period kind, expected one of {sorted(_MONTHS_PER_KIND)}")
    return months


def _period(kind: str, year: int, index: int, rules: DueRules) -> Period:
    """The index-th (0-based) period of that kind in year."""
    months = _check_kind(kind)
    first_month = index * months + 1
    start = date(year, first_month, 1)
    next_start = date(year + 1, 1, 1) if index == 12 // months - 1 else date(year, first_month + months, 1)
    suffix = {QUARTER: f"-Q{index + 1}", HALF: f"-H{index + 1}", YEAR: ""}[kind]
    return Period(
        key=f"{year}{suffix}",
        kind=kind,
        start=start,
        end=next_start - timedelta(days=1),
        due=rules.due_in(kind, year, index),
    )


def period_containing(kind: str, d: date, rules: DueRules | None = None) -> Period:
    """The quarter / half / year that contains d (e.g. to name the period a report is for)."""
    months = _check_kind(kind)
    return _period(kind, d.year, (d.month - 1) // months, rules or DueRules())


def one_off(due: date, opens: date) -> Period:
    """The one period of a one-off task due on ``due``: from ``opens`` (the day its plan is in
    force; ``due`` when that is later) to ``due``. Its key is the due day, "2027-06-30"."""
    return Period(key=due.isoformat(), kind=ONCE, start=min(opens, due), end=due, due=due)


def periods_between(
    cadence: str, first: date, last: date, rules: DueRules | None = None, *,
    due_on: date | None = None, opens: date | None = None,
) -> list[Period]:
    """Every period whose due day falls in [first, last], in due order: the recurring ones of
    the cadence, or a one-off task's one period (``due_on``: its date; ``opens``: the day its
    plan is in force, ``first`` when not given).

    Event-driven cadences return [] because their deadlines come from recorded events, and a
    one-off cadence without a date does too.
    """
    if cadence not in KIND_BY_CADENCE:
        raise ValueError(f"{cadence!r}: unknown cadence, expected one of {sorted(KIND_BY_CADENCE)}")
    if cadence == ONCE:
        if due_on is None or not first <= due_on <= last:
            return []
        return [one_off(due_on, opens or first)]
    kind = KIND_BY_CADENCE[cadence]
    if kind is None:
        return []
    rules = rules or DueRules()
    per_year = 12 // _MONTHS_PER_KIND[kind]
    # Due days lie inside their own period, hence inside its year: scanning the years of
    # [first, last] is enough.
    found = [
        _period(kind, year, index, rules)
        for year in range(first.year, last.year + 1)
        for index in range(per_year)
    ]
    return [p for p in found if first <= p.due <= last]


def event_due(occurred_on: date, days_allowed: int) -> date:
    """Due day of an event-driven item: calendar days after the event (as decrees count)."""
    if isinstance(days_allowed, bool) or not 0 <= days_allowed <= 366:
        raise ValueError(f"{days_allowed!r}: days allowed must be a whole number in 0..366")
    return occurred_on + timedelta(days=days_allowed)
