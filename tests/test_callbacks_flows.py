"""The button kinds of /status, groups, broadcasts and /event: the wire format the bot has always
sent (buttons already in chats keep working), and what the codec refuses before any handler."""

from __future__ import annotations

from datetime import date

import pytest

from views.callbacks import (
    BadCallbackData,
    BroadcastAudience,
    BroadcastReceived,
    CallbackData,
    EventCancel,
    EventConfirm,
    EventDate,
    GroupClass,
    GroupPurpose,
    StatusAgency,
    StatusSummary,
    decode,
    ymd,
)


@pytest.mark.parametrize(("button", "wire"), [
    (StatusSummary("2026-Q3"), "st:p:2026-Q3:0:0"), (StatusAgency("2026-H2", 17, 2), "st:g:2026-H2:17:2"),
    (BroadcastAudience(5, "gf"), "bc:a:5:gf"), (BroadcastReceived(5), "bc:ack:5"),
    (GroupPurpose("focal_points"), "grp:p:focal_points"), (GroupClass(3), "grp:c:3"),
    (EventDate(4, ymd(date(2026, 11, 16))), "ev:d:4:20261116"),
    (EventConfirm(4, 20261116, 30), "ev:ok:4:20261116:30"),
    (EventCancel(), "ev:x"),
])
def test_wire_format_is_the_one_in_chats(button: CallbackData, wire: str) -> None:
    assert button.pack() == wire
    assert decode(wire) == button


def test_an_event_date_comes_back_as_a_date() -> None:
    pressed = decode("ev:n:4:20240229:15")
    assert getattr(pressed, "occurred_on") == date(2024, 2, 29)  # noqa: B009


@pytest.mark.parametrize("data", [
    "st:p:2026-Q5:0:0", "st:p:2026-H3:0:0", "st:p:1900:0:0", "st:p:3000:0:0", "st:a:2026-Q3:1",
    f"st:g:2026-Q3:{2**63}:0", "bc:ok", f"bc:ok:{2**63}", "bc:a:1", "bc:a:1:" + "e" * 41, "grp:c:x",
    "ev:d:1:20230229", "ev:d:1:20261340", "ev:d:1:1", f"ev:n:1:20261116:{2**63}", "ev:x:1", "ev:",
])
def test_refused_before_any_handler(data: str) -> None:
    with pytest.raises(BadCallbackData):
        decode(data)


def test_status_buttons_carry_a_plan_only_when_one_is_chosen() -> None:
    from views.callbacks import PlanPick, StatusAxis, StatusSummary, decode

    assert StatusSummary("2027-Q1").pack() == "st:p:2027-Q1:0:0"  # the shape older buttons have
    assert StatusSummary("2027-Q1", plan=7).pack() == "st:p:2027-Q1:0:0:7"
    assert decode("st:p:2027-Q1:0:0:7") == StatusSummary("2027-Q1", plan=7)
    assert decode("st:a:2027-Q1:2:1") == StatusAxis("2027-Q1", 2, 1)
    assert decode(StatusAxis("2027-Q1", 2, 1, plan=3).pack()) == StatusAxis("2027-Q1", 2, 1, plan=3)
    assert decode(PlanPick("report_doc", 3, "2027").pack()) == PlanPick("report_doc", 3, "2027")
    for bad in ("st:p:2027-Q1:0:0:0", "st:p:2027-Q1:0:0:7:1", "pp:chart:3:2027", "pp:export:3:2027-Q9",
                "pp:export:3"):
        with pytest.raises(BadCallbackData):
            decode(bad)
