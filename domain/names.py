"""Matching agency and class names as documents write them."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """NFC, single spaces, trimmed: the form names are stored in."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def name_key(text: str) -> str:
    """The key two spellings of one name share: case-folded, 'Ủy'/'Uỷ' unified, no trailing dot."""
    key = clean(text).casefold().rstrip(" .;,")
    return key.replace("uỷ", "ủy")


def split_list(value: str) -> list[str]:
    """'a; b;' -> ['a', 'b'] (the separator of the CSV files' list columns)."""
    return [clean(part) for part in value.split(";") if clean(part)]
