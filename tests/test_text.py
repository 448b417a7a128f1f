"""The text normaliser (domain/text.py): properties over arbitrary Unicode, every C0 and C1
control character, lone surrogates and line separators included."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.text import NulCharacter, normalize, scrub

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
HOSTILE = st.sampled_from([*CONTROLS, "\u2028", "\u2029", "\ud800", "\udfff", "\r\n", "\ufeff",
                           "\u202e", "\u0301", "e\u0301", "\ufffe", "\uffff"])
# Arbitrary code points (surrogates too), with controls and separators mixed in often.
TEXT = st.lists(st.one_of(st.characters(codec=None, exclude_categories=()), HOSTILE), max_size=60) \
    .map("".join)
ALLOWED_CONTROLS = {"\n", "\t"}


def _controls(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) == "Cc"} - ALLOWED_CONTROLS


@settings(deadline=None)  # a shared machine: timing is not what this tests
@given(TEXT)
def test_scrub_is_idempotent_and_leaves_no_controls(text: str) -> None:
    once = scrub(text, single_line=False)
    assert scrub(once, single_line=False) == once
    assert not _controls(once)
    assert "\x00" not in once and "\u2028" not in once and "\u2029" not in once
    assert unicodedata.is_normalized("NFC", once)
    once.encode("utf-8")  # no lone surrogate survives: both databases store UTF-8


@settings(deadline=None)  # a shared machine: timing is not what this tests
@given(TEXT)
def test_single_line_has_no_line_breaks_or_tabs(text: str) -> None:
    line = scrub(text)
    assert "\n" not in line and "\t" not in line and not _controls(line)
    assert scrub(line) == line


@settings(deadline=None)  # a shared machine: timing is not what this tests
@given(TEXT)
def test_normalize_refuses_nul_and_otherwise_agrees_with_scrub(text: str) -> None:
    if "\x00" in text:
        with pytest.raises(NulCharacter):
            normalize(text)
        return
    once = normalize(text)
    assert once == scrub(text, single_line=False)
    assert normalize(once) == once


def test_what_word_and_windows_put_in_become_newlines() -> None:
    assert normalize("a\x0bb\r\nc\rd\u2028e\u2029f\x0cg\x85h") == "a\nb\nc\nd\ne\nf\ng\nh"
    assert normalize("x\x1b[31my\x07\x7f\x9b") == "x[31my"
    assert normalize("tab\tkept\nand newline") == "tab\tkept\nand newline"
    # A control between a letter and its accent is removed, then the two compose.
    assert normalize("Ha\x01\u0323 Long") == "Hạ Long"
    assert scrub("Lan\x00 <Thị>\n& Co") == "Lan <Thị> & Co"
    with pytest.raises(NulCharacter, match="note contains a NUL"):
        normalize("ghi chú\x00", what="note")
