"""The official report of a period as a Word document, in the format of Decree 30/2020/NĐ-CP
(Appendix I), written from the plain values of ``models.report_doc``.

The format rules kept here: A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm;
Times New Roman throughout, the body at 14 pt; the header as a borderless two-column table —
the governing body over the issuing body (bold) and the number and symbol on the left, the
national name (bold, capitals) over the motto (bold) and the place and date (italic) on the
right; the title centred in bold; page numbers centred at the top from the second page; the
closing as a second borderless table: "Nơi nhận" (bold italic, 12 pt, its list at 11 pt) on the
left, the signer's title and name on the right.

Every word is a catalog entry (English msgids, Vietnamese in full), so ``--lang en`` gives the
same document in English; dates follow the catalog's pattern ("ngày 05 tháng 01 năm 2027",
the two-digit day and month Decree 30 shows). python-docx is imported when a document is
written (a bot idles without it); the document is drawn in the render worker when the bot runs
one (views/render_pool.py), where /report_doc also reads its data (``handlers.export.document``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from telegram.constants import MessageLimit

from domain.docnumber import blank_number
from domain.periods import Period
from models.extensions import ExtensionRow
from models.report_doc import AxisSection, ExplanationEntry, LevelRanking, ReportDoc, TaskEntry
from models.rollup import Counts
from models.status import Viewer
from views import render_pool
from views.export import xlsx_text
from views.html import clip, clip_html, esc
from views.i18n import (
    N_,
    format_date,
    format_date_as,
    format_number,
    format_numeric_date,
    format_percent,
    ngettext,
)
from views.i18n import gettext as _
from views.labels import axis_name, extension_decision, level_name
from views.rollup import period_label
from views.screen import Attachment, Screen
from views.status import scope_label

if TYPE_CHECKING:
    from docx.document import Document
    from docx.shared import Length
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
RECIPIENTS_PT = 11
NATIONAL_PT = 12  # Decree 30: the national name at 12-13 pt, on one line
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
A4_MM = (210, 297)
REPORT_KIND = "BC"  # Decree 30/2020, Appendix III: the abbreviation of "Báo cáo"

# Decree 30's date line: the day and month with two digits ("ngày 05 tháng 01 năm 2027").
# A Babel pattern, translated: the Vietnamese catalog gives "'ngày' dd 'tháng' MM 'năm' yyyy".
DATE_PATTERN = N_("MMMM d, yyyy")


def write_docx(report: ReportDoc) -> bytes:
    """The document's bytes (in the render worker when the bot runs one)."""
    return render_pool.run(_write_docx, report)


def _write_docx(report: ReportDoc) -> bytes:
    from docx import Document as new_document

    document = new_document()
    _page(document)
    _fonts(document)
    _header_table(document, report)
    _title(document, report)
    _opening(document, report)
    _summary(document, report)
    _axes(document, report)
    _ranking(document, report)
    _extensions(document, report)
    _explanations(document, report)
    _closing(document, report)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- page, fonts ----------------------------------------------------------------------------

def _page(document: Document) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)
    # Page numbers centred at the top, from the second page on (the first has none).
    section.different_first_page_header_footer = True
    _page_number(section.header.paragraphs[0])


def _page_number(paragraph: Paragraph) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    paragraph._p.append(field)


def _fonts(document: Document) -> None:
    """Times New Roman for every script (Vietnamese letters are in the Latin ranges, but Word
    picks the East Asian font for some), black, in the styles every paragraph uses."""
    from docx.shared import Pt, RGBColor

    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        style = document.styles[name]
        font = style.font
        font.name = FONT
        font.size = Pt(BODY_PT)
        font.color.rgb = RGBColor(0, 0, 0)
        _all_scripts(style.element)
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        style = document.styles[name]
        style.font.bold = True
        style.font.italic = False
        fmt = style.paragraph_format
        fmt.space_before, fmt.space_after = Pt(6), Pt(3)
    normal = document.styles["Normal"].paragraph_format
    normal.space_before, normal.space_after = Pt(0), Pt(6)
    normal.line_spacing = 1.15


def _all_scripts(element: object) -> None:
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


# --- the header: issuing body, national name, number, place and date ------------------------

def _header_table(document: Document, report: ReportDoc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    table = _borderless(document, rows=2, widths=(Mm(63), Mm(102)))
    left, right = table.cell(0, 0), table.cell(0, 1)
    issuer = report.issuer
    _line(left, issuer.parent, size=TABLE_PT, first=True)
    _line(left, issuer.body, size=TABLE_PT, bold=True)
    _rule(left, cell_mm=63, rule_mm=22)
    _line(right, _("SOCIALIST REPUBLIC OF VIET NAM"), size=NATIONAL_PT, bold=True, first=True)
    _line(right, _("Independence - Freedom - Happiness"), size=BODY_PT, bold=True)
    _rule(right, cell_mm=102, rule_mm=62)
    number = _("No.: {number}").format(number=blank_number(REPORT_KIND, issuer.symbol))
    _line(table.cell(1, 0), number, size=TABLE_PT, first=True)
    place_date = _("{place}, {date}").format(place=issuer.place, date=_made_on(report))
    _line(table.cell(1, 1), place_date, size=BODY_PT, italic=True, first=True)
    for cell in table._cells:
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _rule(cell: _Cell, *, cell_mm: float, rule_mm: float) -> None:
    """The short solid line Decree 30 draws under the issuing body and under the motto: an
    empty paragraph, indented to the line's length, with a bottom border."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    paragraph = cell.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Mm((cell_mm - rule_mm) / 2 - 2)  # less the cell's padding
    fmt.space_after, fmt.line_spacing = Pt(0), Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _made_on(report: ReportDoc) -> str:
    return format_date_as(report.made_on, _(DATE_PATTERN))


def _cited(report: ReportDoc) -> str:
    # "Kế hoạch số 916/KH-UBND ngày 25/02/2016"
    return format_numeric_date(report.plan_issued_on) if report.plan_issued_on else ""


def _borderless(document: Document, *, rows: int, widths: tuple[Length, ...]) -> Table:
    """A table without borders (Decree 30 lays the header and the closing out in columns)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = document.add_table(rows=rows, cols=len(widths))
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)
    _widths(table, widths)
    return table


def _widths(table: Table, widths: tuple[Length, ...]) -> None:
    """Fixed column widths, in the grid and in every cell (Word reads the cells, LibreOffice
    the grid)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT

    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _line(cell: _Cell, text: str, *, size: int, bold: bool = False, italic: bool = False,
          first: bool = False) -> Paragraph:
    """One line of a table cell (the cell's first paragraph when ``first``)."""
    from docx.shared import Pt

    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(xlsx_text(text))
    run.font.size, run.font.bold, run.font.italic = Pt(size), bold, italic
    return paragraph


# --- the title and opening ------------------------------------------------------------------

def title_text(report: ReportDoc) -> str:
    """"Kết quả thực hiện Kế hoạch số 916/KH-UBND ngày 25/02/2016 … 6 tháng cuối năm 2026"."""
    return _("Results of implementing Plan No. {number} of {date} in {period}").format(
        number=report.plan_number, date=_cited(report), period=period_label_doc(report))


def period_label_doc(report: ReportDoc) -> str:
    """The period as a report names it: "Quý IV năm 2026", "6 tháng cuối năm 2026", "năm 2026"."""
    return _period_name(report.period)


def _period_name(period: Period) -> str:
    if period.kind == "quarter":
        roman = ("I", "II", "III", "IV")[(period.start.month - 1) // 3]
        return _("quarter {roman} of {year}").format(roman=roman, year=period.start.year)
    return period_label(period)


def _title(document: Document, report: ReportDoc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    first = document.add_paragraph()
    first.paragraph_format.space_before = Pt(18)
    first.paragraph_format.space_after = Pt(0)
    first.add_run(_("REPORT")).bold = True
    second = document.add_paragraph()
    second.add_run(xlsx_text(title_text(report))).bold = True
    for paragraph in (first, second):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if report.scope_name:
        scope = document.add_paragraph(xlsx_text(_("Scope: {scope}").format(scope=report.scope_name)))
        scope.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _body(document: Document, text: str, *, bold_lead: str = "") -> Paragraph:
    """A body paragraph, justified, first line indented (with an optional bold lead-in)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Mm(10)
    if bold_lead:
        paragraph.add_run(xlsx_text(bold_lead)).bold = True
    paragraph.add_run(xlsx_text(text))
    return paragraph


def _opening(document: Document, report: ReportDoc) -> None:
    _body(document, _("Carrying out Plan No. {number} of {date} of the Provincial People's Committee, "
                      "{body} reports the results of {period} as follows:").format(
        number=report.plan_number, date=_cited(report), body=report.issuer.name,
        period=period_label_doc(report)))


# --- I. the summary -------------------------------------------------------------------------

def four_way(counts: Counts) -> tuple[int, ...]:
    """(completed on time, completed late, in progress within the deadline, overdue)."""
    return tuple(counts.by_official().values())


def rate(counts: Counts) -> str:
    """The on-time rate (on time among the settled: completed or overdue), "–" when none is."""
    value = counts.on_time_rate
    return "–" if value is None else format_percent(value)


FOUR_WAY = (N_("Completed on time"), N_("Completed late"), N_("In progress, within the deadline"),
            N_("Overdue"))


def counts_sentence(counts: Counts) -> str:
    on_time, late, within, overdue = four_way(counts)
    n = format_number
    return _("{owed} items owed: {on_time} completed on time, {late} completed late, {within} in "
             "progress within the deadline, {overdue} overdue (of the completed, {reported} await "
             "verification).").format(owed=n(counts.owed), on_time=n(on_time), late=n(late),
                                      within=n(within), overdue=n(overdue), reported=n(counts.reported))


def _heading(document: Document, text: str, level: int) -> None:
    document.add_heading(xlsx_text(text), level=level)


def _summary(document: Document, report: ReportDoc) -> None:
    _heading(document, _("I. OVERALL RESULTS"), 1)
    _body(document, _("In {period}, across the plan's {tasks} tasks: ").format(
        period=period_label_doc(report), tasks=format_number(len(report.task_codes)))
          + counts_sentence(report.totals))
    rows = [(f"{a.number}. {axis_name(a.number, a.name)}", a.counts) for a in report.axes]
    _counts_table(document, _("Axis"), [*rows, (_("Total"), report.totals)])
    _body(document, _("The on-time rate counts the items completed on time among those completed "
                      "or overdue; items still within their deadline are left out."))


def _counts_table(document: Document, first: str, rows: list[tuple[str, Counts]]) -> None:
    from docx.shared import Mm

    headers = [first, _("Items owed"), *(_(label) for label in FOUR_WAY), _("On time")]
    body = [[label, format_number(counts.owed), *(format_number(v) for v in four_way(counts)),
             rate(counts)] for label, counts in rows]
    _grid(document, headers, body, (Mm(55), *(Mm(19),) * 5, Mm(15)))


def _grid(document: Document, headers: list[str], rows: list[list[str]],
          widths: tuple[Length, ...], text_columns: tuple[int, ...] = (0,)) -> Table:
    """A table with borders: a bold header row, then the rows (text and numbers at 13 pt);
    columns other than ``text_columns`` hold figures."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _cell(cell, text, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row, values in zip(table.rows[1:], rows, strict=True):
        for index, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            _cell(cell, text)
            if index not in text_columns:  # figures right-aligned, names left
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _widths(table, widths)
    return table


def _cell(cell: _Cell, text: str, *, bold: bool = False, size: int = TABLE_PT) -> None:
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(xlsx_text(text))
    run.font.size, run.font.bold = Pt(size), bold


# --- II. one section per axis ---------------------------------------------------------------

def axis_heading(axis: AxisSection) -> str:
    return _("{number}. Axis: {name}").format(number=axis.number, name=axis_name(axis.number, axis.name))


def _axes(document: Document, report: ReportDoc) -> None:
    _heading(document, _("II. RESULTS BY AXIS"), 1)
    for axis in report.axes:
        _heading(document, axis_heading(axis), 2)
        _body(document, counts_sentence(axis.counts))
        for task in axis.tasks:
            _task(document, task)


def _task(document: Document, task: TaskEntry) -> None:
    _body(document, clip(task.task, 600), bold_lead=_("Task {code}: ").format(code=task.code))
    lead = _("Lead: {lead}.").format(lead=task.lead or "-")
    if task.by_class:
        lead += " " + _("Owed by every member of the class.")
    _body(document, lead + " " + (counts_sentence(task.counts) if task.counts.owed
                                  else _("Nothing owed in this period.")))
    if task.late:
        _body(document, _("Agencies late: {names}.").format(names="; ".join(task.late)))


# --- III. the ranking -----------------------------------------------------------------------

def _ranking(document: Document, report: ReportDoc) -> None:
    _heading(document, _("III. RANKING OF AGENCIES"), 1)
    if not report.ranking:
        _body(document, _("No agency owed anything in this period."))
    for level in report.ranking:
        _heading(document, level_name(level.level), 2)
        _rank_table(document, level)


def _rank_table(document: Document, level: LevelRanking) -> None:
    from docx.shared import Mm

    headers = [_("Rank"), _("Agency"), _("Items owed"), _("Completed on time"), _("Overdue"),
               _("On time")]
    rows = [[format_number(line.position), line.name, format_number(line.counts.owed),
             format_number(line.counts.on_time), format_number(line.counts.overdue),
             rate(line.counts)] for line in level.lines]
    _grid(document, headers, rows, (Mm(14), Mm(70), Mm(20), Mm(24), Mm(20), Mm(17)), text_columns=(1,))
    if level.total > len(level.lines):
        _body(document, _("{shown} of {total} agencies shown: the first and the last.").format(
            shown=format_number(len(level.lines)), total=format_number(level.total)))
    else:
        document.add_paragraph()


# --- IV. extension requests ----------------------------------------------------------------

EXTENSION_HEADERS = (N_("Task"), N_("Agency"), N_("First due date"), N_("Date asked for"),
                     N_("Decision"), N_("New due date"), N_("Reason"))


def extensions_sentence(rows: tuple[ExtensionRow, ...]) -> str:
    """"5 extension requests: 2 approved, 1 approved with a shorter date, …" (every decision
    named, pending ones too)."""
    by_state = {state: sum(1 for r in rows if r.state == state) for state in
                ("approved", "shortened", "refused", "pending", "withdrawn")}
    n = format_number
    text = ngettext("{n} extension request on the period's items: {approved} approved, {shortened} "
                    "approved with a shorter date, {refused} refused, {pending} waiting for a decision.",
                    "{n} extension requests on the period's items: {approved} approved, {shortened} "
                    "approved with a shorter date, {refused} refused, {pending} waiting for a decision.",
                    len(rows)).format(n=n(len(rows)), approved=n(by_state["approved"]),
                                      shortened=n(by_state["shortened"]), refused=n(by_state["refused"]),
                                      pending=n(by_state["pending"]))
    if by_state["withdrawn"]:
        text += " " + _("{n} withdrawn (the task was finished before a decision).").format(
            n=n(by_state["withdrawn"]))
    return text


def extension_values(row: ExtensionRow) -> list[str]:
    """One request as the report's table shows it: the item's first due date, the date asked
    for, the decision, the date it put in force ("–" for none) and the reasons."""
    reason = clip(row.reason, 400)
    if row.decision_reason:
        reason += "\n" + _("Refused because: {reason}").format(reason=clip(row.decision_reason, 400))
    return [row.task_code, row.agency, format_numeric_date(row.original_due_on),
            format_numeric_date(row.requested_due_on), extension_decision(row.state),
            format_numeric_date(row.decided_due_on) if row.decided_due_on else "–", reason]


def _extensions(document: Document, report: ReportDoc) -> None:
    from docx.shared import Mm

    _heading(document, _("IV. EXTENSION REQUESTS"), 1)
    if not report.extensions:
        _body(document, _("No extension was requested in this period."))
        return
    _body(document, extensions_sentence(report.extensions))
    _grid(document, [_(label) for label in EXTENSION_HEADERS],
          [extension_values(row) for row in report.extensions],
          (Mm(13), Mm(35), Mm(20), Mm(20), Mm(24), Mm(20), Mm(33)), text_columns=(0, 1, 4, 6))
    _body(document, _("A request approved or shortened moves the item's due date; an item completed "
                      "by the new date counts as completed on time."))


# --- V. explanations -----------------------------------------------------------------------

def _explanations(document: Document, report: ReportDoc) -> None:
    _heading(document, _("V. EXPLANATIONS REQUESTED"), 1)
    if not report.explanations:
        _body(document, _("No explanation was requested in this period."))
    for entry in report.explanations:
        _explanation(document, entry)


def _explanation(document: Document, entry: ExplanationEntry) -> None:
    asked = _("asked by {who} on {date}, to answer by {due}: “{question}”").format(
        who=entry.asked_by, date=format_date(entry.asked_on), due=format_date(entry.due_on),
        question=clip(entry.question, 600))
    _body(document, asked, bold_lead=_("Task {code}, {agency}: ").format(code=entry.code,
                                                                         agency=entry.agency))
    if entry.state == "answered" and entry.answered_on is not None:
        answer = _("Answered by {who} on {date}: {answer}").format(
            who=entry.answered_by, date=format_date(entry.answered_on),
            answer=clip(entry.answer, 1200) or "-")
        if entry.document_name:
            answer += " " + _("(document: {name})").format(name=entry.document_name)
    elif entry.state == "withdrawn":
        answer = _("Withdrawn.")
    else:
        answer = _("Not answered yet.")
    _body(document, answer)


# --- the closing: recipients and signature --------------------------------------------------

RECIPIENTS = (N_("Departments, agencies and sectors of the province;"),
              N_("People's Committees of districts, towns and cities;"))


def _closing(document: Document, report: ReportDoc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    document.add_paragraph()
    table = _borderless(document, rows=1, widths=(Mm(75), Mm(90)))
    left, right = table.cell(0, 0), table.cell(0, 1)
    _line(left, _("Recipients:"), size=12, bold=True, italic=True, first=True)
    _line(left, "- " + _("{recipient} (to report);").format(recipient=report.issuer.recipient),
          size=RECIPIENTS_PT)
    for text in RECIPIENTS:
        _line(left, "- " + _(text), size=RECIPIENTS_PT)
    _line(left, "- " + _("Filed: Archives, {symbol}.").format(symbol=report.issuer.symbol),
          size=RECIPIENTS_PT)
    _line(right, report.issuer.signer_title, size=BODY_PT, bold=True, first=True)
    for _blank in range(4):  # room for the signature and the seal
        _line(right, "", size=BODY_PT)
    _line(right, report.issuer.signer_name, size=BODY_PT, bold=True)
    for paragraph in right.paragraphs:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


# --- in chat --------------------------------------------------------------------------------

def file_name(period: Period) -> str:
    return f"bao-cao-{period.key}.docx"


def report_doc_screen(period: Period, viewer: Viewer, content: bytes) -> Screen:
    """The document of ``period``, captioned with the period and the scope."""
    caption = _("Official report — {period} ({scope})").format(
        period=esc(_period_name(period)), scope=esc(clip(scope_label(viewer), 300)))
    return Screen("", files=[Attachment("document", file_name(period), content,
                                        caption=clip_html(caption, MessageLimit.CAPTION_LENGTH))])


def report_doc_not_allowed() -> Screen:
    return Screen(_("The official report is for leaders, coordinators and admins."))
