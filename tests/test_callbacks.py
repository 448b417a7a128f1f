"""views/callbacks.py: every button kind packs and unpacks to itself; anything else is refused."""

from __future__ import annotations

import pytest

from views.callbacks import (
    BadCallbackData,
    CallbackData,
    CallbackTooLong,
    DraftStep,
    ReportItem,
    ReviewAction,
    ReviewNext,
    TaskItem,
    decode,
    family,
)


@pytest.mark.parametrize("button", [ReportItem(7), TaskItem(12, 3), DraftStep(5, "state", "done"),
                                    ReviewAction(9, 2, "a"), ReviewNext()])
def test_round_trip(button: CallbackData) -> None:
    data = button.pack()
    assert decode(data) == button
    assert type(button).unpack(data) == button
    assert type(button).owns(data)


def test_wire_format_is_the_one_buttons_in_chats_already_carry() -> None:
    assert ReportItem(42).pack() == "rp:42"
    assert TaskItem(42, 1).pack() == "ti:42:1"
    assert DraftStep(3, "evidence", "skip").pack() == "d:3:evidence:skip"
    assert ReviewNext().pack() == "rq"


@pytest.mark.parametrize("data", ["rp", "rp:", "rp:1:2", "rp:x", "rp:1.5", "rp:" + str(2**63),
                                  "rp:99999999999999999", "ti:1", "zz:1", "", "d:1:a b:c", "rq:1",
                                  "rp:１", "rp:-"])
def test_forged_or_malformed_data_is_refused(data: str) -> None:
    with pytest.raises(BadCallbackData):
        decode(data)


def test_non_string_data_is_refused() -> None:
    with pytest.raises(BadCallbackData):
        ReportItem.unpack(None)
    assert not ReportItem.owns(None)


def test_over_64_bytes_is_an_error_not_an_assert() -> None:
    with pytest.raises(CallbackTooLong):
        DraftStep(1, "s" * 40, "a" * 40).pack()
    with pytest.raises(CallbackTooLong):
        DraftStep(1, "not ascii ư", "a").pack()


def test_prefixes_are_told_apart() -> None:
    assert not ReportItem.owns("rn:1")
    assert family("r")("rp:1") is False  # a family is a whole token, not a letter
    assert family("rp")("rp:1") is True


def test_a_prefix_cannot_be_used_twice() -> None:
    with pytest.raises(TypeError):
        class Again(CallbackData):
            PREFIX = "rp"
