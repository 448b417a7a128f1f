"""Working days as Vietnamese offices count them: weekends, public holidays, admin swaps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.calendar import WorkingCalendar

# Tết 2027 as `holidays` gives it for VN: 29th of the lunar year (Thu 4 Feb) to the fifth day
# (Wed 10 Feb); Lunar New Year's Day is Sat 6 Feb 2027.
TET_2027 = [date(2027, 2, 4) + timedelta(days=i) for i in range(7)]


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(language="en_US")


def test_weekdays_work_weekends_do_not(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 7, 3))  # Friday
    assert not cal.is_working_day(date(2026, 7, 4))  # Saturday
    assert not cal.is_working_day(date(2026, 7, 5))  # Sunday


def test_tet_2027_is_closed(cal: WorkingCalendar) -> None:
    assert all(not cal.is_working_day(d) for d in TET_2027)
    assert cal.is_working_day(date(2027, 2, 3))  # Wednesday before Tết
    assert cal.is_working_day(date(2027, 2, 11))  # Thursday after Tết
    assert cal.holiday_name(date(2027, 2, 6)) == "Lunar New Year"
    assert cal.holiday_name(date(2027, 2, 3)) is None


def test_tet_name_in_vietnamese() -> None:
    assert WorkingCalendar(language="vi").holiday_name(date(2027, 2, 6)) == "Tết Nguyên Đán"


def test_national_day(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(date(2026, 9, 2)) == "National Day"
    assert not cal.is_working_day(date(2026, 9, 2))
    assert not cal.is_working_day(date(2027, 9, 2))
    assert not cal.is_working_day(date(2027, 9, 3))
    # 2026: 31 Aug (swapped), 1-2 Sep closed, so a deadline on 2 Sep moves back to Fri 28 Aug.
    assert cal.on_or_before(date(2026, 9, 2)) == date(2026, 8, 28)


def test_on_or_before_and_after(cal: WorkingCalendar) -> None:
    assert cal.on_or_before(date(2026, 7, 3)) == date(2026, 7, 3)
    assert cal.on_or_before(date(2026, 7, 5)) == date(2026, 7, 3)
    assert cal.on_or_after(date(2026, 7, 4)) == date(2026, 7, 6)
    assert cal.on_or_before(date(2027, 2, 8)) == date(2027, 2, 3)
    assert cal.on_or_after(date(2027, 2, 5)) == date(2027, 2, 11)


def test_admin_day_off() -> None:
    cal = WorkingCalendar(days_off=[date(2026, 12, 30)])
    assert not cal.is_working_day(date(2026, 12, 30))
    assert cal.on_or_before(date(2026, 12, 30)) == date(2026, 12, 29)


def test_make_up_saturday_is_working() -> None:
    saturday = date(2026, 8, 22)  # the official make-up day for 31 Aug 2026
    assert not WorkingCalendar().is_working_day(saturday)
    cal = WorkingCalendar(working_days=[saturday])
    assert cal.is_working_day(saturday)
    assert cal.on_or_before(date(2026, 8, 23)) == saturday


def test_make_up_day_beats_holiday_only_when_listed() -> None:
    assert WorkingCalendar(working_days=[date(2027, 2, 4)]).is_working_day(date(2027, 2, 4))
    assert not WorkingCalendar().is_working_day(date(2027, 2, 4))


def test_custom_weekend() -> None:
    cal = WorkingCalendar(weekend=frozenset({6}))
    assert cal.is_working_day(date(2026, 7, 4))  # Saturday works
    assert not cal.is_working_day(date(2026, 7, 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days_off": [date(2026, 8, 22)], "working_days": [date(2026, 8, 22)]}, "2026-08-22"),
        ({"weekend": frozenset(range(7))}, "no working days"),
        ({"weekend": frozenset({7})}, "weekend"),
    ],
)
def test_rejects_contradictions(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(**kwargs)  # type: ignore[arg-type]


def test_add_working_days_skips_weekends_and_holidays(cal: WorkingCalendar) -> None:
    friday = date(2026, 7, 3)
    assert cal.add_working_days(friday, 0) == friday
    assert cal.add_working_days(friday, 1) == date(2026, 7, 6)
    assert cal.add_working_days(friday, 5) == date(2026, 7, 10)
    assert cal.add_working_days(date(2026, 7, 6), -1) == friday
    assert cal.add_working_days(date(2026, 7, 4), -1) == friday  # from a Saturday
    assert cal.add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)  # across Tết
    assert cal.add_working_days(date(2027, 2, 11), -1) == date(2027, 2, 3)


def test_working_days_between(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 7, 3), date(2026, 7, 3)) == 0
    assert cal.working_days_between(date(2026, 7, 3), date(2026, 7, 10)) == 5
    assert cal.working_days_between(date(2026, 7, 10), date(2026, 7, 3)) == -5
    assert cal.working_days_between(date(2027, 2, 3), date(2027, 2, 11)) == 1


def test_between_inverts_add(cal: WorkingCalendar) -> None:
    start = date(2026, 12, 1)
    for offset in range(60):
        a = start + timedelta(days=offset)
        for n in (-9, -1, 1, 3, 7, 20):
            assert cal.working_days_between(a, cal.add_working_days(a, n)) == n


def test_holidays_loaded_lazily_per_year(cal: WorkingCalendar) -> None:
    cal.is_working_day(date(2027, 1, 1))
    assert set(cal._holidays_by_year) == {2027}
    assert not cal.is_working_day(date(2027, 1, 1))  # New Year's Day
    assert cal.is_working_day(date(2026, 12, 31))
    assert set(cal._holidays_by_year) == {2026, 2027}
