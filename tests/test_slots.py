"""When reminders go out: working days only, civil hours, once a day, escalating when late."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import WorkingCalendar
from domain.slots import ReminderPolicy, Slot, is_quiet, plan_slots, shift_out_of_quiet

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
POLICY = ReminderPolicy()
FOCAL = frozenset({"focal_point"})
LEADERS = frozenset({"focal_point", "leader"})
EVERYONE = frozenset({"focal_point", "leader", "coordinator"})


def at(y: int, m: int, d: int, hh: int = 8, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def plan(due: date, **kwargs: object) -> list[Slot]:
    policy = kwargs.pop("policy", POLICY)
    calendar = kwargs.pop("calendar", CAL)
    return plan_slots(due, calendar=calendar, policy=policy, tz=TZ, **kwargs)  # type: ignore[arg-type]


def summary(slots: list[Slot]) -> list[tuple[datetime, str, int]]:
    return [(s.at, s.kind, s.offset_days) for s in slots]


def test_weekend_reminders_move_to_friday() -> None:
    # Due Tue 30 Jun 2026 (end of Q2): "3 days before" is Sat 27 Jun -> Fri 26 Jun.
    assert summary(plan(date(2026, 6, 30))) == [
        (at(2026, 6, 16), "before", 14),
        (at(2026, 6, 23), "before", 7),
        (at(2026, 6, 26), "before", 3),
        (at(2026, 6, 29), "before", 1),
        (at(2026, 6, 30), "due", 0),
        (at(2026, 7, 1), "overdue", 1),
        (at(2026, 7, 3), "overdue", 3),
        (at(2026, 7, 9), "overdue", 7),
    ]


def test_escalation_audiences() -> None:
    audiences = {(s.kind, s.offset_days): s.audience for s in plan(date(2026, 6, 30))}
    assert audiences[("before", 14)] == FOCAL
    assert audiences[("due", 0)] == FOCAL
    assert audiences[("overdue", 1)] == FOCAL
    assert audiences[("overdue", 3)] == LEADERS
    assert audiences[("overdue", 7)] == EVERYONE


def test_overdue_counts_working_days_over_weekends() -> None:
    overdue = [s for s in plan(date(2026, 7, 3)) if s.kind == "overdue"]  # due on a Friday
    assert [s.at.date() for s in overdue] == [date(2026, 7, 6), date(2026, 7, 8), date(2026, 7, 14)]


def test_due_in_the_middle_of_tet_2027() -> None:
    # Tết 2027 is closed Thu 4 Feb .. Wed 10 Feb; a deadline on Mon 8 Feb is reminded on
    # Wed 3 Feb, the last working day before Tết, and is overdue from Thu 11 Feb.
    assert summary(plan(date(2027, 2, 8))) == [
        (at(2027, 1, 25), "before", 14),
        (at(2027, 2, 1), "before", 7),
        (at(2027, 2, 3), "due", 0),  # 3 and 1 days before collapse into the due reminder
        (at(2027, 2, 11), "overdue", 1),
        (at(2027, 2, 15), "overdue", 3),
        (at(2027, 2, 19), "overdue", 7),
    ]


def test_national_day_2027() -> None:
    # 2-3 Sep 2027 (Thu-Fri) are National Day: due Fri 3 Sep is reminded Wed 1 Sep.
    slots = plan(date(2027, 9, 3))
    due = next(s for s in slots if s.kind == "due")
    assert due.at == at(2027, 9, 1)
    assert next(s for s in slots if s.kind == "overdue").at == at(2027, 9, 6)


def test_make_up_saturday_receives_reminders() -> None:
    # Due Mon 24 Aug 2026; "1 day before" is Sun 23 Aug.
    plain = {s.offset_days: s.at for s in plan(date(2026, 8, 24)) if s.kind == "before"}
    assert plain[1] == at(2026, 8, 21)
    swapped = WorkingCalendar(working_days=[date(2026, 8, 22)])
    made_up = {s.offset_days: s.at for s in plan(date(2026, 8, 24), calendar=swapped) if s.kind == "before"}
    assert made_up[1] == at(2026, 8, 22)


def test_admin_day_off_moves_reminder_back() -> None:
    calendar = WorkingCalendar(days_off=[date(2026, 12, 30)])
    before = {s.offset_days: s.at for s in plan(date(2026, 12, 31), calendar=calendar) if s.kind == "before"}
    assert before[1] == at(2026, 12, 29)


def test_same_day_collapse_keeps_most_urgent() -> None:
    # Due Sat 31 Oct 2026: the due reminder and "1 day before" both land on Fri 30 Oct.
    slots = plan(date(2026, 10, 31))
    days = [s.at.date() for s in slots]
    assert len(days) == len(set(days))
    assert [(s.kind, s.offset_days) for s in slots if s.at.date() == date(2026, 10, 30)] == [("due", 0)]
    # "7 days before" (Sat 24 Oct -> Fri 23 Oct) and "3 days before" (Wed 28 Oct) survive.
    assert ("before", 7) in [(s.kind, s.offset_days) for s in slots]
    # Smaller before-offset wins: 2 and 3 days before a Monday both fall on Friday.
    policy = ReminderPolicy(before_days=(3, 2), on_due_day=False, overdue_working_days=())
    assert summary(plan(date(2026, 7, 6), policy=policy)) == [(at(2026, 7, 3), "before", 2)]


def test_not_before_drops_past_reminders() -> None:
    # Item opened Fri 3 Jul, due Wed 8 Jul: no "14 days" / "7 days" reminders in the past.
    slots = plan(date(2026, 7, 8), not_before=date(2026, 7, 3))
    assert summary(slots)[:3] == [
        (at(2026, 7, 3), "before", 3),  # Sun 5 Jul -> Fri 3 Jul, the opening day itself
        (at(2026, 7, 7), "before", 1),
        (at(2026, 7, 8), "due", 0),
    ]
    assert all(s.at.date() >= date(2026, 7, 3) for s in slots)


def test_send_at_in_evening_quiet_hours_moves_to_next_morning() -> None:
    policy = ReminderPolicy(send_at=time(22, 0), before_days=(), overdue_working_days=())
    assert summary(plan(date(2026, 7, 7), policy=policy)) == [(at(2026, 7, 8, 7, 0), "due", 0)]
    # From a Friday the next morning is Saturday: wait for Monday morning.
    assert summary(plan(date(2026, 7, 3), policy=policy)) == [(at(2026, 7, 6, 7, 0), "due", 0)]


def test_send_at_in_morning_quiet_hours_moves_to_quiet_end() -> None:
    policy = ReminderPolicy(send_at=time(6, 0), before_days=(), overdue_working_days=())
    assert summary(plan(date(2026, 7, 7), policy=policy)) == [(at(2026, 7, 7, 7, 0), "due", 0)]


@pytest.mark.parametrize(
    ("hh", "mm", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 59, True), (0, 0, True), (6, 59, True), (7, 0, False)],
)
def test_is_quiet_wraps_midnight(hh: int, mm: int, quiet: bool) -> None:
    assert is_quiet(at(2026, 7, 7, hh, mm), POLICY) is quiet


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (at(2026, 7, 7, 22, 0), at(2026, 7, 8, 7, 0)),
        (at(2026, 7, 7, 21, 0), at(2026, 7, 8, 7, 0)),
        (at(2026, 7, 7, 6, 0), at(2026, 7, 7, 7, 0)),
        (at(2026, 7, 7, 0, 15), at(2026, 7, 7, 7, 0)),
        (at(2026, 7, 7, 7, 0), at(2026, 7, 7, 7, 0)),
        (at(2026, 7, 7, 20, 59), at(2026, 7, 7, 20, 59)),
        (at(2026, 12, 31, 23, 0), at(2027, 1, 1, 7, 0)),
    ],
)
def test_shift_out_of_quiet(given: datetime, expected: datetime) -> None:
    assert shift_out_of_quiet(given, POLICY) == expected


def test_shift_keeps_the_callers_time_zone() -> None:
    utc = datetime(2026, 7, 7, 15, 0, tzinfo=ZoneInfo("UTC"))  # 22:00 in Hà Nội
    shifted = shift_out_of_quiet(utc.astimezone(TZ), POLICY)
    assert shifted == at(2026, 7, 8, 7, 0)


def test_shift_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        shift_out_of_quiet(datetime(2026, 7, 7, 22, 0), POLICY)  # noqa: DTZ001


def test_daytime_quiet_window_and_no_quiet_hours() -> None:
    lunch = ReminderPolicy(quiet_start=time(11, 30), quiet_end=time(13, 30))
    assert shift_out_of_quiet(at(2026, 7, 7, 12, 0), lunch) == at(2026, 7, 7, 13, 30)
    assert not is_quiet(at(2026, 7, 7, 22, 0), lunch)
    never = ReminderPolicy(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert not is_quiet(at(2026, 7, 7, 3, 0), never)


def test_policy_parse() -> None:
    policy = ReminderPolicy.parse(
        before_days="10, 5,2",
        on_due_day="no",
        overdue_working_days="2,5",
        leaders_from="2",
        coordinators_from="5",
        send_at="9:15",
        quiet_start="20:00",
        quiet_end="06:30",
    )
    assert policy == ReminderPolicy(
        before_days=(10, 5, 2),
        on_due_day=False,
        overdue_working_days=(2, 5),
        leaders_from=2,
        coordinators_from=5,
        send_at=time(9, 15),
        quiet_start=time(20, 0),
        quiet_end=time(6, 30),
    )
    assert ReminderPolicy.parse() == ReminderPolicy()
    assert ReminderPolicy.parse(before_days="").before_days == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"before_days": "14,x,3"}, "before_days: 'x' is not a whole number of days"),
        ({"before_days": "14,0"}, "before_days: 0 must be a whole number of days in 1..366"),
        ({"before_days": "7,7"}, "before_days: (7, 7) lists a day twice"),
        ({"overdue_working_days": "-1"}, "overdue_working_days: '-1' is not a whole number"),
        ({"overdue_working_days": "400"}, "overdue_working_days: 400 must be"),
        ({"send_at": "8h30"}, "send_at: '8h30' is not a time of day as HH:MM"),
        ({"quiet_start": "24:00"}, "quiet_start: '24:00' is not a valid time of day"),
        ({"quiet_end": "07:60"}, "quiet_end: '07:60' is not a valid time of day"),
        ({"on_due_day": "maybe"}, "on_due_day: 'maybe' is not yes/no"),
        ({"leaders_from": "three"}, "leaders_from: 'three' is not a whole number"),
        ({"coordinators_from": "0"}, "coordinators_from: 0 must be"),
    ],
)
def test_policy_parse_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ReminderPolicy.parse(**kwargs)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


PROPERTY_DUES = _days(date(2026, 12, 1), date(2027, 12, 31))  # Dec 2026 - Jan 2027 and all 2027


@pytest.mark.parametrize(
    "policy",
    [
        POLICY,
        ReminderPolicy(send_at=time(22, 0)),
        ReminderPolicy(send_at=time(6, 0)),
        ReminderPolicy(before_days=(30, 10, 5, 2, 1), overdue_working_days=(1, 2, 5, 10, 20)),
    ],
    ids=["default", "send-22h", "send-6h", "dense"],
)
def test_every_slot_on_a_working_day_in_civil_hours(policy: ReminderPolicy) -> None:
    calendar = WorkingCalendar()
    for due in PROPERTY_DUES:
        opened = due - timedelta(days=10)
        slots = plan_slots(due, calendar=calendar, policy=policy, tz=TZ, not_before=opened)
        assert slots, due
        for slot in slots:
            assert slot.at.tzinfo is TZ
            assert calendar.is_working_day(slot.at.date()), (due, slot)
            assert time(7, 0) <= slot.at.time() < time(21, 0), (due, slot)
            assert slot.at.date() >= opened, (due, slot)
            assert "focal_point" in slot.audience
        assert [s.at for s in slots] == sorted(s.at for s in slots)
        assert len({s.at.date() for s in slots}) == len(slots), due
