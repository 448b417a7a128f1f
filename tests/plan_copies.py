"""Word and Excel copies of Plan 916, written from the seed's text as a province would hold them.

* Word: the text before the table as paragraphs (the title a heading), one table: the header
  pair with its cells merged (STT, content, task, timeframe and note down over both rows,
  "Trách nhiệm cụ thể" across the two agency columns), the header pair repeated where the
  seed's pages break, each axis row one cell across the table, and where the text leaves STT,
  content, lead agencies or timeframe empty to continue the row above, the cell merged down
  (``vMerge``). Long task texts and agency lists are split into several paragraphs.
* Excel: two title rows and a blank row above the header, the same merges as ranges, no
  repeated header (a sheet has no pages): a row the seed restates after a page break is merged
  into its group instead; STT written as numbers, agency lists on several lines of a cell.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

from models.agencies import bundled

SEED = bundled("plan916.txt")
STT, CONTENT, TASK, LEAD, COORD, TIME, NOTE = range(7)
MERGED_DOWN = (STT, CONTENT, LEAD, TIME)  # the columns the text continues with an empty cell


@dataclass(frozen=True)
class _Row:
    kind: str  # "header", "subheader", "axis", "task"
    cells: list[str]


def _seed_parts(text: str) -> tuple[list[str], list[_Row]]:
    lines = text.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("STT\t"))
    preamble = [line for line in lines[:header] if line.strip()]
    rows: list[_Row] = []
    for line in lines[header:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        assert len(cells) == 7, line
        if cells[0] == "STT":
            kind = "header"
        elif cells[3] == "Đơn vị chủ trì":
            kind = "subheader"
        elif not any(cells[1:]):
            kind = "axis"
        else:
            kind = "task"
        rows.append(_Row(kind, cells))
    return preamble, rows


def _merges(rows: list[_Row]) -> list[list[bool]]:
    """Per row and column: whether the cell continues the one above (merged down)."""
    down = [[False] * 7 for _ in rows]
    for i, row in enumerate(rows):
        above = rows[i - 1] if i else None
        if row.kind == "subheader":
            down[i] = [c not in (LEAD, COORD) for c in range(7)]
        elif row.kind == "task" and above is not None and above.kind == "task":
            continues = not row.cells[STT]
            for c in MERGED_DOWN:
                empty = not row.cells[c]
                # STT and content continue only the group; lead and timeframe carry on until set
                down[i][c] = empty and (continues or c in (LEAD, TIME))
    return down


def _title(line: str) -> str:
    return line.lstrip("#").strip()


def _split_paragraphs(text: str, column: int) -> list[str]:
    if column in (LEAD, COORD) and "; " in text:
        return text.split("; ")
    if column == TASK and len(text) > 200:
        cut = text.index(" ", len(text) // 2)
        return [text[:cut], text[cut + 1:]]
    return [text]


def word_copy(seed: bytes = SEED) -> bytes:
    import docx

    preamble, rows = _seed_parts(seed.decode("utf-8"))
    document = docx.Document()
    for line in preamble:
        if line.startswith("#"):
            document.add_heading(_title(line), level=1)
        else:
            document.add_paragraph(line)
    table = document.add_table(rows=len(rows), cols=7)
    down = _merges(rows)
    for r, row in enumerate(rows):
        for c, text in enumerate(row.cells):
            cell = table.cell(r, c)
            if down[r][c]:
                cell._tc.vMerge = "continue"
                above = table.cell(r - 1, c)._tc
                if above.vMerge is None:
                    above.vMerge = "restart"
                continue
            first, *more = _split_paragraphs(text, c)
            cell.text = first
            for paragraph in more:
                cell.add_paragraph(paragraph)
    for r, row in enumerate(rows):  # across: after the merges down, which count grid columns
        if row.kind == "header":
            table.cell(r, LEAD).merge(table.cell(r, COORD))
        elif row.kind == "axis":
            table.cell(r, 0).merge(table.cell(r, NOTE))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def excel_copy(seed: bytes = SEED, *, column: int = 1) -> bytes:
    """``column``: where the table starts (1: column A)."""
    import openpyxl

    preamble, seed_rows = _seed_parts(seed.decode("utf-8"))
    rows: list[_Row] = []
    group = ""
    for row in seed_rows:
        if row.kind in ("header", "subheader") and len(rows) >= 2:
            continue  # the page-break header: a sheet has no pages
        if row.kind == "axis":
            group = ""
        elif row.kind == "task":
            cells = list(row.cells)
            if cells[STT] and cells[STT] == group:  # restated after a page break
                cells[STT] = cells[CONTENT] = ""
            group = cells[STT] or group
            row = _Row("task", cells)
        rows.append(row)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Phụ lục"
    titles = [_title(line) for line in preamble]
    for n, text in enumerate(titles, 1):
        sheet.cell(n, column, text)
        sheet.merge_cells(start_row=n, start_column=column, end_row=n, end_column=column + 6)
    first = len(titles) + 2  # a blank row between the titles and the table
    down = _merges(rows)
    for r, row in enumerate(rows):
        for c, text in enumerate(row.cells):
            if down[r][c] or not text:
                continue
            value: str | int = int(text) if c == STT and text.isdigit() else text
            if c in (LEAD, COORD):
                value = "\n".join(_split_paragraphs(text, c))
            sheet.cell(first + r, c + column, value)
    for c in range(7):  # merged ranges down each column
        r = 0
        while r < len(rows):
            end = r
            while end + 1 < len(rows) and down[end + 1][c]:
                end += 1
            if end > r:
                sheet.merge_cells(start_row=first + r, start_column=c + column,
                                  end_row=first + end, end_column=c + column)
            r = end + 1
    for r, row in enumerate(rows):
        if row.kind == "header":
            sheet.merge_cells(start_row=first + r, start_column=LEAD + column,
                              end_row=first + r, end_column=COORD + column)
        elif row.kind == "axis":
            sheet.merge_cells(start_row=first + r, start_column=column, end_row=first + r,
                              end_column=column + 6)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- PDF

_FONT = "DejaVuSans"
_PDF_WIDTHS = (32, 84, 256, 128, 110, 92, 84)  # points: 786, landscape A4 less its margins


def _fonts() -> None:
    """DejaVu Sans (it has every Vietnamese letter), from matplotlib's own copy."""
    from pathlib import Path

    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(f"{_FONT}-Bold", str(folder / "DejaVuSans-Bold.ttf")))


def pdf_copy(seed: bytes = SEED) -> bytes:
    """Plan 916 as a PDF printed from Word: landscape A4, a ruled table, each of the seed's pages
    one page with its header pair (merged as in the Word copy), cells spanning rows where the
    text continues the row above, an axis row one cell across the table, the title larger."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    _fonts()
    preamble, rows = _seed_parts(seed.decode("utf-8"))
    body = ParagraphStyle("cell", fontName=_FONT, fontSize=7, leading=8.5)
    bold = ParagraphStyle("axis", parent=body, fontName=f"{_FONT}-Bold")
    story: list[object] = []
    for line in preamble:
        size = 12 if line.startswith("#") else 9
        story.append(Paragraph(escape(_title(line)), ParagraphStyle(
            "pre", fontName=f"{_FONT}-Bold" if size == 12 else _FONT, fontSize=size,
            leading=size * 1.3, alignment=1, spaceAfter=6)))
    down = _merges(rows)
    pages = [i for i, row in enumerate(rows) if row.kind == "header"] + [len(rows)]
    for start, end in itertools.pairwise(pages):
        if start:
            story.append(PageBreak())
        story.append(_pdf_table(rows[start:end], down[start:end], body, bold, escape))
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=28, rightMargin=28,
                                 topMargin=28, bottomMargin=28, title="Kế hoạch 916/KH-UBND")
    document.build(story)
    return out.getvalue()


def _pdf_table(rows: list[_Row], down: list[list[bool]], body: object, bold: object,
               escape: object) -> object:
    import re

    from reportlab.platypus import Paragraph, Table, TableStyle

    data: list[list[object]] = []
    for r, row in enumerate(rows):
        style = bold if row.kind in ("header", "subheader", "axis") else body
        data.append(["" if down[r][c] else Paragraph(escape(re.sub(r"</?b>", "", text)), style)
                     for c, text in enumerate(row.cells)])
    commands: list[tuple[object, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, "black"),
                                          ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for c in range(7):  # spans down each column, where a cell continues the one above
        r = 0
        while r < len(rows):
            end = r
            while end + 1 < len(rows) and down[end + 1][c]:
                end += 1
            if end > r:
                commands.append(("SPAN", (c, r), (c, end)))
            r = end + 1
    for r, row in enumerate(rows):
        if row.kind == "header":
            commands.append(("SPAN", (LEAD, r), (COORD, r)))
        elif row.kind == "axis":
            commands.append(("SPAN", (0, r), (NOTE, r)))
    table = Table(data, colWidths=_PDF_WIDTHS)
    table.setStyle(TableStyle(commands))
    return table
