"""Pure parser of a plan document's appendix: the task registry table.

The input is markdown converted from a PDF (see ``docs/domain.md``), or a Word or Excel
document that ``domain.plan_readers`` turned into rows (``parse_source``): both go through the
same table reader, so the rules below are written once.  Only the appendix
table matters: it is located by its header row, the header pair repeated after each page
break is skipped, merged cells are resolved (STT/content, lead agencies and timeframe are
inherited), agency lists are split, and every timeframe gets a normalized cadence.

The parser is strict on purpose: a document that looks damaged (cut short, rows repeated,
lost or moved, cells merged or split, markup or control characters) is refused with the line
and the task the row would have become, because importing it would quietly rewrite or retire
tasks.  It reads in steps, each a small function: size, decoding, lines, header, preamble, line
kinds, then the table reader (numbering, merged cells, cell checks), then the codes.

No database, no Telegram, no clock: ``parse_plan(bytes) -> ParsedPlan`` or ``PlanFormatError``.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from domain.collation import fold

__all__ = [
    "CADENCES",
    "EXPECTED_HEADER",
    "EXPECTED_SUBHEADER",
    "MAX_LINE_CHARS",
    "MAX_PLAN_BYTES",
    "ParsedAxis",
    "ParsedPlan",
    "ParsedTask",
    "PlanFormatError",
    "PlanSource",
    "SourceRow",
    "looks_like_header",
    "normalize_cadence",
    "parse_deadline",
    "parse_plan",
    "parse_source",
    "split_agencies",
]

NCOLS = 7
EXPECTED_HEADER: tuple[str, ...] = (
    "STT",
    "Nội dung",
    "Nhiệm vụ cụ thể",
    "Trách nhiệm cụ thể",
    "",
    "Thời gian thực hiện",
    "Ghi chú",
)
EXPECTED_SUBHEADER: tuple[str, ...] = ("", "", "", "Đơn vị chủ trì", "Đơn vị phối hợp", "", "")

# Column indexes of a data row, and how messages name them.
_STT, _CONTENT, _TASK, _LEAD, _COORD, _TIME, _NOTE = range(NCOLS)
_COLUMN_NAMES = ("STT", "content", "task", "lead agencies", "coordinating agencies", "timeframe",
                 "note")

# Plan 916's appendix is 16 KB and the whole plan 66 KB: 2 MB is room for a plan thirty times
# its size, and a bound on the work (and memory) a file can cost before it is refused.
MAX_PLAN_BYTES = 2 * 1024 * 1024
# The seed's longest line has 1,799 characters.
MAX_LINE_CHARS = 20_000

CADENCES: tuple[str, ...] = (
    "quarterly",
    "december",
    "annual",
    "periodic",
    "ongoing",
    "after_approval",
    "election",
    "roadmap",
    "master_plan",
    "once",
    "other",
)


class PlanFormatError(ValueError):
    """The document cannot be read as a plan. The message says what is wrong and where:
    ``[source: ][line N: ][task C: ]reason``."""

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None,
                 task: str | None = None, unit: str = "line") -> None:
        self.reason = message
        self.line = line
        self.source = source
        self.task = task
        self.unit = unit  # what ``line`` counts: "line" (text), "row" (sheet), "table row" (Word)
        prefix = f"{source}: " if source else ""
        where = f"{unit} {line}: " if line is not None else ""
        what = f"task {task}: " if task else ""
        super().__init__(f"{prefix}{where}{what}{message}")


@dataclass(frozen=True)
class ParsedAxis:
    number: int
    name: str


@dataclass(frozen=True)
class ParsedTask:
    code: str
    axis: int
    row: str
    position: int
    content: str
    task: str
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    coordination_note: str
    timeframe: str
    cadence: str
    note: str
    line: int
    # A one-off task (cadence "once"): the date its timeframe gives ("Trước 30/6/2027").
    due_on: datetime.date | None = None
    # What the task delivers, from a "Sản phẩm" / "Kết quả đầu ra" column ("" without one).
    expected_output: str = ""


@dataclass(frozen=True)
class ParsedPlan:
    number: str | None
    issued_on: datetime.date | None
    title: str
    axes: tuple[ParsedAxis, ...]
    tasks: tuple[ParsedTask, ...]
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")


def _clean(text: str) -> str:
    """NFC, strip, collapse runs of whitespace."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _key(text: str) -> str:
    """Comparison key: cleaned and case-folded."""
    return _clean(text).casefold()


# --------------------------------------------------------------------------- cadence

_CADENCE_BY_TIMEFRAME: dict[str, str] = {
    _key(k): v
    for k, v in {
        "Định kỳ hàng quý": "quarterly",
        "Tháng 12 hàng năm": "december",
        "Hàng năm": "annual",
        "Định kỳ": "periodic",
        "Thường xuyên": "ongoing",
        "Ngay sau khi cấp có thẩm quyền phê duyệt": "after_approval",
        "Sau khi cấp có thẩm quyền phê duyệt": "after_approval",
        "Trước và trong quá trình bầu cử": "election",
        "Theo lộ trình": "roadmap",
        "Theo quy hoạch, kế hoạch": "master_plan",
    }.items()
}


def normalize_cadence(timeframe: str) -> str:
    """Map a timeframe as written to one of ``CADENCES`` ("other" when unknown): a recurring
    or event-driven one by its words, an explicit deadline (``parse_deadline``) as "once"."""
    key = _key(timeframe).rstrip(" .;")
    cadence = _CADENCE_BY_TIMEFRAME.get(key)
    if cadence is not None:
        return cadence
    try:
        return "once" if parse_deadline(timeframe) is not None else "other"
    except ValueError:  # a date that does not exist: not a deadline
        return "other"


def _fold(text: str) -> str:
    """Comparison key without case or diacritics ("Thời hạn" → "thoi han"), whitespace
    (line breaks too) collapsed."""
    return fold(_clean(text))


_ROMAN_NUMBERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# On the folded text. "Trước", "đến", "chậm nhất", "hoàn thành trước" before a day; "trong",
# "hoàn thành trong" before a month, quarter or year (a quarter "before" would be ambiguous).
_BY = r"(?:(?:hoan thanh |thuc hien )?(?:truoc|den|cham nhat(?: la)?|trong)(?: ngay)? )?"
_IN = r"(?:(?:hoan thanh |thuc hien )?trong (?:nam |thang |quy )?)?"
_DEADLINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("day", re.compile(_BY + r"(?:ngay )?(?P<d>\d{1,2}) ?[/.-] ?(?P<m>\d{1,2}) ?[/.-] ?(?P<y>\d{4})")),
    ("day", re.compile(_BY + r"(?:ngay )?(?P<d>\d{1,2}) thang (?P<m>\d{1,2}) nam (?P<y>\d{4})")),
    ("quarter", re.compile(_IN + r"quy (?P<q>iv|iii|ii|i|[1-4]) ?(?:/|nam|-) ?(?P<y>\d{4})")),
    ("half", re.compile(_IN + r"6 thang (?P<h>dau|cuoi) nam (?P<y>\d{4})")),
    ("month", re.compile(_IN + r"thang (?P<m>\d{1,2}) ?(?:/|nam|-) ?(?P<y>\d{4})")),
    ("year", re.compile(_IN + r"nam (?P<y>\d{4})")),
)


def parse_deadline(timeframe: str) -> datetime.date | None:
    """The date an explicit deadline gives, or ``None`` when the timeframe is not one.

    "Trước 30/6/2027", "31/12/2027", "Trước ngày 15 tháng 3 năm 2027": that day; "Quý II/2027"
    (or "Quý 2 năm 2027"): the quarter's last day; "6 tháng đầu năm 2027": 30 June; "Tháng
    9/2027": the month's last day; "Năm 2027": 31 December. Case and diacritics do not matter.
    Raises ``ValueError`` for a day that does not exist ("30/2/2027")."""
    key = _fold(timeframe).rstrip(" .;")
    for kind, pattern in _DEADLINES:
        found = pattern.fullmatch(key)
        if found is None:
            continue
        year = int(found["y"])
        if not 2000 <= year <= 2100:
            return None
        if kind == "day":
            return datetime.date(year, int(found["m"]), int(found["d"]))
        if kind == "quarter":
            quarter = _ROMAN_NUMBERS.get(found["q"]) or int(found["q"])
            return _month_end(year, quarter * 3)
        if kind == "half":
            return _month_end(year, 6 if found["h"] == "dau" else 12)
        if kind == "month":
            month = int(found["m"])
            if not 1 <= month <= 12:
                raise ValueError(f"month {month} does not exist")
            return _month_end(year, month)
        return datetime.date(year, 12, 31)
    return None


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


# --------------------------------------------------------------------------- agencies

# Names that contain commas and must never be split.
_PROTECTED = re.compile(r"(?:các\s+)?sở\s*,\s*ban\s*,\s*ngành", re.IGNORECASE)

# Words an agency name starts with (compared case-insensitively, on whole words).
_AGENCY_WORDS: tuple[str, ...] = (
    "Sở",
    "UBND",
    "Ủy ban",
    "Uỷ ban",
    "Các",
    "Ban",
    "Thanh tra",
    "Công an",
    "Bảo hiểm",
    "Văn phòng",
    "Đài",
    "Báo",
    "UBMTTQ",
    "MTTQ",
    "Mặt trận",
    "Trung tâm",
    "Cục",
    "Tổng cục",
    "Chi cục",
    "Phòng",
    "Hội",
    "Hội đồng",
    "HĐND",
    "Hiệp hội",
    "Đoàn",
    "Liên đoàn",
    "Liên minh",
    "Kho bạc",
    "Ngân hàng",
    "Bộ",
    "Tỉnh",
    "Tỉnh ủy",
    "Tỉnh uỷ",
    "Huyện",
    "Xã",
    "Phường",
    "Thị trấn",
    "Trường",
    "Bệnh viện",
    "Viện",
    "Tòa án",
    "Toà án",
    "Cơ quan",
    "Đơn vị",
    "Chi nhánh",
    "Công ty",
    "Quỹ",
    "Điện lực",
    "Chính phủ",
    "Thủ tướng",
    "Đảng ủy",
    "Đảng uỷ",
    "Cảnh sát",
    "Bộ chỉ huy",
    "Bộ đội",
)
_AGENCY_START = re.compile(
    r"^(?:" + "|".join(re.escape(_clean(w)) for w in _AGENCY_WORDS) + r")(?!\w)",
    re.IGNORECASE,
)
_ELLIPTICAL = re.compile(r"^cấp\s", re.IGNORECASE)
_LEVEL = re.compile(r"\scấp\s", re.IGNORECASE)


def _is_agency(name: str) -> bool:
    return _AGENCY_START.match(name) is not None


def split_agencies(cell: str) -> tuple[tuple[str, ...], str]:
    """Split an agency cell into names; return ``(names, coordination_note)``.

    Names are separated by ``;`` or ``,`` (empties dropped), except inside protected names
    such as ``Các Sở, ban, ngành``.  An elliptical item ``cấp xã`` takes the prefix of the
    previous item (``Công an cấp huyện, cấp xã`` → ``Công an cấp xã``).  A cell that is an
    instruction rather than a list of agencies yields no names and the whole (cleaned) cell
    as the note.
    """
    text = _clean(cell)
    if not text:
        return (), ""
    names: list[str] = []
    seen: set[str] = set()  # a set: a long cell must not cost quadratic time
    for item in _list_items(text):
        if _ELLIPTICAL.match(item) and names:
            item = f"{_level_prefix(names[-1])} {item}"
        if item not in seen:
            seen.add(item)
            names.append(item)
    if not names:
        return (), ""
    if not all(_is_agency(n) for n in names):
        return (), text
    return tuple(names), ""


def _list_items(text: str) -> list[str]:
    """The cell's items split on ``;`` and ``,``, keeping protected names whole."""
    protected: list[str] = []

    def _hold(m: re.Match[str]) -> str:
        protected.append(m.group(0))
        return f"\x00{len(protected) - 1}\x00"

    held = _PROTECTED.sub(_hold, text)
    items = (re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], raw)
             for raw in re.split(r"[;,]", held))
    return [cleaned for cleaned in map(_clean, items) if cleaned]


def _level_prefix(previous: str) -> str:
    """What an elliptical ``cấp xã`` borrows: ``Công an cấp huyện`` → ``Công an``."""
    levels = list(_LEVEL.finditer(previous))
    if levels:
        return previous[: levels[-1].start()]
    return previous.rsplit(" ", 1)[0] if " " in previous else previous



# --------------------------------------------------------------------------- document

_AXIS = re.compile(
    r"^(?:<[^>]*>|\*\*|\s)*(?:trục|trực|thực)\s+nội\s+dung\s*:\s*(?P<name>.*)$",
    re.IGNORECASE,
)
# ``[^<>]``, not ``[^>]``: a run of unclosed ``<`` must cost linear time, not quadratic.
_TAG = re.compile(r"<[^<>]*>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*)$")
_PLAN_NUMBER = re.compile(
    r"kế\s+hoạch\s+số\s*:?\s*(?P<num>\d+)\s*/\s*(?P<suffix>[\w\-]+)", re.IGNORECASE
)
_PLAN_DATE = re.compile(
    r"ngày\s*(?P<d>\d{1,2})\s*tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})", re.IGNORECASE
)
# Page numbers a conversion leaves between the table's chunks: "- 2 -", "Trang 2", "2/5".
_PAGE_MARK = re.compile(
    r"^[-–—\s]*(?:(?:trang|page)\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?[-–—\s]*$", re.IGNORECASE
)
_STT_NUMBER = re.compile(r"[0-9]{1,4}")
_LEADING_NUMBER = re.compile(r"([0-9]{1,4})(?![0-9])")
# The tags the conversion wraps an axis heading in; any other markup there is refused.
_HEADING_TAGS = re.compile(r"</?(?:b|strong|i|em|u)>|\*\*|__", re.IGNORECASE)
# Plan cells are plain text: a tag or an entity in one was injected or is a conversion fault.
_MARKUP = re.compile(r"[<>&]")
# What no line of a plan holds: C0 controls except tab and line breaks, DEL, C1 controls,
# invisible formatting characters (soft hyphen, zero-width, bidi controls, BOM, line and
# paragraph separators), and U+FFFD (text a conversion already lost).
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffd]"
)


def _strip_markup(text: str) -> str:
    text = _TAG.sub("", text)
    text = text.replace("**", "").replace("__", "")
    return _clean(text)


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _fmt_cols(cols: Sequence[str]) -> str:
    return " | ".join(_clip(c) if c else "(empty)" for c in cols)


def _trim(cells: Sequence[str]) -> list[str]:
    """The cells without the empty ones at the end."""
    filled = list(cells)
    while filled and not filled[-1]:
        filled.pop()
    return filled


def _matches(cells: Sequence[str], expected: tuple[str, ...]) -> bool:
    padded = list(cells) + [""] * (NCOLS - len(cells))
    return len(cells) <= NCOLS and [c.casefold() for c in padded] == [
        e.casefold() for e in expected
    ]


def _wrong_columns(lineno: int, cells: Sequence[str]) -> PlanFormatError:
    return PlanFormatError(
        "the table header has the wrong columns: expected "
        f"{_fmt_cols(EXPECTED_HEADER)}; found {_fmt_cols(cells)}",
        line=lineno,
    )


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char == "\ufffd":
        return f"the replacement character {code} (text lost in a conversion)"
    if unicodedata.category(char) == "Cc":
        return f"the control character {code}"
    return f"the invisible formatting character {code}"


def _looks_mojibake(text: str) -> bool:
    """UTF-8 read as Latin-1 / Windows-1252 ("Sá»Ÿ" for "Sở"): re-encoding gives valid UTF-8."""
    if text.isascii():
        return False
    for codec in ("cp1252", "latin-1"):
        try:
            if text.encode(codec).decode("utf-8") != text:
                return True
        except UnicodeError:
            continue
    return False


# --------------------------------------------------------------------------- step 1: bytes → lines


def _check_size(data: bytes) -> None:
    if len(data) > MAX_PLAN_BYTES:
        raise PlanFormatError(
            f"the file has {len(data) / 2**20:.1f} MB; a plan document may have at most "
            f"{MAX_PLAN_BYTES / 2**20:.0f} MB"
        )


def _decode(data: bytes) -> str:
    if not data:
        raise PlanFormatError("the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanFormatError(f"not UTF-8 text: invalid byte at offset {exc.start}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise PlanFormatError("the file is empty")
    return unicodedata.normalize("NFC", text)


def _split_lines(text: str) -> list[str]:
    """The lines (any line break); the last is "" when the text ends with a line break."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_CHARS:
            raise PlanFormatError(
                f"the line has {len(line):,} characters; a plan's lines have at most "
                f"{MAX_LINE_CHARS:,}",
                line=number,
            )
    return lines


def _refuse_forbidden(number: int, raw: str, *, task: str | None = None, row: bool = False) -> None:
    found = _FORBIDDEN.search(raw)
    if found is None:
        return
    where = ""
    column = raw.count("\t", 0, found.start())
    if row and column < NCOLS:
        where = f" in the {_COLUMN_NAMES[column]} cell"
    raise PlanFormatError(
        f"{_describe(found.group())}{where}; a plan's text has no control or invisible "
        "characters",
        line=number,
        task=task,
    )


# --------------------------------------------------------------------------- step 2: header, preamble


def _locate_header(lines: Sequence[str]) -> int:
    """Index of the table's first header row (text: the cells are tab-separated)."""
    return _locate_header_cells(
        [(idx + 1, line.split("\t")) if "\t" in line else None for idx, line in enumerate(lines)],
        how=" (tab-separated)",
    )


def _locate_header_cells(rows: Sequence[tuple[int, Sequence[str]] | None], *, how: str = "") -> int:
    """Index of the table's first header row among ``(number, cells)`` (``None``: no cells)."""
    candidate: tuple[int, list[str]] | None = None
    for idx, row in enumerate(rows):
        if row is None:
            continue
        cells = _trim([_clean(c) for c in row[1]])
        if not cells or cells[0].casefold() != "stt":
            continue
        if _matches(cells, EXPECTED_HEADER):
            return idx
        if candidate is None:
            candidate = (row[0], cells)
    if candidate is not None:
        raise _wrong_columns(*candidate)
    raise PlanFormatError(
        "no appendix table found: expected a header row with the columns "
        f"{_fmt_cols(EXPECTED_HEADER)}{how}, followed by a row with "
        f"{EXPECTED_SUBHEADER[3]} | {EXPECTED_SUBHEADER[4]}"
    )


@dataclass(frozen=True)
class _Preamble:
    title: str = ""
    number: str | None = None
    issued_on: datetime.date | None = None


def _read_preamble(lines: Sequence[tuple[int, str]], warnings: list[str]) -> _Preamble:
    """Title, plan number and date from the text before the table (closest to it wins):
    ``(number, text)`` pairs, a title written as a markdown heading ``# …``."""
    found = _Preamble()
    for lineno, line in lines:
        _refuse_forbidden(lineno, line)
        heading = _HEADING.match(line)
        if heading:
            title = heading.group("text").rstrip().rstrip("#")
            found = _Preamble(_strip_markup(title), found.number, found.issued_on)
        number = _PLAN_NUMBER.search(line)
        if number:
            issued = _issue_date(line, number.end(), lineno, warnings)
            found = _Preamble(found.title, f"{number['num']}/{number['suffix']}", issued)
    return found


def _issue_date(line: str, start: int, lineno: int, warnings: list[str]) -> datetime.date | None:
    date = _PLAN_DATE.search(line, start)
    if not date:
        return None
    try:
        return datetime.date(int(date["y"]), int(date["m"]), int(date["d"]))
    except ValueError:
        warnings.append(f"line {lineno}: invalid issue date {date.group(0)!r}; ignored")
        return None


# --------------------------------------------------------------------------- step 3: line kinds


class _Kind(Enum):
    BLANK = "blank"
    HEADER = "header"
    SUBHEADER = "sub-header"
    AXIS = "axis heading"
    PAGE_MARK = "page number"
    TEXT = "text"
    EMPTY_ROW = "empty row"
    ROW = "row"


@dataclass(frozen=True)
class _Line:
    number: int
    kind: _Kind
    raw: str
    cells: tuple[str, ...]  # cleaned; every cell the tabs make, the empty last ones too

    @property
    def filled(self) -> list[str]:
        return _trim(self.cells)


def _classify(number: int, raw: str) -> _Line:
    """What one line of the table region is, from its own text alone."""
    if "\t" not in raw and not raw.strip():
        return _Line(number, _Kind.BLANK, raw, ())
    # The text is NFC already (_decode): collapsing the spaces is all a cell needs.
    cells = tuple(_WS.sub(" ", c).strip() for c in raw.split("\t"))
    return _Line(number, _kind_of(raw, _trim(cells)), raw, cells)


def _kind_of(raw: str, filled: list[str]) -> _Kind:
    if filled and filled[0].casefold() == "stt":
        return _Kind.HEADER
    if filled and not filled[0] and _matches(filled, EXPECTED_SUBHEADER):
        return _Kind.SUBHEADER
    if len(filled) == 1 and _AXIS.match(filled[0]):
        return _Kind.AXIS
    if "\t" not in raw:
        return _Kind.PAGE_MARK if _PAGE_MARK.match(raw) else _Kind.TEXT
    return _Kind.ROW if filled else _Kind.EMPTY_ROW


# --------------------------------------------------------------------------- step 4: the table


@dataclass
class _Row:
    line: int
    axis: int
    group: int
    row: str
    content: str
    task: str
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    coordination_note: str
    timeframe: str
    cadence: str
    note: str
    due_on: datetime.date | None = None


@dataclass
class _Group:
    """The numbered row (STT) being read, and what its merged cells carry to the next rows."""

    index: int = -1
    stt: int = 0  # 0: no numbered row yet in this axis
    line: int = 0
    content: str = ""
    size: int = 0
    started: dict[int, int] = field(default_factory=dict)  # STT -> its first line, this axis
    lead: tuple[str, ...] = ()
    timeframe: str = ""
    cadence: str = "other"
    due_on: datetime.date | None = None


class _TableReader:
    """Reads the table's lines in order and refuses, at the first sign, a damaged table."""

    def __init__(self, lines: Sequence[_Line], *, header_line: int,
                 continuous: bool = False, contents: bool = True) -> None:
        self.lines = lines
        self.header_line = header_line
        # Rows numbered on across the axes (1 … 5, then 6 …), as other plans than 916 do.
        self.continuous = continuous
        self.contents = contents  # the table has a content column (else no row's is missed)
        self._last_stt = 0  # the last STT of the axis before
        self.warnings: list[str] = []
        self.axes: list[ParsedAxis] = []
        self.rows: list[_Row] = []
        self._group = _Group()
        self._groups = 0
        self._axis_line = 0
        self._axis_rows = 0
        self._awaiting_subheader: int | None = None  # line of a header row just read
        self._after_page_break = False  # a header pair came last (a row may restate its STT)
        self._dangling_header: int | None = None  # a header pair no row followed yet
        self._prose: tuple[_Line, bool, str] | None = None  # text; after a blank? after which task
        self._last_task = ""
        self._blank_before = False
        self._tasks: dict[str, tuple[int, str]] = {}  # task text key -> (line, code)

    def read(self) -> None:
        for index, line in enumerate(self.lines):
            self._feed(index, line)
        self._finish()

    # --- dispatch

    def _feed(self, index: int, line: _Line) -> None:
        is_row = line.kind is _Kind.ROW
        task = self._label(index) if is_row and self.axes else None
        _refuse_forbidden(line.number, line.raw, task=task, row=is_row)
        if line.kind is _Kind.BLANK:
            self._blank_before = True
            return
        if self._awaiting_subheader is not None:
            self._subheader(line)
        elif line.kind is _Kind.PAGE_MARK:
            self.warnings.append(
                f"line {line.number}: ignored text outside the table: {_clean(line.raw)!r}"
            )
        elif line.kind is _Kind.TEXT:
            self._text(line)
        else:
            self._refuse_prose()
            self._table_line(index, line, task)
        self._blank_before = False

    def _table_line(self, index: int, line: _Line, task: str | None) -> None:
        if line.kind is _Kind.HEADER:
            self._header(line)
        elif line.kind is _Kind.SUBHEADER:
            raise PlanFormatError(
                "a sub-header row without the header row above it (a header row lost?)",
                line=line.number,
            )
        elif line.kind is _Kind.AXIS:
            self._axis(line)
        elif line.kind is _Kind.EMPTY_ROW:
            raise PlanFormatError("the row has no text in any cell", line=line.number)
        else:
            self._row(index, line, task)

    # --- headers, axes, text between

    def _header(self, line: _Line) -> None:
        if not _matches(line.filled, EXPECTED_HEADER):
            raise _wrong_columns(line.number, line.filled)
        self._awaiting_subheader = line.number

    def _subheader(self, line: _Line) -> None:
        if line.kind is not _Kind.SUBHEADER:
            raise PlanFormatError(
                f"expected the sub-header row {_fmt_cols(EXPECTED_SUBHEADER)} after the "
                f"header row at line {self._awaiting_subheader}; found {_fmt_cols(line.filled)}",
                line=line.number,
            )
        self._dangling_header = self._awaiting_subheader
        self._awaiting_subheader = None
        self._after_page_break = True

    def _axis(self, line: _Line) -> None:
        self._close_axis(f"the next axis heading follows at line {line.number}")
        cell = line.filled[0]
        if _MARKUP.search(_HEADING_TAGS.sub("", cell)):
            raise PlanFormatError(
                f"the axis heading holds markup other than <b>…</b>: {_clip(cell, 60)!r}",
                line=line.number,
            )
        match = _AXIS.match(cell)
        assert match is not None  # _kind_of matched it
        name = _strip_markup(match.group("name"))
        self.axes.append(ParsedAxis(number=len(self.axes) + 1, name=name))
        if not name:
            self.warnings.append(f"line {line.number}: axis {len(self.axes)} has no name")
        self._axis_line, self._axis_rows = line.number, 0
        self._last_stt = self._group.stt or self._last_stt
        self._group = _Group()
        self._after_page_break = False
        self._dangling_header = None

    def _close_axis(self, what_follows: str) -> None:
        if self.axes and not self._axis_rows:
            axis = self.axes[-1]
            raise PlanFormatError(
                f"axis {axis.number} ({_clip(axis.name)!r}) has no task row: {what_follows}",
                line=self._axis_line,
            )

    def _text(self, line: _Line) -> None:
        if self._prose is None:
            self._prose = (line, self._blank_before, self._last_task)

    def _refuse_prose(self, where: str = "inside the table") -> None:
        if self._prose is not None:
            line, _, after = self._prose
            following = f" (after task {after})" if after else ""
            raise PlanFormatError(
                f"text {where} that is not a row{following}, its tabs lost?: "
                f"{_clip(line.raw.strip())!r}",
                line=line.number,
            )

    def _finish(self) -> None:
        if self._awaiting_subheader is not None:
            raise PlanFormatError(
                "the header row is not followed by the sub-header row "
                f"{_fmt_cols(EXPECTED_SUBHEADER)}",
                line=self._awaiting_subheader,
            )
        if not self.axes:
            raise PlanFormatError(
                "the appendix table has no axis heading row ('Trục nội dung: …')",
                line=self.header_line,
            )
        if not self.rows:
            raise PlanFormatError("the appendix table has no task rows", line=self.header_line)
        self._close_axis("the table ends there")
        if self._dangling_header is not None:
            raise PlanFormatError(
                "the table ends with a page-break header and no row after it (is the file "
                "cut short?)",
                line=self._dangling_header,
            )
        self._finish_prose()

    def _finish_prose(self) -> None:
        """Text after the table is ignored if a blank line sets it apart from the last row;
        right under it, it is most likely a row that lost its tabs."""
        if self._prose is None:
            return
        line, after_blank, _ = self._prose
        if not after_blank:
            self._refuse_prose("right after the last row")
        self.warnings.append(
            f"line {line.number}: ignored text after the table: {_clip(line.raw.strip())!r}"
        )

    # --- task rows

    def _row(self, index: int, line: _Line, task: str | None) -> None:
        if not self.axes:
            raise PlanFormatError(
                "a task row comes before any axis heading row ('Trục nội dung: …')",
                line=line.number,
            )
        cells = self._whole_row(index, line, task)
        _refuse_markup(line.number, cells, task)
        if not cells[_TASK]:
            raise PlanFormatError(
                "the row has no task text (column Nhiệm vụ cụ thể is empty)",
                line=line.number,
                task=task,
            )
        self._refuse_repeat(line.number, cells[_TASK], task)
        content = self._number(line.number, cells, task)
        lead = self._lead(line.number, cells, task)
        coordinating, coordination_note = split_agencies(cells[_COORD])
        timeframe, cadence = self._timeframe(line.number, cells)
        self.rows.append(
            _Row(
                line=line.number,
                axis=len(self.axes),
                group=self._group.index,
                row=str(self._group.stt),
                content=content,
                task=cells[_TASK],
                lead=lead,
                coordinating=coordinating,
                coordination_note=coordination_note,
                timeframe=timeframe,
                cadence=cadence,
                note=cells[_NOTE],
                due_on=self._group.due_on,
            )
        )
        self._axis_rows += 1
        self._last_task = task or ""
        self._after_page_break = False
        self._dangling_header = None

    def _whole_row(self, index: int, line: _Line, task: str | None) -> tuple[str, ...]:
        """The row's cells, if it has all seven and the file does not stop inside it."""
        count = len(line.cells)
        last = index == len(self.lines) - 1  # no line break after it
        if last and count < NCOLS:
            raise PlanFormatError(
                f"the table ends mid-row: the file stops after {count} of the row's {NCOLS} "
                "cells (is it cut short?)",
                line=line.number,
                task=task,
            )
        if count != NCOLS:
            raise PlanFormatError(
                f"the row has {count} cells, expected {NCOLS} ({_fmt_cols(EXPECTED_HEADER)}): "
                "a tab lost or added?",
                line=line.number,
                task=task,
            )
        if last and line.cells[_NOTE]:
            raise PlanFormatError(
                "the table ends mid-row: the file stops inside the row's last cell, without a "
                "line break (is it cut short? a complete document ends that row with a line "
                "break)",
                line=line.number,
                task=task,
            )
        return line.cells

    def _refuse_repeat(self, lineno: int, text: str, task: str | None) -> None:
        key = _key(text)
        if key in self._tasks:
            first_line, first_task = self._tasks[key]
            raise PlanFormatError(
                f"the row repeats line {first_line} (task {first_task}): the same task text "
                "twice",
                line=lineno,
                task=task,
            )
        self._tasks[key] = (lineno, task or "?")

    # --- numbering (STT) and merged cells

    def _number(self, lineno: int, cells: tuple[str, ...], task: str | None) -> str:
        """Place the row in its numbered group; return its content (inherited if merged)."""
        stt, content = cells[_STT], cells[_CONTENT]
        if not stt:
            return self._continue_group(lineno, content, task)
        if not _STT_NUMBER.fullmatch(stt):
            raise PlanFormatError(
                f"the row number (STT) {_clip(stt)!r} is not a number", line=lineno, task=task
            )
        number = int(stt)
        if self._group.stt and number == self._group.stt:
            return self._restate_group(lineno, content, task)
        self._check_sequence(lineno, number, task)
        return self._start_group(lineno, number, content)

    def _continue_group(self, lineno: int, content: str, task: str | None) -> str:
        group, axis = self._group, len(self.axes)
        if not group.stt:
            raise PlanFormatError(
                f"the row has no STT but continues no numbered row of axis {axis}", line=lineno
            )
        if content and content != group.content:
            raise PlanFormatError(
                f"the row has a content ({_clip(content)!r}) but no STT; a row that continues "
                f"row {group.stt} leaves both empty (cells shifted?)",
                line=lineno,
                task=task,
            )
        group.size += 1
        return group.content

    def _restate_group(self, lineno: int, content: str, task: str | None) -> str:
        """The same STT again: allowed as the first row after a page break (the PDF repeats
        the merged cell there), anywhere else it is a repeated row."""
        group, axis = self._group, len(self.axes)
        if not self._after_page_break:
            raise PlanFormatError(
                f"row {group.stt} of axis {axis} appears again (it started at line "
                f"{group.line}); only the first row after a page-break header restates it",
                line=lineno,
                task=task,
            )
        if content and content != group.content:
            raise PlanFormatError(
                f"row {group.stt} of axis {axis} is restated after the page break with another "
                f"content {_clip(content)!r} (was {_clip(group.content)!r})",
                line=lineno,
                task=task,
            )
        group.size += 1
        return group.content

    def _check_sequence(self, lineno: int, number: int, task: str | None) -> None:
        """Rows are numbered 1, 2, 3 … within an axis: a gap or a step back means rows were
        lost, moved or repeated."""
        current, axis = self._group.stt, len(self.axes)
        if number == current + 1:
            return
        if not current and self.continuous and number == self._last_stt + 1:
            return
        if number and number < current:
            raise PlanFormatError(
                f"row {number} of axis {axis} appears again after row {current} (the "
                f"numbering goes back; row {number} started at line "
                f"{self._group.started.get(number, '?')})",
                line=lineno,
                task=task,
            )
        if not current:
            message = f"axis {axis} starts at row {number}; its rows are numbered from 1"
        else:
            message = (f"the numbering of axis {axis} jumps from row {current} to row {number} "
                       f"(row {current + 1} missing?)")
        raise PlanFormatError(message, line=lineno, task=task)

    def _start_group(self, lineno: int, number: int, content: str) -> str:
        self._groups += 1
        previous = self._group
        previous.started[number] = lineno  # one dict per axis, shared along its groups
        self._group = _Group(index=self._groups, stt=number, line=lineno, content=content, size=1,
                             started=previous.started, lead=previous.lead,
                             timeframe=previous.timeframe, cadence=previous.cadence,
                             due_on=previous.due_on)
        if not content and self.contents:
            self.warnings.append(
                f"line {lineno}: row {number} of axis {len(self.axes)} has no content"
            )
        return content

    def _lead(self, lineno: int, cells: tuple[str, ...], task: str | None) -> tuple[str, ...]:
        """The row's lead agencies, or the ones above it when its cell is empty (merged)."""
        group = self._group
        if cells[_LEAD]:
            names, instruction = split_agencies(cells[_LEAD])
            if instruction:
                raise PlanFormatError(
                    f"the lead cell is not a list of agencies: {_clip(instruction, 60)!r}",
                    line=lineno,
                    task=task,
                )
            group.lead = names
        if not group.lead:
            self.warnings.append(f"line {lineno}: task has no lead agency")
        return group.lead

    def _timeframe(self, lineno: int, cells: tuple[str, ...]) -> tuple[str, str]:
        """The row's timeframe and cadence, or the ones above it when its cell is empty."""
        group = self._group
        if cells[_TIME]:
            group.timeframe, group.cadence = cells[_TIME], normalize_cadence(cells[_TIME])
            group.due_on = None
            if group.cadence == "once":
                group.due_on = parse_deadline(cells[_TIME])
            if group.cadence == "other":
                self.warnings.append(
                    f"line {lineno}: {_unknown_timeframe(group.timeframe)}; cadence set to "
                    "'other'")
        elif not group.timeframe:
            self.warnings.append(f"line {lineno}: task has no timeframe; cadence set to 'other'")
        return group.timeframe, group.cadence

    # --- naming a row in messages

    def _label(self, index: int) -> str | None:
        """The code the row at ``index`` will get, as far as the lines tell (for messages)."""
        stt = self.lines[index].cells[_STT]
        group = self._group
        if not stt or (group.stt and stt == str(group.stt)):
            if not group.stt:
                return None
            return f"{len(self.axes)}.{group.stt}{_letters(group.size)}"
        number = _LEADING_NUMBER.match(stt)  # "1 Tri thức …": a tab lost after the STT
        if number is None:  # no number to go by: say it is the next row of the group
            return f"{len(self.axes)}.{group.stt}{_letters(group.size)}" if group.stt else None
        letter = _letters(0) if self._continues(index, stt) else ""
        return f"{len(self.axes)}.{int(number.group(1))}{letter}"

    def _continues(self, index: int, stt: str) -> bool:
        """Whether the next row continues the row group that starts at ``index``."""
        skip = (_Kind.BLANK, _Kind.HEADER, _Kind.SUBHEADER, _Kind.PAGE_MARK)
        for line in self.lines[index + 1 :]:
            if line.kind not in skip:
                return line.kind is _Kind.ROW and line.cells[_STT] in ("", stt)
        return False


def _unknown_timeframe(timeframe: str) -> str:
    try:
        parse_deadline(timeframe)
    except ValueError as exc:
        return f"the deadline {timeframe!r} is not a date ({exc})"
    return f"unknown timeframe {timeframe!r}"


def _refuse_markup(lineno: int, cells: Sequence[str], task: str | None) -> None:
    for column, cell in enumerate(cells):
        found = _MARKUP.search(cell)
        if found:
            start = max(found.start() - 15, 0)
            raise PlanFormatError(
                f"the {_COLUMN_NAMES[column]} cell holds markup "
                f"({_clip(cell[start:], 40)!r}); a plan's cells are plain text",
                line=lineno,
                task=task,
            )
        if _looks_mojibake(cell):
            raise PlanFormatError(
                f"the {_COLUMN_NAMES[column]} cell looks like UTF-8 read as Latin-1 "
                f"({_clip(cell, 40)!r}); convert the document again",
                line=lineno,
                task=task,
            )


# --------------------------------------------------------------------------- step 5: codes


def _assign_codes(rows: Sequence[_Row]) -> tuple[ParsedTask, ...]:
    """Codes are "<axis>.<STT>", plus a letter when the group has several tasks."""
    sizes: dict[int, int] = {}
    for r in rows:
        sizes[r.group] = sizes.get(r.group, 0) + 1
    seen: dict[int, int] = {}
    tasks: list[ParsedTask] = []
    for position, r in enumerate(rows, start=1):
        i = seen.get(r.group, 0)
        seen[r.group] = i + 1
        code = f"{r.axis}.{r.row}" + (_letters(i) if sizes[r.group] > 1 else "")
        tasks.append(
            ParsedTask(
                code=code,
                axis=r.axis,
                row=r.row,
                position=position,
                content=r.content,
                task=r.task,
                lead=r.lead,
                coordinating=r.coordinating,
                coordination_note=r.coordination_note,
                timeframe=r.timeframe,
                cadence=r.cadence,
                note=r.note,
                line=r.line,
                due_on=r.due_on,
            )
        )
    return tuple(tasks)


def _letters(i: int) -> str:
    """0 → a, 25 → z, 26 → aa …"""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


# --------------------------------------------------------------------------- entry point


def parse_plan(data: bytes, *, source: str = "<input>") -> ParsedPlan:
    """Parse a plan document (the full markdown or only its appendix).

    Raises ``PlanFormatError`` (a ``ValueError``) when the document cannot be read or looks
    damaged; the message names ``source``, the line and the task.  Non-fatal oddities end up
    in ``warnings``.
    """
    try:
        return _parse(data)
    except PlanFormatError as exc:
        if source == "<input>":
            raise
        raise PlanFormatError(exc.reason, line=exc.line, source=source, task=exc.task) from None


def _parse(data: bytes) -> ParsedPlan:
    _check_size(data)  # before anything else reads the bytes
    lines = _split_lines(_decode(data))
    header = _locate_header(lines)
    warnings: list[str] = []
    preamble = _read_preamble(list(enumerate(lines[:header], 1)), warnings)
    table = [_classify(idx + 1, lines[idx]) for idx in range(header, len(lines))]
    return _read_table(table, header + 1, preamble, warnings)


def _read_table(table: Sequence[_Line], header_line: int, preamble: _Preamble,
                warnings: list[str], *, continuous: bool = False,
                contents: bool = True) -> ParsedPlan:
    """Steps 4 and 5, whatever the document was: the rules of the table, written once."""
    reader = _TableReader(table, header_line=header_line, continuous=continuous,
                          contents=contents)
    reader.read()
    return ParsedPlan(
        number=preamble.number,
        issued_on=preamble.issued_on,
        title=preamble.title,
        axes=tuple(reader.axes),
        tasks=_assign_codes(reader.rows),
        warnings=tuple(warnings + reader.warnings),
    )


# --------------------------------------------------------------------------- documents with cells

# A spreadsheet or a Word table hands over cells, not lines: ``domain.plan_readers`` reads them
# into a ``PlanSource`` and the same table reader as the text's applies the same rules.


@dataclass(frozen=True)
class SourceRow:
    """One row of a document's table: ``number`` says where it is (the sheet's row, the table's
    row); a cell is its text (paragraphs or lines of a cell separated by ``\n``), ``""`` when empty
    or covered by the cell to its left (merged across), ``None`` when it continues the cell above
    (merged down)."""

    number: int
    cells: tuple[str | None, ...]


@dataclass(frozen=True)
class PlanSource:
    """A document read into rows: the text before its table, ``(number, text)`` with a title
    written as ``# …``, and its table's rows (title rows above the header may be among them)."""

    preamble: tuple[tuple[int, str], ...]
    rows: tuple[SourceRow, ...]
    unit: str = "row"  # what a row's number counts, in messages
    preamble_unit: str = "paragraph"  # what the preamble's numbers count


def parse_source(doc: PlanSource, *, source: str = "<input>") -> ParsedPlan:
    """Parse a document that a reader turned into rows; refusals and warnings name ``doc.unit``
    (a sheet's "row 12", a Word "table row 12") where the text's name a line."""
    named = None if source == "<input>" else source
    try:
        for number, text in doc.preamble:
            _refuse_forbidden(number, text)
    except PlanFormatError as exc:
        raise PlanFormatError(exc.reason, line=exc.line, unit=doc.preamble_unit,
                              source=named) from None
    try:
        plan = _parse_source(doc)
    except PlanFormatError as exc:
        raise PlanFormatError(_placed(exc.reason, doc.unit), line=exc.line, task=exc.task,
                              unit=doc.unit, source=named) from None
    return dataclasses.replace(
        plan, warnings=tuple(_placed(w, doc.unit) for w in plan.warnings))


_LINE_NUMBER = re.compile(r"\bline (?=\d)")


def _placed(message: str, unit: str) -> str:
    """A message of the table reader with its "line N" said as the document counts: "row N"."""
    return _LINE_NUMBER.sub(f"{unit} ", message)


def _parse_source(doc: PlanSource) -> ParsedPlan:
    rows = [SourceRow(r.number, _shape(r.cells)) for r in doc.rows]
    if not _has_plan916_header(rows):
        layout = _find_layout(doc.rows)
        if layout is not None:
            return _parse_layout(doc, layout)
    header = _locate_header_cells([(r.number, [c or "" for c in r.cells]) for r in rows])
    warnings: list[str] = []
    preamble = _read_preamble([*doc.preamble, *_title_rows(doc.preamble, rows[:header])],
                              warnings)
    table = _lines_of(rows[header:])
    return _read_table(table, rows[header].number, preamble, warnings)


def _shape(cells: Sequence[str | None]) -> tuple[str | None, ...]:
    """Seven cells: a grid has no lost tab, so missing cells are empty; empty ones past the
    seventh are dropped (a wider sheet), filled ones kept (and refused as a wrong row)."""
    shaped = list(cells) + [""] * (NCOLS - len(cells))
    while len(shaped) > NCOLS and not shaped[-1]:
        shaped.pop()
    return tuple(shaped)


def _title_rows(preamble: Sequence[tuple[int, str]],
                rows: Sequence[SourceRow]) -> list[tuple[int, str]]:
    """Rows above the header (a sheet's title rows) as text; the first is the title unless the
    text before the table has a heading already."""
    titled = any(_HEADING.match(text) for _, text in preamble)
    out: list[tuple[int, str]] = []
    for row in rows:
        text = _clean(" ".join(c for c in row.cells if c))
        if not text:
            continue
        if not titled:
            text, titled = f"# {text}", True
        out.append((row.number, text))
    return out


def _lines_of(rows: Sequence[SourceRow]) -> list[_Line]:
    """The table's rows as the text's lines. A cell merged down continues the one above: empty
    where the table reader inherits an empty cell (STT, content, lead agencies, timeframe, and
    header rows), the value above where it does not (coordinating agencies, note). A line break
    in an agency cell separates agencies."""
    lines: list[_Line] = []
    above: _Line | None = None
    for row in rows:
        cells: list[str] = []
        for column, cell in enumerate(row.cells):
            if cell is None:
                inherited = above is not None and above.kind is _Kind.ROW and column in (
                    _COORD, _NOTE) and column < len(above.cells)
                cells.append(above.cells[column] if above is not None and inherited else "")
                continue
            if column in (_LEAD, _COORD):
                cell = re.sub(r"\s*\n\s*", "; ", cell.strip())
            cells.append(_clean(cell))
        raw = "\t".join(c.replace("\t", " ") for c in cells)
        if not any(cells):
            line = _Line(row.number, _Kind.BLANK, "", ())
        else:
            line = _Line(row.number, _kind_of(raw, _trim(cells)), raw, tuple(cells))
        lines.append(line)
        above = line
    # The text's reader takes a last line without a line break for a file cut short: a table
    # that ends ends with a blank line here.
    lines.append(_Line((rows[-1].number if rows else 0) + 1, _Kind.BLANK, "", ()))
    return lines


# --------------------------------------------------------------------------- other appendix shapes

# Plan 916's header pair is read as the text's is, above. Another plan's appendix names its
# columns in other words, in another order, some of them missing: its header is mapped column
# by column (the words compared without case, diacritics or line breaks) and its rows are put
# in Plan 916's order, so that the same table reader, with the same rules, reads them.

_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "stt": ("STT", "TT", "Số TT", "Số thứ tự"),
    # "Nội dung" beside a task column is the content a task falls under; alone, the task.
    "content": ("Nội dung",),
    "task": ("Nhiệm vụ", "Nhiệm vụ cụ thể", "Nội dung công việc", "Nội dung nhiệm vụ",
             "Tên nhiệm vụ", "Công việc", "Công việc cụ thể", "Nhiệm vụ, giải pháp",
             "Nội dung công việc cụ thể"),
    "lead": ("Đơn vị chủ trì", "Cơ quan chủ trì", "Chủ trì", "Đơn vị chủ trì thực hiện",
             "Cơ quan chủ trì thực hiện", "Cơ quan, đơn vị chủ trì"),
    "coord": ("Đơn vị phối hợp", "Cơ quan phối hợp", "Phối hợp", "Đơn vị phối hợp thực hiện",
              "Cơ quan phối hợp thực hiện", "Cơ quan, đơn vị phối hợp"),
    "time": ("Thời gian thực hiện", "Thời hạn hoàn thành", "Thời gian hoàn thành", "Thời hạn",
             "Thời gian", "Tiến độ thực hiện", "Tiến độ", "Thời hạn thực hiện"),
    "output": ("Sản phẩm", "Kết quả đầu ra", "Sản phẩm đầu ra", "Kết quả", "Sản phẩm dự kiến",
               "Hình thức sản phẩm", "Kết quả, sản phẩm"),
    "note": ("Ghi chú",),
    # Headings over sub-headings (a second header row names the columns under them).
    "group": ("Trách nhiệm cụ thể", "Trách nhiệm thực hiện", "Đơn vị thực hiện",
              "Cơ quan thực hiện", "Phân công thực hiện", "Phân công"),
}
_ROLE_OF: dict[str, str] = {_fold(w): role for role, words in _ROLE_WORDS.items() for w in words}
# Where a role's cell goes among Plan 916's seven (the expected output has no place there).
_CANONICAL = {"stt": _STT, "content": _CONTENT, "task": _TASK, "lead": _LEAD, "coord": _COORD,
              "time": _TIME, "note": _NOTE}
_ROLE_NAMES = {"stt": "STT", "content": "content", "task": "task", "lead": "lead agencies",
               "coord": "coordinating agencies", "time": "timeframe", "output": "expected output",
               "note": "note"}
_PARENTHESES = re.compile(r"\([^()]*\)")
_ROMAN = re.compile(r"(?:(?:phần|mục)\s+)?[IVXL]{1,6}\.?", re.IGNORECASE)
_ROMAN_PREFIX = re.compile(r"^(?:(?:phần|mục)\s+)?[IVXL]{1,6}\s*[.:)\-–]\s*(?=\S)", re.IGNORECASE)
_FOLDED_STT = _fold("stt")


def _role(cell: str | None) -> str | None:
    """The role a heading names (``None``: no heading there, "" : words dondoc does not read)."""
    if not cell or not _clean(cell):
        return None
    key = _fold(_PARENTHESES.sub(" ", cell)).strip(" .:;*")
    return _ROLE_OF.get(key, "")


def looks_like_header(cells: Sequence[str | None]) -> bool:
    """Whether a table row is the header of a plan's appendix: it starts with STT, or two of
    its cells name columns of one (a reader picks its table or sheet by this)."""
    roles = [_role(c) for c in cells]
    first = next((c for c in cells if c and _clean(c)), "")
    return _fold(first) == _FOLDED_STT or sum(1 for r in roles if r) >= 2


def _has_plan916_header(rows: Sequence[SourceRow]) -> bool:
    """Whether the first row that starts with STT is Plan 916's header (then it is read as
    Plan 916's table, and refused as such)."""
    for row in rows:
        cells = _trim([_clean(c or "") for c in row.cells])
        if cells and cells[0].casefold() == "stt":
            return _matches(cells, EXPECTED_HEADER)
    return False


@dataclass(frozen=True)
class _Layout:
    header: int  # index of the first header row among the document's rows
    height: int  # 1, or 2 with a row of sub-headings
    columns: dict[str, int]  # role -> column
    signature: tuple[tuple[str, ...], ...]  # the header rows as keys (to know them repeated)


def _signature(cells: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(_trim([_fold(c or "") for c in cells]))


def _find_layout(rows: Sequence[SourceRow]) -> _Layout | None:
    """The appendix's header (its first row that looks like one) mapped to roles; refused when
    it names a column dondoc does not read, a role twice, or lacks the task or lead column."""
    for index, row in enumerate(rows):
        if looks_like_header(row.cells):
            return _layout(rows, index)
    return None


def _layout(rows: Sequence[SourceRow], index: int) -> _Layout:
    header = rows[index]
    roles = [_role(c) for c in header.cells]
    below = rows[index + 1] if index + 1 < len(rows) else None
    sub = [_role(c) for c in below.cells] if below is not None else []
    height = 1
    if "group" in roles or (sub and any(sub) and all(r != "" for r in sub)
                            and not any(r == "stt" for r in sub)):
        height = 2
    else:
        sub = []
    columns: dict[str, int] = {}
    width = max(len(roles), len(sub))
    for column in range(width):
        top = roles[column] if column < len(roles) else None
        under = sub[column] if column < len(sub) else None
        role = under or top
        number = below.number if under and below is not None else header.number
        if role == "" or (under == "" and top in (None, "group")):
            cell = (below.cells[column] if under == "" and below is not None
                    else header.cells[column])
            raise PlanFormatError(
                f"the table header has a column dondoc does not read: {_clip(_clean(cell or ''))!r}"
                f"; it reads {_known_columns()}", line=number)
        if role is None or role == "group":
            if top == "group" and not under:
                raise PlanFormatError(
                    f"the heading {_clip(_clean(header.cells[column] or ''))!r} has no "
                    "sub-headings under it (Đơn vị chủ trì, Đơn vị phối hợp)", line=header.number)
            continue
        if role in columns:
            raise PlanFormatError(
                f"the table header names the {_ROLE_NAMES[role]} column twice (columns "
                f"{columns[role] + 1} and {column + 1})", line=number)
        columns[role] = column
    if "content" in columns and "task" not in columns:
        columns["task"] = columns.pop("content")
    for role, words in (("task", "Nhiệm vụ / Nội dung công việc"),
                        ("lead", "Đơn vị chủ trì / Cơ quan chủ trì")):
        if role not in columns:
            raise PlanFormatError(
                f"the table has no {_ROLE_NAMES[role]} column ({words}); found "
                f"{_fmt_cols([_clean(c or '') for c in header.cells if c and _clean(c)])}",
                line=header.number)
    signature = tuple(_signature(r.cells) for r in rows[index:index + height])
    return _Layout(index, height, columns, signature)


def _known_columns() -> str:
    shown = ("task", "lead", "coord", "time", "output", "note")
    return ", ".join(f"{_ROLE_NAMES[r]} ({' / '.join(_ROLE_WORDS[r][:2])})" for r in shown)


def _parse_layout(doc: PlanSource, layout: _Layout) -> ParsedPlan:
    rows = list(doc.rows)
    warnings: list[str] = []
    preamble = _read_preamble([*doc.preamble, *_title_rows(doc.preamble, rows[:layout.header])],
                              warnings)
    header_number = rows[layout.header].number
    canonical, outputs = _canonical_rows(rows[layout.header + layout.height:], layout,
                                         preamble.title, header_number)
    table = _lines_of([SourceRow(header_number, EXPECTED_HEADER),
                       SourceRow(header_number, EXPECTED_SUBHEADER), *canonical])
    plan = _read_table(table, header_number, preamble, warnings,
                       continuous="stt" in layout.columns,
                       contents="content" in layout.columns)
    tasks = tuple(dataclasses.replace(t, expected_output=outputs.get(t.line, ""))
                  for t in plan.tasks)
    return dataclasses.replace(plan, tasks=tasks)


def _canonical_rows(rows: Sequence[SourceRow], layout: _Layout, title: str,
                    header_number: int) -> tuple[list[SourceRow], dict[int, str]]:
    """The rows in Plan 916's seven columns (the header repeated at a page as its header pair,
    a section row as an axis row, one axis named by the title when the table has none); the
    expected output of each task row by its number."""
    out: list[SourceRow] = []
    outputs: dict[int, str] = {}
    used = set(layout.columns.values())
    has_axes = any(_section_name(r.cells, layout) is not None for r in rows)
    numbered = "stt" in layout.columns
    counter = 0
    previous_output = ""
    index = 0
    while index < len(rows):
        row = rows[index]
        if tuple(_signature(r.cells) for r in rows[index:index + layout.height]) == layout.signature:
            out += [SourceRow(row.number, EXPECTED_HEADER), SourceRow(row.number, EXPECTED_SUBHEADER)]
            index += layout.height
            continue
        index += 1
        section = _section_name(row.cells, layout)
        if section is not None:
            out.append(SourceRow(row.number, (f"Trục nội dung: {section}",) + ("",) * (NCOLS - 1)))
            counter = 0 if not numbered else counter
            continue
        if not any(c and _clean(c) for c in row.cells) and not any(c is None for c in row.cells):
            out.append(SourceRow(row.number, ("",) * NCOLS))
            continue
        for column, cell in enumerate(row.cells):
            if column not in used and cell and _clean(cell):
                raise PlanFormatError(f"the row has text in a column without a heading (column "
                                      f"{column + 1}): {_clip(_clean(cell))!r}", line=row.number)
        if not has_axes:  # one axis for the whole table, named by the plan's title
            has_axes = True
            out.append(SourceRow(row.number, (f"Trục nội dung: {title}",) + ("",) * (NCOLS - 1)))
        cells: list[str | None] = [""] * NCOLS
        for role, column in layout.columns.items():
            if role in _CANONICAL:
                cells[_CANONICAL[role]] = row.cells[column] if column < len(row.cells) else ""
        if not numbered:
            counter += 1
            cells[_STT] = str(counter)
        out.append(SourceRow(row.number, tuple(cells)))
        output = _output(row, layout, previous_output)
        outputs[row.number] = previous_output = output
    return out, outputs


def _output(row: SourceRow, layout: _Layout, above: str) -> str:
    """The row's expected output: its cell's lines joined with "; ", the one above when the
    cell continues it (merged down)."""
    column = layout.columns.get("output")
    if column is None or column >= len(row.cells):
        return ""
    cell = row.cells[column]
    if cell is None:
        return above
    text = "; ".join(line for line in (_clean(part) for part in cell.split("\n")) if line)
    _refuse_forbidden(row.number, text)
    if _MARKUP.search(text) or _looks_mojibake(text):
        raise PlanFormatError(f"the expected output cell holds markup or text read in the wrong "
                              f"encoding ({_clip(text)!r}); a plan's cells are plain text",
                              line=row.number)
    return text


def _section_name(cells: Sequence[str | None], layout: _Layout) -> str | None:
    """The name of a section row ("I | Hoàn thiện thể chế", a cell across the table with
    "II. …" or "Trục nội dung: …"), ``None`` for any other row."""
    filled = [(i, _clean(c)) for i, c in enumerate(cells) if c and _clean(c)]
    if not filled:
        return None
    stt = layout.columns.get("stt")
    if stt is not None and stt < len(cells) and _ROMAN.fullmatch(_clean(cells[stt] or "")):
        return _clean(" ".join(text for i, text in filled if i != stt))
    if len(filled) != 1:
        return None
    column, text = filled[0]
    axis = _AXIS.match(text)
    if axis:
        return _strip_markup(axis.group("name"))
    if _ROMAN_PREFIX.match(text):
        return _ROMAN_PREFIX.sub("", text)
    if column == 0 and not _STT_NUMBER.fullmatch(text) and all(c == "" for c in cells[1:]):
        return text
    return None
