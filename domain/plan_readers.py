"""Readers of a plan document: the seed's text, an Excel workbook (.xlsx), a Word document (.docx).

Each reader turns its format into the one row model of ``domain.plan_parser`` (a
``PlanSource``: the text before the table and the table's rows, a cell merged down marked as
such); the rules of the table (merged cells, inheritance, agency lists, classes, cadences and
every refusal of a damaged table) are the parser's, written once. The text goes straight to
``parse_plan``.

* ``.xlsx`` (openpyxl): the first sheet with the header row; a merged range keeps its value in
  its first cell, the cells below it continue it, the ones to its right are empty; rows above the
  header are the title (the first of them) and the text that states the plan's number and date.
* ``.docx`` (python-docx): the first table with the header row; ``vMerge`` continues the cell
  above, ``gridSpan`` covers the grid columns to the right, the paragraphs of a cell are joined;
  the paragraphs before the table are the preamble (a "Heading"/"Title" paragraph is the title).

python-docx and openpyxl are imported inside the readers (the CLI's ``--help`` stays fast).
A file that is not a readable workbook or document is refused in one line, like a damaged text.
No database, no Telegram, no clock.
"""

from __future__ import annotations

import datetime
import io
import warnings
import zipfile
from collections.abc import Sequence
from typing import Any, Literal

from domain.plan_parser import (
    MAX_PLAN_BYTES,
    ParsedPlan,
    PlanFormatError,
    PlanSource,
    SourceRow,
    parse_plan,
    parse_source,
)

__all__ = ["FORMATS", "MAX_UNPACKED_BYTES", "Format", "document_format", "parse_document",
           "read_docx", "read_xlsx"]

Format = Literal["text", "xlsx", "docx"]
FORMATS: dict[str, Format] = {".txt": "text", ".md": "text", ".xlsx": "xlsx", ".xlsm": "xlsx",
                              ".docx": "docx"}
_NAMES = {"xlsx": "an Excel workbook (.xlsx)", "docx": "a Word document (.docx)"}
_PART = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}
_NOT_READ = {".doc": "docx", ".xls": "xlsx", ".pdf": "docx", ".odt": "docx", ".ods": "xlsx",
             ".rtf": "docx"}
# A 2 MB zip may unpack to far more than 2 MB: Plan 916 in Word or Excel unpacks to under
# 100 KB, so 32 MB is generous, and bounds what a crafted archive can cost.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
# A sheet's grid (rows x columns) read at most: the 2 MB bound on the file allows far fewer
# filled cells, but a merged range or a formatted row may claim any size.
MAX_SHEET_CELLS = 2_000_000
# A Word table's grid columns read at most (the appendix has 7).
MAX_TABLE_COLUMNS = 64


def document_format(name: str, data: bytes) -> Format:
    """Which reader: a zip holding a workbook or a document says so itself; otherwise the file's
    extension (text when it has none the readers know)."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except Exception:  # not a readable zip: the extension decides, its reader refuses it
            names = set()
        for fmt in ("docx", "xlsx"):
            if _PART[fmt] in names:
                return fmt
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in _NOT_READ or data.startswith(b"%PDF"):
        what = suffix or ".pdf"
        raise PlanFormatError(f"{what} files are not read; save the document as .docx or .xlsx "
                              "(or the appendix as UTF-8 text) and import that")
    return FORMATS.get(suffix, "text")


def parse_document(data: bytes, *, source: str = "<input>", name: str | None = None) -> ParsedPlan:
    """Parse a plan document in any format the readers know (``name``, or ``source``, gives the
    extension). Raises ``PlanFormatError`` naming ``source`` when it cannot be read."""
    try:
        fmt = document_format(name or source, data)
        if fmt == "text":
            return parse_plan(data, source=source)
        doc = read_xlsx(data) if fmt == "xlsx" else read_docx(data)
    except PlanFormatError as exc:
        if source == "<input>" or exc.source:
            raise
        raise PlanFormatError(exc.reason, line=exc.line, source=source, task=exc.task,
                              unit=exc.unit) from None
    return parse_source(doc, source=source)


# --------------------------------------------------------------------------- the archive


def _open_archive(data: bytes, fmt: Format) -> None:
    """Refuse, in one line, what is not an intact zip holding the format's main part."""
    what = _NAMES[fmt]
    if len(data) > MAX_PLAN_BYTES:
        raise PlanFormatError(f"the file has {len(data) / 2**20:.1f} MB; a plan document may have "
                              f"at most {MAX_PLAN_BYTES / 2**20:.0f} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            if unpacked > MAX_UNPACKED_BYTES:
                raise PlanFormatError(f"not read as {what}: it unpacks to {unpacked / 2**20:.0f} MB "
                                      f"(at most {MAX_UNPACKED_BYTES / 2**20:.0f} MB)")
            if _PART[fmt] not in {info.filename for info in infos}:
                raise PlanFormatError(f"not {what}: the archive has no {_PART[fmt]}")
            bad = archive.testzip()
    except PlanFormatError:
        raise
    except Exception as exc:  # zipfile's and zlib's errors are many (BadZipFile, zlib.error,
        # NotImplementedError for an unknown method, RuntimeError when encrypted, EOFError …)
        raise PlanFormatError(f"not readable as {what}: {_why(exc)} (damaged or cut "
                              "short?)") from None
    if bad is not None:
        raise PlanFormatError(f"not readable as {what}: its part {bad} is damaged")


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------- Excel


def read_xlsx(data: bytes) -> PlanSource:
    """The workbook's first sheet that has the header row (else its first sheet)."""
    _open_archive(data, "xlsx")
    import openpyxl

    try:
        with warnings.catch_warnings():  # "extension is not supported": not the plan's concern
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # the library's errors are many (zip, XML, KeyError …)
        raise PlanFormatError(f"not a readable Excel workbook (.xlsx): {_why(exc)}") from None
    sheets = [ws for ws in book.worksheets if hasattr(ws, "merged_cells")]
    if not sheets:
        raise PlanFormatError("no appendix table found: the workbook has no worksheet")
    read = [(ws, _sheet_rows(ws)) for ws in sheets]
    for index, (ws, rows) in enumerate(read):
        if any(_first(row.cells).casefold() == "stt" for row in rows):
            unit = "row" if index == 0 else f"sheet {ws.title!r} row"
            return PlanSource((), tuple(rows), unit=unit)
    return PlanSource((), tuple(read[0][1]), unit="row")


def _first(cells: Sequence[str | None]) -> str:
    return " ".join((cells[0] or "").split()) if cells else ""


def _sheet_rows(ws: Any) -> list[SourceRow]:
    height, width = ws.max_row or 0, ws.max_column or 0
    if height * width > MAX_SHEET_CELLS:
        raise PlanFormatError(f"sheet {ws.title!r} spans {height:,} rows and {width:,} columns; "
                              f"a plan's sheet has at most {MAX_SHEET_CELLS:,} cells")
    down: set[tuple[int, int]] = set()  # cells that continue the one above
    covered: set[tuple[int, int]] = set()  # cells covered by the one to their left
    merged = sum(max(min(rng.max_row, height) - rng.min_row + 1, 0)
                 * max(min(rng.max_col, width) - rng.min_col + 1, 0)
                 for rng in ws.merged_cells.ranges)
    if merged > MAX_SHEET_CELLS:  # overlapping ranges may claim many times the sheet
        raise PlanFormatError(f"sheet {ws.title!r} has merged ranges over {merged:,} cells; a "
                              f"plan's sheet has at most {MAX_SHEET_CELLS:,} cells")
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, min(rng.max_row, height) + 1):
            for c in range(rng.min_col, min(rng.max_col, width) + 1):
                if (r, c) == (rng.min_row, rng.min_col):
                    continue
                (down if c == rng.min_col else covered).add((r, c))
    grid: list[tuple[int, list[str | None]]] = []
    for r, cells in enumerate(ws.iter_rows(min_row=1, max_row=height, max_col=width), 1):
        values: list[str | None] = []
        for c, cell in enumerate(cells, 1):
            if (r, c) in down:
                values.append(None)
            elif (r, c) in covered:
                values.append("")
            else:
                values.append(_cell_text(cell.value))
        grid.append((r, values))
    # A table that starts in column B or further: the empty columns before it are not the table.
    used = [i for _, values in grid for i, v in enumerate(values) if v]
    start = min(used) if used else 0
    return [SourceRow(r, tuple(values[start:])) for r, values in grid]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    return str(value)


# --------------------------------------------------------------------------- Word


def read_docx(data: bytes) -> PlanSource:
    """The paragraphs before the document's first table with the header row, and that table."""
    _open_archive(data, "docx")
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # the library's errors are many (zip, XML, KeyError …)
        raise PlanFormatError(f"not a readable Word document (.docx): {_why(exc)}") from None
    preamble: list[tuple[int, str]] = []
    first_table: list[SourceRow] | None = None
    paragraphs = 0
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            paragraphs += 1
            para = Paragraph(child, document)
            preamble.append((paragraphs, _heading(para)))
        elif child.tag == qn("w:tbl"):
            rows = _table_rows(child, Paragraph)
            if any(_first(row.cells).casefold() == "stt" for row in rows):
                return PlanSource(tuple(preamble), tuple(rows), unit="table row")
            if first_table is None:
                first_table = rows
    if first_table is None:
        raise PlanFormatError("no appendix table found: the document has no table")
    return PlanSource(tuple(preamble), tuple(first_table), unit="table row")


def _heading(para: Any) -> str:
    text: str = para.text
    try:
        style = para.style.name if para.style is not None else ""
    except (KeyError, ValueError, AttributeError):  # a style the document does not define
        style = ""
    if text.strip() and str(style).startswith(("Heading", "Title")):
        return f"# {text}"
    return text


def _table_rows(tbl: Any, paragraph: Any) -> list[SourceRow]:
    rows: list[SourceRow] = []
    for number, tr in enumerate(tbl.tr_lst, 1):
        cells: list[str | None] = [""] * _columns(tr.grid_before, 0, number)
        for tc in tr.tc_lst:
            span = _columns(tc.grid_span, len(cells), number)
            if tc.vMerge == "continue":
                cells.append(None)
            else:
                cells.append("\n".join(paragraph(p, None).text for p in tc.p_lst))
            cells.extend([""] * (span - 1))
        rows.append(SourceRow(number, tuple(cells)))
    return rows


def _columns(count: int, before: int, number: int) -> int:
    """A span as the document states it, refused past ``MAX_TABLE_COLUMNS`` (a crafted
    ``gridSpan`` of a billion columns must not cost a billion cells)."""
    if before + count > MAX_TABLE_COLUMNS:
        raise PlanFormatError(f"the row spans more than {MAX_TABLE_COLUMNS} columns; the "
                              "appendix table has 7", line=number, unit="table row")
    return count
