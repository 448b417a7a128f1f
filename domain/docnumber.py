"""Document numbers inside sentences, by the number/symbol pattern of Decree 30/2020/NĐ-CP.

An administrative document is cited by its number and symbol (``số, ký hiệu``):

- ``12/BC-SYT``, ``916/KH-UBND``, ``123/UBND-VX``: number / type and issuer joined by hyphens
  (a hyphen is required, so ``3/4``, ``24/7`` or ``50/Năm`` are not numbers);
- ``90/2013/NĐ-CP``, ``01/2026/TT-BNV``, ``25/2018/QH14``: number / year / symbol (legal documents);
- ``03-CT/TU``, ``15-NQ/TW``: number - type / issuer (documents of the Party).

Symbols are upper case (Đ included, plus the one trailing lower-case letter of ``TTg``, ``CTr``,
``TTr``); one typed all in lower case (``12/bc-syt``) counts when its type is a known document type,
and is filed upper case. A date right after a number (``ngày 20/12/2026``, ``ngày 20 tháng 12 năm
2026``, ``, 20-12-2026``) is that document's date, never part of the number: ``Số 125/BC-SYT ngày
20/12/2026`` is number ``125/BC-SYT`` dated 2026-12-20. A date without its year is not a date here
(the year cannot be known without a clock).

Spans are positions in the NFC form of the text (what the callers hold after normalising).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from domain.collation import fold

MAX_LENGTH = 64  # the report's document_number column

_UP, _LO = "A-ZĐ", "a-zđ"
# One part of a symbol: two or more capitals/digits, at most a trailing lower-case letter (TTg).
# Letters glued on after it ("SYTngày") are not part of it.
_PART = rf"[{_UP}](?:[{_UP}0-9]|[{_LO}](?![^\W\d_]))+"
_LOWER_PART = rf"[{_LO}][{_LO}0-9]*"
_START = r"(?<![\d/.,\-])(?P<num>\d{1,5})"
_SLASH = r"\s?/\s?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"


def _forms(part: str, end: str) -> re.Pattern[str]:
    return re.compile(
        rf"{_START}(?:"
        rf"{_SLASH}{_YEAR}{_SLASH}(?P<legal>{part}(?:-{part})*)"
        rf"|-(?P<ptype>{part})/(?P<party>{part}(?:-{part})*)"
        rf"|{_SLASH}(?P<atype>{part})-(?P<admin>{part}(?:-{part})*)"
        rf"){end}")


_STRICT = _forms(_PART, "")
_LOWER = _forms(_LOWER_PART, r"(?![^\W_])")

# Document types of Decree 30/2020 (appendix III) and of legal documents, for lower-case input.
_TYPES = frozenset({
    "nq", "qđ", "qd", "ct", "qc", "qyđ", "qyd", "tb", "hd", "hđ", "ctr", "kh", "pa", "đa", "da", "bc", "bb",
    "ttr", "cđ", "cd", "bgn", "btt", "guq", "gm", "ggt", "gnp", "pg", "pc", "pb", "nđ", "nd", "tt", "ttlt",
    "pl", "cv", "tc"})
_MIXED_CASE = {"TTG": "TTg", "CTR": "CTr", "TTR": "TTr"}

_DAY_MONTH_YEAR = (r"(?<!\d)(?P<d>\d{1,2})\s?(?P<sep>[/.\-])\s?(?P<m>\d{1,2})\s?(?P=sep)\s?(?P<y>\d{4})(?!\d)"
                   r"|(?<!\d)(?P<d2>\d{1,2})\s+thang\s+(?P<m2>\d{1,2})\s*,?\s*nam\s+(?P<y2>\d{4})(?!\d)"
                   r"|(?<!\d)(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})(?!\d)")
_DATE = re.compile(_DAY_MONTH_YEAR)
# What may stand between a number and its date (matched on the folded text).
_DATE_AFTER = re.compile(r"\s*[,(]?\s*(?:(?:ngay|ng\.|dated|date|of|on)\s*)?(?:" + _DAY_MONTH_YEAR + ")")


@dataclass(frozen=True)
class FoundDate:
    value: date
    start: int
    end: int


@dataclass(frozen=True)
class DocumentNumber:
    """A document cited in a text: ``number`` as filed, its span, and its date if one follows."""

    number: str
    start: int
    end: int
    date: date | None = None
    date_end: int | None = None  # where the date after the number ends

    @property
    def end_with_date(self) -> int:
        return self.date_end if self.date_end is not None else self.end


def find_dates(text: str) -> list[FoundDate]:
    """Every full date in ``text`` (day, month and year; impossible dates are not dates)."""
    folded = fold(unicodedata.normalize("NFC", text))
    found = []
    for match in _DATE.finditer(folded):
        value = _date_of(match)
        if value is not None:
            found.append(FoundDate(value, match.start(), match.end()))
    return found


def _date_of(match: re.Match[str]) -> date | None:
    groups = match.groupdict()
    for d, m, y in (("d", "m", "y"), ("d2", "m2", "y2"), ("d3", "m3", "y3")):
        if groups.get(d):
            try:
                value = date(int(groups[y]), int(groups[m]), int(groups[d]))
            except ValueError:
                return None
            return value if 1900 <= value.year <= 2100 else None
    return None


def find_document_numbers(text: str) -> list[DocumentNumber]:
    """Every document number in ``text``, in order, each with the date that follows it."""
    text = unicodedata.normalize("NFC", text)
    folded = fold(text)
    found: list[DocumentNumber] = []
    for match in sorted([*_STRICT.finditer(text), *_valid_lower(text)], key=lambda m: m.start()):
        if found and match.start() < found[-1].end:
            continue  # overlaps the previous one
        number = _filed(match)
        if len(number) > MAX_LENGTH:
            continue
        after = _DATE_AFTER.match(folded, match.end())
        value = _date_of(after) if after else None
        found.append(DocumentNumber(number, match.start(), match.end(), value,
                                    after.end() if after and value else None))
    return found


def first_document_number(text: str) -> DocumentNumber | None:
    found = find_document_numbers(text)
    return found[0] if found else None


def _valid_lower(text: str) -> list[re.Match[str]]:
    """Lower-case citations: the year form, or a known document type first."""
    valid = []
    for match in _LOWER.finditer(text):
        kind = match.group("atype") or match.group("ptype")
        if match.group("year") or (kind and kind in _TYPES):
            valid.append(match)
    return valid


def _filed(match: re.Match[str]) -> str:
    """The number as filed: no spaces, upper-case symbol (``TTg`` keeps its ``g``)."""
    num = match.group("num")
    if match.group("year"):
        number = f"{num}/{match.group('year')}/{match.group('legal')}"
    elif match.group("ptype"):
        number = f"{num}-{match.group('ptype')}/{match.group('party')}"
    else:
        number = f"{num}/{match.group('atype')}-{match.group('admin')}"
    if number == number.lower():
        number = re.sub(r"[A-ZĐ]+", lambda m: _MIXED_CASE.get(m.group(), m.group()), number.upper())
    return number


# --- the issuer of a document dondoc writes -------------------------------------------------

@dataclass(frozen=True)
class Issuer:
    """Who issues a document dondoc writes (the official report): Decree 30/2020's header names
    the governing body over the issuing one ("UBND TỈNH QUẢNG NINH" over "SỞ NỘI VỤ"); ``name``
    is the issuing body inside sentences; the symbol ends the number ("…/BC-SNV"); the place
    heads the date line; ``recipient`` is who the report goes to (first in "Nơi nhận"); the
    signer closes it. Values come from settings (DONDOC_REPORT_*)."""

    parent: str = "UBND TỈNH QUẢNG NINH"
    body: str = "SỞ NỘI VỤ"
    name: str = "Sở Nội vụ"
    symbol: str = "SNV"
    recipient: str = "UBND tỉnh"
    place: str = "Quảng Ninh"
    signer_title: str = "GIÁM ĐỐC"
    signer_name: str = ""


def blank_number(kind: str, symbol: str) -> str:
    """The number and symbol of a document to be numbered when it is issued: ``…/BC-SNV``
    (the number is filled in by the clerk who registers it)."""
    return f"…/{kind}-{symbol}"
