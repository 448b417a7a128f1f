"""Readers of a plan document: the seed's text, an Excel workbook (.xlsx), a Word document (.docx),
a PDF with a text layer.

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
* ``.pdf`` (pdfplumber): the ruled tables of its pages, from the first with the header row on,
  read as one table (the header pair Word repeats on each page is the text's page-break header);
  a cell that spans rows is in its first row, the rows below continue it, a cell that spans
  columns covers the ones to its right (told apart by the cells' boxes); a cell's lines are
  joined with spaces (in a PDF a line break is layout: agency lists are read by their ``;`` and
  ``,``); the text above the table is the preamble, its lines in a larger font the title. A
  PDF without a text layer (a scan) or without a ruled table is refused: it cannot be read.

python-docx, openpyxl and pdfplumber are imported inside the readers (the CLI's ``--help``
stays fast). A file that is not a readable workbook, document or PDF is refused in one line,
like a damaged text.
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
    looks_like_header,
    parse_plan,
    parse_source,
)

__all__ = ["FORMATS", "MAX_PDF_PAGES", "MAX_UNPACKED_BYTES", "Format", "document_format",
           "parse_document", "read_docx", "read_pdf", "read_xlsx"]

Format = Literal["text", "xlsx", "docx", "pdf"]
FORMATS: dict[str, Format] = {".txt": "text", ".md": "text", ".xlsx": "xlsx", ".xlsm": "xlsx",
                              ".docx": "docx", ".pdf": "pdf"}
_NAMES = {"xlsx": "an Excel workbook (.xlsx)", "docx": "a Word document (.docx)"}
_PART = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}
_NOT_READ = {".doc": "docx", ".xls": "xlsx", ".odt": "docx", ".ods": "xlsx", ".rtf": "docx"}
# A 2 MB zip may unpack to far more than 2 MB: Plan 916 in Word or Excel unpacks to under
# 100 KB, so 32 MB is generous, and bounds what a crafted archive can cost.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
# A sheet's grid (rows x columns) read at most: the 2 MB bound on the file allows far fewer
# filled cells, but a merged range or a formatted row may claim any size.
MAX_SHEET_CELLS = 2_000_000
# A Word table's grid columns read at most (the appendix has 7).
MAX_TABLE_COLUMNS = 64
# A PDF's pages read at most: Plan 916's appendix has 7; pdfplumber takes a few tenths of a
# second a page, so this bounds the time a file can cost.
MAX_PDF_PAGES = 100
# How far up from its end a PDF says "%%EOF" (a file cut short lacks it).
_PDF_TAIL = 2048


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
    if data.startswith(b"%PDF"):
        return "pdf"
    if suffix in _NOT_READ:
        raise PlanFormatError(f"{suffix} files are not read; save the document as .docx, .xlsx "
                              "or .pdf (or the appendix as UTF-8 text) and import that")
    return FORMATS.get(suffix, "text")


def parse_document(data: bytes, *, source: str = "<input>", name: str | None = None) -> ParsedPlan:
    """Parse a plan document in any format the readers know (``name``, or ``source``, gives the
    extension). Raises ``PlanFormatError`` naming ``source`` when it cannot be read."""
    try:
        fmt = document_format(name or source, data)
        if fmt == "text":
            return parse_plan(data, source=source)
        doc = _READERS[fmt](data)
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
        if any(looks_like_header(row.cells) for row in rows):
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
            if any(looks_like_header(row.cells) for row in rows):
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


# --------------------------------------------------------------------------- PDF


def read_pdf(data: bytes) -> PlanSource:
    """The ruled tables of the PDF's pages from the first with the header row on, as one table;
    the text above that table is the preamble."""
    _check_pdf(data)
    import pdfminer.settings
    import pdfplumber

    # Strict: a damaged stream raises instead of being read as far as it goes (a page's content
    # cut off there would lose its rows, and the rest could still read as a plan).
    pdfminer.settings.STRICT = True

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = list(pdf.pages)
            if len(pages) > MAX_PDF_PAGES:
                raise PlanFormatError(f"the PDF has {len(pages)} pages; a plan read from a PDF "
                                      f"has at most {MAX_PDF_PAGES}")
            return _pdf_source(pages)
    except PlanFormatError:
        raise
    except Exception as exc:  # pdfminer's and pypdfium2's errors are many (PSEOF, PDFSyntaxError …)
        raise PlanFormatError(f"not a readable PDF: {_why(exc)} (damaged or cut short?)") from None


def _check_pdf(data: bytes) -> None:
    """Refuse, in one line, what is not a whole PDF: pdfminer reads on past damage and a PDF
    cut short would lose its last pages (and their tasks) without a word."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanFormatError(f"the file has {len(data) / 2**20:.1f} MB; a plan document may have "
                              f"at most {MAX_PLAN_BYTES / 2**20:.0f} MB")
    if not data.startswith(b"%PDF-"):
        raise PlanFormatError("not a PDF: it does not start with %PDF-")
    if b"%%EOF" not in data[-_PDF_TAIL:]:
        raise PlanFormatError("not readable as a PDF: it does not end with %%EOF (cut short?)")


def _pdf_source(pages: Sequence[Any]) -> PlanSource:
    rows: list[SourceRow] = []
    preamble: list[tuple[int, str]] = []
    text_seen = False
    for page in pages:
        text_seen = text_seen or bool(page.chars)
        for table in page.find_tables():
            cells = _pdf_rows(table)
            if not rows:
                if not any(looks_like_header(row) for row in cells):
                    continue  # a table before the appendix (a letterhead's)
                preamble = _pdf_preamble(page, table.bbox[1])
            rows.extend(SourceRow(len(rows) + 1, row) for row in cells)
    if not text_seen:
        raise PlanFormatError("the PDF has no text layer (a scan?): save the document as .docx "
                              "or .xlsx, or run it through text recognition first")
    if not rows:
        raise PlanFormatError("no appendix table found: the PDF has no ruled table with the "
                              "header row STT | Nội dung | Nhiệm vụ cụ thể | …")
    return PlanSource(tuple(preamble), tuple(rows), unit="table row", preamble_unit="line")


def _pdf_rows(table: Any) -> list[tuple[str | None, ...]]:
    """A table's rows as cells: ``None`` where a cell above spans down over it, ``""`` where one
    to its left spans across it (pdfplumber gives ``None`` for both: the boxes tell them apart)."""
    texts = table.extract()
    columns = sorted({cell[0] for cell in table.cells})
    out: list[tuple[str | None, ...]] = []
    for row, words in zip(table.rows, texts, strict=True):
        boxes = [box for box in row.cells if box is not None]
        values: list[str | None] = []
        for x0, box, text in zip(columns, row.cells, words, strict=True):
            if box is not None:
                values.append(" ".join((text or "").split("\n")))
            elif any(b[0] < x0 < b[2] for b in boxes):
                values.append("")
            else:
                values.append(None)
        out.append(tuple(values))
    return out


def _pdf_preamble(page: Any, top: float) -> list[tuple[int, str]]:
    """The text above the table: its lines in a larger font than the smallest are the title
    (one ``# …`` heading), the lines between are joined as the paragraph they wrap (the plan's
    number and date may fall on two lines); each numbered by its first line."""
    if top <= 0:
        return []
    lines = [line for line in page.crop((0, 0, page.width, top)).extract_text_lines(
        return_chars=True) if line["chars"]]
    sizes = [max(c["size"] for c in line["chars"]) for line in lines]
    body = min(sizes, default=0.0)
    out: list[tuple[int, str]] = []
    run: list[str] = []
    run_title = False
    for number, (line, size) in enumerate(zip(lines, sizes, strict=True), 1):
        title = size > body * 1.15
        if run and title != run_title:
            out.append((number - len(run), ("# " if run_title else "") + " ".join(run)))
            run = []
        run.append(line["text"])
        run_title = title
    if run:
        out.append((len(lines) + 1 - len(run), ("# " if run_title else "") + " ".join(run)))
    return out


_READERS = {"xlsx": read_xlsx, "docx": read_docx, "pdf": read_pdf}
