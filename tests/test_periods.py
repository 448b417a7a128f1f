"""Reporting periods from a task's cadence, due days from settings, event-driven due days."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.periods import KIND_BY_CADENCE, DueRules, Period, event_due, period_containing, periods_between

YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))


def test_quarterly_due_at_quarter_ends() -> None:
    found = periods_between("quarterly", *YEAR_2026)
    assert [p.key for p in found] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [p.due for p in found] == [
        date(2026, 3, 31),
        date(2026, 6, 30),
        date(2026, 9, 30),
        date(2026, 12, 31),
    ]
    assert found[3] == Period("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31), date(2026, 12, 31))


@pytest.mark.parametrize("cadence", ["annual", "december"])
def test_yearly_due_31_december(cadence: str) -> None:
    found = periods_between(cadence, date(2026, 1, 1), date(2027, 12, 31))
    assert [(p.key, p.kind, p.start, p.end, p.due) for p in found] == [
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31), date(2026, 12, 31)),
        ("2027", "year", date(2027, 1, 1), date(2027, 12, 31), date(2027, 12, 31)),
    ]


@pytest.mark.parametrize("cadence", ["ongoing", "periodic", "roadmap", "master_plan", "other"])
def test_review_cycle_every_six_months(cadence: str) -> None:
    found = periods_between(cadence, *YEAR_2026)
    assert [(p.key, p.kind, p.start, p.end, p.due) for p in found] == [
        ("2026-H1", "half", date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30)),
        ("2026-H2", "half", date(2026, 7, 1), date(2026, 12, 31), date(2026, 12, 31)),
    ]


@pytest.mark.parametrize("cadence", ["after_approval", "election"])
def test_event_driven_has_no_recurring_periods(cadence: str) -> None:
    assert KIND_BY_CADENCE[cadence] is None
    assert periods_between(cadence, *YEAR_2026) == []


def test_every_cadence_is_mapped() -> None:
    assert set(KIND_BY_CADENCE) == {
        "quarterly", "december", "annual", "periodic", "ongoing",
        "after_approval", "election", "roadmap", "master_plan", "once", "other",
    }  # fmt: skip


def test_a_one_off_has_one_period_from_its_plan_s_start_to_its_date() -> None:
    due, opens = date(2027, 6, 30), date(2027, 1, 1)
    found = periods_between("once", date(2027, 1, 1), date(2027, 12, 31), due_on=due, opens=opens)
    assert found == [Period("2027-06-30", "once", opens, due, due)]
    assert periods_between("once", date(2027, 7, 1), date(2027, 12, 31), due_on=due) == []
    assert periods_between("once", *YEAR_2026) == []  # no date: nothing owed
    # A plan in force after the date: the period is the day itself.
    late = periods_between("once", date(2027, 1, 1), date(2027, 12, 31), due_on=due,
                           opens=date(2027, 8, 1))
    assert [(p.start, p.due) for p in late] == [(due, due)]


def test_window_is_inclusive_on_due_days() -> None:
    found = periods_between("quarterly", date(2026, 6, 30), date(2026, 9, 30))
    assert [p.key for p in found] == ["2026-Q2", "2026-Q3"]
    assert periods_between("quarterly", date(2026, 7, 1), date(2026, 9, 29)) == []
    across = periods_between("quarterly", date(2026, 11, 1), date(2027, 4, 30))
    assert [p.key for p in across] == ["2026-Q4", "2027-Q1"]


def test_unknown_cadence_rejected() -> None:
    with pytest.raises(ValueError, match="weekly"):
        periods_between("weekly", *YEAR_2026)


def test_custom_due_days() -> None:
    rules = DueRules.parse(quarterly="20-03,20-06,20-09,15-12", annual="15-12", semiannual="15-06,15-12")
    assert [p.due for p in periods_between("quarterly", *YEAR_2026, rules)] == [
        date(2026, 3, 20),
        date(2026, 6, 20),
        date(2026, 9, 20),
        date(2026, 12, 15),
    ]
    assert [p.due for p in periods_between("annual", *YEAR_2026, rules)] == [date(2026, 12, 15)]
    assert [p.due for p in periods_between("ongoing", *YEAR_2026, rules)] == [
        date(2026, 6, 15),
        date(2026, 12, 15),
    ]


def test_parse_defaults_round_trip() -> None:
    parsed = DueRules.parse(quarterly="31-03, 30-06, 30-09, 31-12", annual="31-12", semiannual="30-06,31-12")
    assert parsed == DueRules()


GOOD = {"quarterly": "31-03,30-06,30-09,31-12", "annual": "31-12", "semiannual": "30-06,31-12"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quarterly", "31-03,31-06,30-09,31-12", "31-06: June has only 30 days"),
        ("annual", "30-02", "30-02: February has only 28 days"),
        ("annual", "29-02", "29-02: February 29"),
        ("annual", "31-12,31-12", "annual needs exactly 1"),
        ("semiannual", "31-12,31-12", "31-12: semiannual due day #1 must fall in January..June"),
        ("semiannual", "30-06", "semiannual needs 2 due days"),
        ("quarterly", "31-03,30-06,30-09", "quarterly needs 4 due days"),
        ("quarterly", "31-03,30-09,30-06,31-12", "30-09: quarterly due day #2 must fall in April..June"),
        ("quarterly", "31/03,30-06,30-09,31-12", "'31/03': expected a day as DD-MM"),
        ("annual", "", "expected a day as DD-MM"),
        ("annual", "01-13", "01-13: month must be 01..12"),
        ("annual", "00-12", "00-12: day must be 01 or later"),
    ],
)
def test_parse_rejects_bad_days(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DueRules.parse(**{**GOOD, field: value})


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ValueError, match="31-06"):
        DueRules(semiannual=((6, 31), (12, 31)))


@pytest.mark.parametrize(
    ("kind", "day", "key", "start", "end"),
    [
        ("quarter", date(2026, 2, 14), "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("quarter", date(2026, 12, 31), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("half", date(2026, 7, 1), "2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("half", date(2028, 2, 29), "2028-H1", date(2028, 1, 1), date(2028, 6, 30)),
        ("year", date(2027, 2, 6), "2027", date(2027, 1, 1), date(2027, 12, 31)),
    ],
)
def test_period_containing(kind: str, day: date, key: str, start: date, end: date) -> None:
    period = period_containing(kind, day, DueRules())
    assert (period.key, period.kind, period.start, period.end) == (key, kind, start, end)
    assert period.start <= day <= period.end
    assert period.start <= period.due <= period.end


def test_period_containing_unknown_kind() -> None:
    with pytest.raises(ValueError, match="month"):
        period_containing("month", date(2026, 1, 1), DueRules())


def test_event_due_counts_calendar_days() -> None:
    assert event_due(date(2026, 7, 1), 30) == date(2026, 7, 31)
    assert event_due(date(2026, 12, 20), 15) == date(2027, 1, 4)
    assert event_due(date(2026, 7, 1), 0) == date(2026, 7, 1)
    assert event_due(date(2027, 1, 1), 366) == date(2028, 1, 2)


@pytest.mark.parametrize("days", [-1, 367, True])
def test_event_due_rejects_out_of_range(days: int) -> None:
    with pytest.raises(ValueError, match=r"0\.\.366"):
        event_due(date(2026, 7, 1), days)
