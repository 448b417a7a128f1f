"""Exports of a period, written from the plain rows of ``models.export``: an XLSX workbook in
the layout of the plan's appendix (axis, row, content, task, lead, coordinating, timeframe), one
row per owing agency with its state, date, note, document number and verifier, plus a summary
sheet per axis and per agency (with the four official classes and the on-time rate), the
explanation and extension requests, the coordinating agencies' contributions and a ranking
sheet (a league table per agency level); or the detail rows as CSV (UTF-8 with BOM, so Excel shows
Vietnamese correctly). Also /export's screen.

States, levels and axes are named with the one vocabulary (views.labels); headers follow the
current language (``views.i18n.use_locale``).

Whatever text is stored is written, sanitised for the format (:func:`xlsx_text`,
:func:`csv_text`): rows written before text was normalised on the way in may still hold control
characters, and a note that starts with ``=`` must stay a note, not become a formula.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, tzinfo
from typing import TYPE_CHECKING

from telegram.constants import MessageLimit

from domain.official import OFFICIAL_CLASSES
from domain.periods import Period
from domain.text import scrub
from models.explanations import ExplanationNote, ExplanationRow
from models.export import DetailRow, ExportData
from models.extensions import ExtensionRow
from models.rollup import Counts
from models.status import Viewer
from views import render_pool
from views.html import clip, clip_html, esc
from views.i18n import N_, format_numeric_date
from views.i18n import gettext as _
from views.labels import (
    axis_name,
    explanation_state,
    extension_decision,
    extension_name,
    level_name,
    official_name,
    state_name,
)
from views.rollup import period_label
from views.screen import Attachment, Screen
from views.targets import target_headers, target_rows

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written (a bot idles without it)
    from collections.abc import Iterable, Sequence

    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.worksheet import Worksheet
from views.status import scope_label

HEADERS = (
    ("axis", N_("Axis")), ("row", N_("No.")), ("content", N_("Content")), ("code", N_("Task code")),
    ("task", N_("Specific task")), ("lead", N_("Lead agencies")),
    ("coordinating", N_("Coordinating agencies")), ("timeframe", N_("Timeframe")),
    ("period", N_("Reporting period")), ("agency", N_("Agency")), ("due_on", N_("Deadline")),
    ("state", N_("State")), ("reported_on", N_("Reported on")), ("note", N_("Note")),
    ("document_number", N_("Document number")), ("verified_by", N_("Verified by")),
)
# The summary's columns: items owed, done, each state (named as everywhere), overdue, completion.
SUMMARY_STATES = ("verified", "reported", "in_progress", "blocked", "returned", "not_started")


def summary_headers() -> list[str]:
    return [_("Items owed"), _("Done"), *(state_name(s) for s in SUMMARY_STATES), _("Overdue"),
            _("Completion"), *official_headers()]


def official_headers() -> list[str]:
    """The four official classes (domain.official) and the on-time rate, as columns."""
    return [*(official_name(which) for which in OFFICIAL_CLASSES), _("On-time rate")]


def official_values(counts: Counts) -> list[object]:
    rate = counts.on_time_rate
    return [*counts.by_official().values(), None if rate is None else round(rate, 4)]


def headers() -> list[str]:
    return [_(label) for _key, label in HEADERS]


def _values(row: DetailRow) -> list[object]:
    """A detail row as the file shows it: the axis named, the state in words (views.labels)."""
    return [f"{row.axis_number}. {axis_name(row.axis_number, row.axis_name)}", row.row, row.content,
            row.code, row.task, row.lead, row.coordinating, row.timeframe, row.period, row.agency,
            row.due_on, state_name(row.state) if row.state else "", row.reported_on, row.note,
            row.document_number, row.verified_by]


def _summary_values(counts: Counts) -> list[object]:
    return [counts.owed, counts.done, *(getattr(counts, s) for s in SUMMARY_STATES), counts.overdue,
            round(counts.ratio, 4), *official_values(counts)]


# --- sanitising -----------------------------------------------------------------------------

# Outside XML 1.0's characters (what openpyxl's ILLEGAL_CHARACTERS_RE misses: U+FFFE, U+FFFF,
# surrogates); a workbook holding one cannot be opened.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_CELL = 32767  # Excel's limit on the characters of one cell
# A CSV cell Excel would read as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xlsx_text(value: str) -> str:
    """Stored text as an XLSX cell can hold it: controls removed (newline and tab kept), only
    XML characters, at most 32,767 characters."""
    return _NOT_XML.sub("", scrub(value, single_line=False))[:MAX_CELL]


def csv_text(value: str) -> str:
    """Stored text as a CSV cell: controls removed, and a leading ``'`` where Excel would
    otherwise run the cell as a formula (``=``, ``+``, ``-``, ``@``)."""
    text = scrub(value, single_line=False)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _append(sheet: Worksheet, values: list[object]) -> list[Cell]:
    """One row, its cells returned; text cells are sanitised and always typed as text (a value
    starting with "=" would otherwise be written as a formula).

    The cells are made here rather than found again afterwards: ``sheet.max_row`` looks at
    every cell of the sheet, so asking it once a row made a 4,000-row workbook take 30 s."""
    from openpyxl.cell.cell import Cell

    cells = []
    for value in values:
        if isinstance(value, str):
            cell = Cell(sheet, value=xlsx_text(value))
            cell.data_type = "s"
        else:
            cell = Cell(sheet, value=value)
        cells.append(cell)
    sheet.append(cells)
    return cells


def _head(cell: object) -> None:
    from openpyxl.styles import Font, PatternFill

    cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")  # type: ignore[attr-defined]


_WIDTHS = (26, 6, 30, 9, 60, 30, 30, 18, 11, 34, 12, 24, 12, 40, 18, 24)


def write_xlsx(export: ExportData) -> bytes:
    """The workbook: sheet "Appendix" (the plan's appendix as printed, axis rows merged),
    "Details" (one flat row per item, filterable), "Summary" and the others after them;
    written in the render worker when the bot runs one (views/render_pool.py)."""
    return render_pool.run(_write_xlsx, export)


def _write_xlsx(export: ExportData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    detail = book.active
    assert detail is not None
    detail.title = _("Details")[:31]
    _append(detail, [_("Plan status — {period}").format(period=period_label(export.period))])
    detail["A1"].font = Font(bold=True, size=13)
    wrap = Alignment(wrap_text=True, vertical="top")  # one style object for every cell
    for cell in _append(detail, list(headers())):
        _head(cell)
        cell.alignment = wrap
    for row in export.rows:
        _data_row(detail, _values(row), wrap)
    _widths(detail, _WIDTHS)
    detail.freeze_panes = "A3"
    detail.auto_filter.ref = f"A2:{get_column_letter(len(HEADERS))}{detail.max_row}"
    _summary_sheet(book, export)
    targets_sheet(book, export)
    _explanations_sheet(book, export)
    _extensions_sheet(book, export)
    _appendix_sheet(book, export)
    _contributions_sheet(book, export)
    _ranking_sheet(book, export)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary_sheet(book: Workbook, export: ExportData) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(_("Summary")[:31])
    _append(sheet, [_("Plan status — {period}").format(period=period_label(export.period))])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    _bold_row(_append(sheet, [_("By axis"), *summary_headers()]))
    for axis in export.rollup.axes:
        _percent(_append(sheet, [f"{axis.number}. {axis_name(axis.number, axis.name)}",
                                 *_summary_values(axis.counts)]))
    total = _append(sheet, [_("Total"), *_summary_values(export.rollup.totals)])
    _bold_row(total)
    _percent(total)
    sheet.append([])
    _bold_row(_append(sheet, [_("By agency"), *summary_headers(), _("Level")]))
    for agency in export.agencies:
        _percent(_append(sheet, [agency.name, *_summary_values(agency.counts), level_name(agency.level)]))
    sheet.column_dimensions["A"].width = 44
    for index in range(2, len(summary_headers()) + 3):
        sheet.column_dimensions[get_column_letter(index)].width = 14


def targets_sheet(book: Workbook, export: ExportData) -> None:
    """Sheet "Targets": the year's numeric targets, value against target and the trend (only
    when the year has targets)."""
    if not export.targets:
        return
    sheet = book.create_sheet(_("Targets")[:31])
    _bold_row(_append(sheet, list[object](target_headers())))
    for values in target_rows(export.targets):
        _append(sheet, values)
    for letter, width in zip("ABCDEFGH", (10, 60, 8, 12, 14, 12, 14, 50), strict=True):
        sheet.column_dimensions[letter].width = width


EXPLANATION_HEADERS = (
    N_("Task code"), N_("Agency"), N_("Reporting period"), N_("Deadline"), N_("Requested by"),
    N_("Requested on"), N_("Question"), N_("Answer due"), N_("State"), N_("Answered by"),
    N_("Answered on"), N_("Answer"), N_("Document"),
)
_EXPLANATION_WIDTHS = (9, 34, 11, 12, 24, 12, 40, 12, 14, 24, 12, 50, 24)


def explanation_values(row: ExplanationRow, tz: tzinfo) -> list[object]:
    """One explanation request as the files show it: dates in the plan's zone, state in words."""
    return [row.task_code, row.agency, row.period_key, row.item_due_on, row.requested_by,
            row.requested_at.astimezone(tz).date(), row.question, row.due_on, explanation_state(row.state),
            row.answered_by, row.answered_at.astimezone(tz).date() if row.answered_at else None,
            row.answer_text, row.document_name]


def _explanations_sheet(book: Workbook, export: ExportData) -> None:
    """Sheet "Explanations": every request about the period's items, answered or not (a sheet
    of its own even when empty, so that a reader always finds it)."""
    _list_sheet(book, _("Explanations"), EXPLANATION_HEADERS,
                (explanation_values(row, export.tz) for row in export.explanations), _EXPLANATION_WIDTHS)


def _list_sheet(book: Workbook, title: str, headers: Sequence[str], rows: Iterable[list[object]],
                widths: Sequence[float], *, freeze: str | None = "A2") -> None:
    """A sheet of one bold header row (``headers`` translated) and a row per entry: wrapped,
    top-aligned, dates as DD/MM/YYYY."""
    from openpyxl.styles import Alignment

    sheet = book.create_sheet(title[:31])
    _bold_row(_append(sheet, [_(label) for label in headers]))
    wrap = Alignment(wrap_text=True, vertical="top")  # one style object for every cell
    for values in rows:
        _data_row(sheet, values, wrap)
    _widths(sheet, widths)
    if freeze:
        sheet.freeze_panes = freeze


def _data_row(sheet: Worksheet, values: list[object], wrap: Alignment) -> list[Cell]:
    """One entry's row: wrapped, top-aligned, dates as DD/MM/YYYY."""
    cells = _append(sheet, values)
    for cell in cells:
        cell.alignment = wrap
        if isinstance(cell.value, date):
            cell.number_format = "DD/MM/YYYY"
    return cells


def _widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    """The columns' widths, from A."""
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


EXTENSION_HEADERS = (
    N_("Task code"), N_("Agency"), N_("Reporting period"), N_("First due date"),
    N_("Due date when asked"), N_("Date asked for"), N_("Reason"), N_("Requested by"),
    N_("Requested on"), N_("Decision"), N_("New due date"), N_("Reason for refusing"),
    N_("Decided by"), N_("Decided on"),
)
_EXTENSION_WIDTHS = (9, 34, 11, 12, 12, 12, 40, 24, 12, 22, 12, 40, 24, 12)


def extension_values(row: ExtensionRow, tz: tzinfo) -> list[object]:
    """One extension request as the sheet shows it: dates in the plan's zone, the decision in
    words."""
    return [row.task_code, row.agency, row.period_key, row.original_due_on, row.due_on_before,
            row.requested_due_on, row.reason, row.requested_by, row.created_at.astimezone(tz).date(),
            extension_decision(row.state), row.decided_due_on, row.decision_reason, row.decided_by,
            row.decided_at.astimezone(tz).date() if row.decided_at else None]


def _extensions_sheet(book: Workbook, export: ExportData) -> None:
    """Sheet "Extensions": every request on the period's items (by their first due date), its
    decision and the dates (a sheet of its own even when empty)."""
    _list_sheet(book, _("Extensions"), EXTENSION_HEADERS,
                (extension_values(row, export.tz) for row in export.extensions), _EXTENSION_WIDTHS)


# --- the appendix sheet ---------------------------------------------------------------------
# The plan's appendix as it is printed: its seven columns (TT, content, task, lead,
# coordinating, timeframe, Ghi chú: the plan's targets), an axis row merged across the sheet
# before each axis' tasks, a task's own cells merged down over its agencies' rows; beside them
# each owing agency's item: state, official class, percent, the due date in force and the first
# one, verifier, report, latest extension and explanation requests.

APPENDIX: tuple[tuple[str, str, int], ...] = (
    ("row", N_("No."), 6), ("code", N_("Task code"), 9), ("content", N_("Content"), 28),
    ("task", N_("Specific task"), 50), ("lead", N_("Lead agencies"), 26),
    ("coordinating", N_("Coordinating agencies"), 26), ("timeframe", N_("Timeframe"), 16),
    ("task_note", N_("Notes"), 30), ("agency", N_("Agency"), 30), ("state", N_("State"), 20),
    ("official", N_("Result class"), 22), ("percent", N_("Percent done"), 9),
    ("due_on", N_("Deadline in force"), 12), ("original_due_on", N_("First due date"), 12),
    ("verified_by", N_("Verified by"), 22), ("note", N_("Report"), 36),
    ("extension", N_("Extension"), 36), ("explanation", N_("Explanation"), 36),
)
TASK_COLUMNS = 8  # the appendix's own columns, merged down over a task's agency rows


def appendix_headers() -> list[str]:
    return [_(label) for _key, label, _width in APPENDIX]


def appendix_values(row: DetailRow) -> list[object]:
    """A detail row in the appendix's columns: the state and the official class in words
    (views.labels), the percent (a fraction, shown as %) only for work in progress."""
    values: dict[str, object] = {
        "row": row.row, "code": row.code, "content": row.content, "task": row.task,
        "lead": row.lead, "coordinating": row.coordinating, "timeframe": row.timeframe,
        "task_note": row.task_note, "agency": row.agency,
        "state": state_name(row.state) if row.state else "",
        "official": official_name(row.official) if row.official else "",
        "percent": row.percent / 100 if row.percent is not None else None,
        "due_on": row.due_on, "original_due_on": row.original_due_on,
        "verified_by": row.verified_by, "note": row.note,
        "extension": extension_text(row.extension) if row.extension else "",
        "explanation": explanation_text(row.explanation) if row.explanation else "",
    }
    return [values[key] for key, _label, _width in APPENDIX]


def explanation_text(note: ExplanationNote) -> str:
    """The item's latest explanation request in a cell: asked when, answered when and how."""
    asked = _("Asked {date}").format(date=format_numeric_date(note.asked_on))
    if note.state == "answered" and note.answered_on is not None:
        answer = note.answer_text or note.file_name
        return _("{asked}; answered {date}: {answer}").format(
            asked=asked, date=format_numeric_date(note.answered_on), answer=answer)
    if note.state == "withdrawn":
        return _("{asked}; withdrawn").format(asked=asked)
    return _("{asked}; not answered yet (due {date})").format(
        asked=asked, date=format_numeric_date(note.due_on))


def extension_text(row: ExtensionRow) -> str:
    """The item's latest extension request in a cell: the date asked for and the decision."""
    if row.state == "shortened" and row.decided_due_on is not None:
        decision = _("approved with a shorter date: {date}").format(
            date=format_numeric_date(row.decided_due_on))
    elif row.state == "refused":
        decision = _("refused: {reason}").format(reason=row.decision_reason)
    else:
        decision = extension_name(row.state)
    return _("Asked for {date}: {decision}").format(date=format_numeric_date(row.requested_due_on),
                                                   decision=decision)


def _appendix_sheet(book: Workbook, export: ExportData) -> None:
    """Sheet "Appendix", first in the book. Rows are counted here, never asked of the sheet
    (``sheet.max_row`` reads every cell: see :func:`_append`)."""
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(_("Appendix")[:31], 0)  # first: the layout people print
    book.active = 0
    _append(sheet, [_("Plan status — {period}").format(period=period_label(export.period))])[0].font = \
        Font(bold=True, size=13)
    centred = Alignment(wrap_text=True, vertical="center", horizontal="center")
    wrap = Alignment(wrap_text=True, vertical="top")  # one style object for every cell
    for cell in _append(sheet, list(appendix_headers())):
        _head(cell)
        cell.alignment = centred
    at, axis = 2, None
    for _code, rows in _by_task(export.rows):
        if rows[0].axis_number != axis:
            axis, at = rows[0].axis_number, at + 1
            _axis_row(sheet, rows[0], at)
        first = at + 1
        for row in rows:
            percent = _data_row(sheet, appendix_values(row), wrap)[_PERCENT_COLUMN]
            if percent.value is not None:
                percent.number_format = "0%"
        at += len(rows)
        _merge_task(sheet, first, at)
    _widths(sheet, [width for _key, _label, width in APPENDIX])
    sheet.freeze_panes = "A3"


def _by_task(rows: list[DetailRow]) -> list[tuple[str, list[DetailRow]]]:
    """The detail rows grouped by task, in the appendix's order (they come in it)."""
    groups: list[tuple[str, list[DetailRow]]] = []
    for row in rows:
        if not groups or groups[-1][0] != row.code:
            groups.append((row.code, []))
        groups[-1][1].append(row)
    return groups


def _axis_row(sheet: Worksheet, row: DetailRow, at: int) -> None:
    """The axis' row (row ``at``), merged across the sheet, bold."""
    from openpyxl.styles import Font

    _append(sheet, [_("Axis {number}: {name}").format(
        number=row.axis_number, name=axis_name(row.axis_number, row.axis_name))])[0].font = Font(bold=True)
    sheet.merge_cells(start_row=at, start_column=1, end_row=at, end_column=len(APPENDIX))


def _merge_task(sheet: Worksheet, first: int, last: int) -> None:
    if last > first:
        for column in range(1, TASK_COLUMNS + 1):
            sheet.merge_cells(start_row=first, start_column=column, end_row=last, end_column=column)


_PERCENT_COLUMN = next(i for i, (key, _l, _w) in enumerate(APPENDIX) if key == "percent")


def _bold_row(cells: list[Cell]) -> None:
    for cell in cells:
        _head(cell)


CONTRIBUTION_HEADERS = (N_("Task code"), N_("Specific task"), N_("Lead agency"), N_("Reporting period"),
                        N_("Coordinating agency"), N_("Contribution"), N_("Document"), N_("By"),
                        N_("Contributed on"))


def _contributions_sheet(book: Workbook, export: ExportData) -> None:
    """Sheet "Coordination": what the coordinating agencies added to the leads' items (they owe
    nothing, so they are not in the details' counts)."""
    _list_sheet(book, _("Coordination"), CONTRIBUTION_HEADERS,
                ([c.code, c.task, c.lead, c.period, c.agency, c.note, c.file_name, c.author, c.created_on]
                 for c in export.contributions),
                (9, 50, 30, 11, 30, 50, 24, 20, 12), freeze=None)


def _percent(cells: list[Cell]) -> None:
    """The completion column and the on-time rate as percents."""
    last = len(summary_headers())
    for index in (last - len(official_headers()), last):
        cells[index].number_format = "0%"


def ranking_headers() -> list[str]:
    return [_("Rank"), _("Agency"), _("Items owed"), *official_headers()]


def _ranking_sheet(book: Workbook, export: ExportData) -> None:
    """Sheet "Ranking": one league table per agency level (like with like), by the on-time
    rate (completed on time ÷ completed or overdue), then the fewest overdue items."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(_("Ranking")[:31])
    _append(sheet, [_("Ranking — {period}").format(period=period_label(export.period))])
    sheet["A1"].font = Font(bold=True, size=13)
    _append(sheet, [_("On-time rate: items completed on time ÷ items completed or overdue "
                      "(items still within their deadline are not counted).")])
    for level, table in export.ranking.items():
        sheet.append([])
        _append(sheet, [level_name(level)])[0].font = Font(bold=True)
        _bold_row(_append(sheet, [*ranking_headers()]))
        for line in table:
            cells = _append(sheet, [line.position, line.name, line.counts.owed,
                                    *official_values(line.counts)])
            cells[-1].number_format = "0%"
    sheet.column_dimensions["B"].width = 44
    for index in range(3, len(ranking_headers()) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16


def write_csv(export: ExportData) -> bytes:
    """The detail rows as CSV, UTF-8 with BOM; dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers())
    for row in export.rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date)
                         else csv_text(v) if isinstance(v, str) else v for v in _values(row)])
    return buffer.getvalue().encode("utf-8-sig")



# --- /export --------------------------------------------------------------------------------

def export_screen(period: Period, viewer: Viewer, content: bytes) -> Screen:
    """The workbook of ``period`` as a document, captioned with the period and the scope."""
    caption = _("Plan status — {period} ({scope})").format(period=esc(period_label(period)),
                                                          scope=esc(clip(scope_label(viewer), 300)))
    return Screen("", files=[Attachment("document", f"dondoc-{period.key}.xlsx", content,
                                        caption=clip_html(caption, MessageLimit.CAPTION_LENGTH))])


def export_not_allowed() -> Screen:
    return Screen(_("Exports are for leaders, coordinators and admins."))
