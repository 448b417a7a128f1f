"""Pure parser of a plan document's appendix: the task registry table.

The input is markdown converted from a PDF (see ``docs/domain.md``).  Only the appendix
table matters: it is located by its header row, the header pair repeated after each page
break is skipped, merged cells are resolved (STT/content, lead agencies and timeframe are
inherited), agency lists are split, and every timeframe gets a normalized cadence.

No database, no Telegram: ``parse_plan(bytes) -> ParsedPlan`` or ``PlanFormatError``.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "CADENCES",
    "EXPECTED_HEADER",
    "EXPECTED_SUBHEADER",
    "ParsedAxis",
    "ParsedPlan",
    "ParsedTask",
    "PlanFormatError",
    "normalize_cadence",
    "parse_plan",
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

# Column indexes of a data row.
_STT, _CONTENT, _TASK, _LEAD, _COORD, _TIME, _NOTE = range(NCOLS)

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
    "other",
)


class PlanFormatError(ValueError):
    """The document cannot be read as a plan. The message says what is wrong and where."""

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None) -> None:
        self.reason = message
        self.line = line
        self.source = source
        where = f"line {line}: " if line is not None else ""
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{where}{message}")


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
    """Map a timeframe as written to one of ``CADENCES`` ("other" when unknown)."""
    key = _key(timeframe).rstrip(" .;")
    return _CADENCE_BY_TIMEFRAME.get(key, "other")


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
    protected: list[str] = []

    def _hold(m: re.Match[str]) -> str:
        protected.append(m.group(0))
        return f"\x00{len(protected) - 1}\x00"

    held = _PROTECTED.sub(_hold, text)
    names: list[str] = []
    for raw in re.split(r"[;,]", held):
        item = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], raw)
        item = _clean(item)
        if not item:
            continue
        if _ELLIPTICAL.match(item) and names:
            prev = names[-1]
            levels = list(_LEVEL.finditer(prev))
            if levels:
                prefix = prev[: levels[-1].start()]
            else:
                prefix = prev.rsplit(" ", 1)[0] if " " in prev else prev
            item = f"{prefix} {item}"
        if item not in names:
            names.append(item)
    if not names:
        return (), ""
    if not all(_is_agency(n) for n in names):
        return (), text
    return tuple(names), ""


# --------------------------------------------------------------------------- document

_AXIS = re.compile(
    r"^(?:<[^>]*>|\*\*|\s)*(?:trục|trực|thực)\s+nội\s+dung\s*:\s*(?P<name>.*)$",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)\s*#*\s*$")
_PLAN_NUMBER = re.compile(
    r"kế\s+hoạch\s+số\s*:?\s*(?P<num>\d+)\s*/\s*(?P<suffix>[\w\-]+)", re.IGNORECASE
)
_PLAN_DATE = re.compile(
    r"ngày\s*(?P<d>\d{1,2})\s*tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})", re.IGNORECASE
)


def _strip_markup(text: str) -> str:
    text = _TAG.sub("", text)
    text = text.replace("**", "").replace("__", "")
    return _clean(text)


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


def _cells(line: str) -> list[str]:
    cells = [_clean(c) for c in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _fmt_cols(cols: tuple[str, ...] | list[str]) -> str:
    return " | ".join(c if c else "(empty)" for c in cols)


def _is_header_candidate(cells: list[str]) -> bool:
    return bool(cells) and cells[0].casefold() == "stt"


def _matches(cells: list[str], expected: tuple[str, ...]) -> bool:
    padded = cells + [""] * (NCOLS - len(cells))
    return len(cells) <= NCOLS and [c.casefold() for c in padded] == [
        e.casefold() for e in expected
    ]


def _wrong_columns(lineno: int, cells: list[str]) -> PlanFormatError:
    return PlanFormatError(
        "the table header has the wrong columns: expected "
        f"{_fmt_cols(EXPECTED_HEADER)}; found {_fmt_cols(cells)}",
        line=lineno,
    )


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


def parse_plan(data: bytes, *, source: str = "<input>") -> ParsedPlan:
    """Parse a plan document (the full markdown or only its appendix).

    Raises ``PlanFormatError`` (a ``ValueError``) when the document cannot be read; the
    message names ``source`` and the line.  Non-fatal oddities end up in ``warnings``.
    """
    try:
        return _parse(data)
    except PlanFormatError as exc:
        if source == "<input>":
            raise
        raise PlanFormatError(exc.reason, line=exc.line, source=source) from None


def _parse(data: bytes) -> ParsedPlan:
    text = _decode(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    # 1. Locate the header row.
    header_idx: int | None = None
    candidate: tuple[int, list[str]] | None = None
    for idx, line in enumerate(lines):
        if "\t" not in line:
            continue
        cells = _cells(line)
        if not _is_header_candidate(cells):
            continue
        if _matches(cells, EXPECTED_HEADER):
            header_idx = idx
            break
        if candidate is None:
            candidate = (idx + 1, cells)
    if header_idx is None:
        if candidate is not None:
            raise _wrong_columns(*candidate)
        raise PlanFormatError(
            "no appendix table found: expected a header row with the columns "
            f"{_fmt_cols(EXPECTED_HEADER)} (tab-separated), followed by a row with "
            f"{EXPECTED_SUBHEADER[3]} | {EXPECTED_SUBHEADER[4]}"
        )

    warnings: list[str] = []

    # 2. Preamble: title, plan number and date (closest to the table wins).
    title = ""
    number: str | None = None
    issued_on: datetime.date | None = None
    for idx in range(header_idx):
        line = lines[idx]
        heading = _HEADING.match(line)
        if heading:
            title = _strip_markup(heading.group("text"))
        m = _PLAN_NUMBER.search(line)
        if m:
            number = f"{m.group('num')}/{m.group('suffix')}"
            issued_on = None
            d = _PLAN_DATE.search(line, m.end())
            if d:
                try:
                    issued_on = datetime.date(int(d["y"]), int(d["m"]), int(d["d"]))
                except ValueError:
                    warnings.append(f"line {idx + 1}: invalid issue date {d.group(0)!r}; ignored")

    # 3. Table rows.
    axes: list[ParsedAxis] = []
    rows: list[_Row] = []
    expect_subheader_after: int | None = None  # line number of the header just seen
    group = -1
    group_stt = ""
    group_content = ""
    seen_stt: dict[str, int] = {}  # STT -> line where its group started, in this axis
    lead: tuple[str, ...] = ()
    timeframe = ""
    cadence = "other"
    axis_tasks: dict[int, int] = {}

    for idx in range(header_idx, len(lines)):
        lineno = idx + 1
        line = lines[idx]
        if not line.strip():
            continue
        cells = _cells(line)
        if expect_subheader_after is not None:
            if not _matches(cells, EXPECTED_SUBHEADER):
                raise PlanFormatError(
                    f"expected the sub-header row {_fmt_cols(EXPECTED_SUBHEADER)} after the "
                    f"header row at line {expect_subheader_after}; found {_fmt_cols(cells)}",
                    line=lineno,
                )
            expect_subheader_after = None
            continue
        if _is_header_candidate(cells):
            if not _matches(cells, EXPECTED_HEADER):
                raise _wrong_columns(lineno, cells)
            expect_subheader_after = lineno
            continue
        first = cells[0] if cells else ""
        axis_match = _AXIS.match(first) if first else None
        if axis_match and not any(cells[1:]):
            name = _strip_markup(axis_match.group("name"))
            axes.append(ParsedAxis(number=len(axes) + 1, name=name))
            axis_tasks[len(axes)] = 0
            if not name:
                warnings.append(f"line {lineno}: axis {len(axes)} has no name")
            group_stt, group_content, seen_stt = "", "", {}
            lead, timeframe, cadence = (), "", "other"
            continue
        if "\t" not in line:
            warnings.append(f"line {lineno}: ignored text outside the table: {_clean(line)!r}")
            continue
        if not cells:
            continue  # a row of empty cells
        if _matches(cells, EXPECTED_SUBHEADER):
            continue  # a stray sub-header row
        if len(cells) > NCOLS:
            raise PlanFormatError(
                f"the row has {len(cells)} cells, expected at most {NCOLS} "
                f"({_fmt_cols(EXPECTED_HEADER)})",
                line=lineno,
            )
        cells += [""] * (NCOLS - len(cells))
        if not axes:
            raise PlanFormatError(
                "a task row comes before any axis heading row ('Trục nội dung: …')",
                line=lineno,
            )
        axis = len(axes)
        if not cells[_TASK]:
            raise PlanFormatError(
                "the row has no task text (column Nhiệm vụ cụ thể is empty)", line=lineno
            )

        stt, content = cells[_STT], cells[_CONTENT]
        if not stt:
            if not group_stt:
                raise PlanFormatError(
                    f"the row has no STT but continues no numbered row of axis {axis}",
                    line=lineno,
                )
            if content and content != group_content:
                warnings.append(
                    f"line {lineno}: content {content!r} without STT; "
                    f"kept under row {group_stt} of axis {axis}"
                )
            else:
                content = group_content
        elif stt == group_stt:
            # The same row restated (typically after a page break): same group.
            if not content:
                content = group_content
            elif content != group_content:
                warnings.append(
                    f"line {lineno}: row {stt} of axis {axis} restated with a different "
                    f"content {content!r} (was {group_content!r})"
                )
        else:
            if stt in seen_stt:
                raise PlanFormatError(
                    f"row {stt} of axis {axis} appears again after row {group_stt} "
                    f"(it started at line {seen_stt[stt]})",
                    line=lineno,
                )
            group += 1
            seen_stt[stt] = lineno
            group_stt = stt
            group_content = content
            if not content:
                warnings.append(f"line {lineno}: row {stt} of axis {axis} has no content")

        if cells[_LEAD]:
            names, instruction = split_agencies(cells[_LEAD])
            if instruction:
                warnings.append(
                    f"line {lineno}: lead cell is not a list of agencies: {instruction!r}"
                )
            lead = names
        elif not lead:
            warnings.append(f"line {lineno}: task has no lead agency")
        coordinating, coordination_note = split_agencies(cells[_COORD])

        if cells[_TIME]:
            timeframe = cells[_TIME]
            cadence = normalize_cadence(timeframe)
            if cadence == "other":
                warnings.append(
                    f"line {lineno}: unknown timeframe {timeframe!r}; cadence set to 'other'"
                )
        elif not timeframe:
            warnings.append(f"line {lineno}: task has no timeframe; cadence set to 'other'")

        axis_tasks[axis] += 1
        rows.append(
            _Row(
                line=lineno,
                axis=axis,
                group=group,
                row=group_stt,
                content=content,
                task=cells[_TASK],
                lead=lead,
                coordinating=coordinating,
                coordination_note=coordination_note,
                timeframe=timeframe,
                cadence=cadence,
                note=cells[_NOTE],
            )
        )

    if expect_subheader_after is not None:
        raise PlanFormatError(
            f"the header row is not followed by the sub-header row {_fmt_cols(EXPECTED_SUBHEADER)}",
            line=expect_subheader_after,
        )
    if not axes:
        raise PlanFormatError(
            "the appendix table has no axis heading row ('Trục nội dung: …')",
            line=header_idx + 1,
        )
    if not rows:
        raise PlanFormatError("the appendix table has no task rows", line=header_idx + 1)
    for number_, count in axis_tasks.items():
        if count == 0:
            warnings.append(f"axis {number_} ({axes[number_ - 1].name}) has no task")

    # 4. Codes: "<axis>.<STT>", plus a letter when the group has several tasks.
    sizes: dict[int, int] = {}
    for r in rows:
        sizes[r.group] = sizes.get(r.group, 0) + 1
    tasks: list[ParsedTask] = []
    index_in_group: dict[int, int] = {}
    for position, r in enumerate(rows, start=1):
        i = index_in_group.get(r.group, 0)
        index_in_group[r.group] = i + 1
        code = f"{r.axis}.{r.row}"
        if sizes[r.group] > 1:
            code += _letters(i)
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
            )
        )

    return ParsedPlan(
        number=number,
        issued_on=issued_on,
        title=title,
        axes=tuple(axes),
        tasks=tuple(tasks),
        warnings=tuple(warnings),
    )


def _letters(i: int) -> str:
    """0 → a, 25 → z, 26 → aa …"""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(ord("a") + rem) + out
    return out
