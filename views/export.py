"""Exports of a period: an XLSX workbook in the layout of the plan's appendix (axis, row,
content, task, lead, coordinating, timeframe), one row per owing agency with its state, date,
note, document number and verifier, plus a summary sheet per axis and per agency; or the detail
rows as CSV (UTF-8 with BOM, so Excel shows Vietnamese correctly).

The summary's figures come from :func:`models.rollup.compute_rollup`, like /status and digests.
Headers follow the current language (``views.i18n.use_locale``).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.access import Scope
from domain.collation import vi_key
from domain.periods import Period
from models.rollup import Counts, Rollup, agency_lines, compute_rollup, scope_agency_ids
from models.tables import Agency, Assignment, AssignmentRole, Axis, Item, Member, Plan, Report, Task
from views.i18n import N_
from views.i18n import gettext as _
from views.labels import axis_name, level_name, state_name
from views.rollup import period_label

HEADERS = (
    ("axis", N_("Axis")), ("row", N_("No.")), ("content", N_("Content")), ("code", N_("Task code")),
    ("task", N_("Specific task")), ("lead", N_("Lead agencies")),
    ("coordinating", N_("Coordinating agencies")), ("timeframe", N_("Timeframe")),
    ("period", N_("Reporting period")), ("agency", N_("Agency")), ("due_on", N_("Deadline")),
    ("state", N_("State")), ("reported_on", N_("Reported on")), ("note", N_("Note")),
    ("document_number", N_("Document number")), ("verified_by", N_("Verified by")),
)
SUMMARY_HEADERS = (N_("Items owed"), N_("Done"), N_("Verified"), N_("Awaiting verification"),
                   N_("In progress"), N_("Blocked"), N_("Returned"), N_("Not started"),
                   N_("Overdue"), N_("Completion"))


@dataclass(frozen=True)
class DetailRow:
    axis: str
    row: str
    content: str
    code: str
    task: str
    lead: str
    coordinating: str
    timeframe: str
    period: str
    agency: str
    due_on: date | None
    state: str
    reported_on: date | None
    note: str
    document_number: str
    verified_by: str


@dataclass
class Export:
    period: Period
    rollup: Rollup
    rows: list[DetailRow]
    agencies: list[tuple[str, str, Counts]]  # (name, level label, counts)


def _assignments(session: Session, task_ids: list[int]) -> dict[tuple[int, str], str]:
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    query = (select(Assignment).where(col(Assignment.task_id).in_(task_ids))
             .order_by(col(Assignment.task_id), col(Assignment.position), col(Assignment.id)))
    for a in session.exec(query):
        found[(a.task_id, a.role)].append(a.label)
    return {key: "; ".join(labels) for key, labels in found.items()}


def detail_rows(session: Session, plan: Plan, period: Period, scope: Scope, tz: ZoneInfo) -> list[DetailRow]:
    """Every task of the plan in the appendix's order; under it, one row per owing agency of the
    period with its latest report (tasks owing nothing in the period keep one empty row)."""
    tasks = list(session.exec(select(Task, Axis).join(Axis, col(Axis.id) == Task.axis_id)
                              .where(Task.plan_id == plan.id, col(Task.retired_at).is_(None))
                              .order_by(col(Task.position))))
    labels = _assignments(session, [t.id for t, _a in tasks if t.id is not None])
    latest = (select(Report.item_id, func.max(Report.version).label("version"))
              .group_by(col(Report.item_id)).subquery())
    reviewer = aliased(Member)
    query = (select(Item, Agency.name, Report, reviewer.full_name)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .outerjoin(latest, latest.c.item_id == Item.id)
             .outerjoin(Report, and_(col(Report.item_id) == Item.id, col(Report.version) == latest.c.version))
             .outerjoin(reviewer, col(reviewer.id) == Report.reviewed_by)
             .where(col(Item.due_on) >= period.start, col(Item.due_on) <= period.end))
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        query = query.where(col(Item.agency_id).in_(ids))
    by_task: dict[int, list[tuple[Item, str, Report | None, str | None]]] = defaultdict(list)
    for found in session.exec(query):
        by_task[found[0].task_id].append((found[0], found[1], found[2], found[3]))
    keys = {name: vi_key(name) for owed in by_task.values() for _item, name, _r, _v in owed}
    rows = []
    for task, axis in tasks:
        assert task.id is not None
        base = (f"{axis.number}. {axis_name(axis.number, axis.name)}", task.row, task.content, task.code,
                task.task, labels.get((task.id, AssignmentRole.LEAD.value), ""),
                labels.get((task.id, AssignmentRole.COORDINATING.value), "") or task.coordination_note,
                task.timeframe)
        owed = sorted(by_task.get(task.id, []), key=lambda f: (keys[f[1]], f[0].due_on))
        if not owed:
            rows.append(DetailRow(*base, "", "", None, "", None, "", "", ""))
        for item, agency, report, verifier in owed:
            rows.append(DetailRow(
                *base, item.period_key, agency, item.due_on, state_name(item.state),
                report.created_at.astimezone(tz).date() if report else None,
                report.note if report else "", report.document_number if report else "",
                (verifier or "") if item.state == "verified" else ""))
    return rows


def build_export(session: Session, plan: Plan, period: Period, today: date, scope: Scope,
                 tz: ZoneInfo) -> Export:
    rollup = compute_rollup(session, plan, period, today, scope)
    agencies = [(a.name, level_name(a.level), a.counts)
                for a in agency_lines(session, plan, period, today, scope)]
    return Export(period, rollup, detail_rows(session, plan, period, scope, tz), agencies)


def headers() -> list[str]:
    return [_(label) for _key, label in HEADERS]


def _values(row: DetailRow) -> list[object]:
    return [getattr(row, f.name) for f in fields(row)]


def _summary_values(counts: Counts) -> list[object]:
    return [counts.owed, counts.done, counts.verified, counts.reported, counts.in_progress,
            counts.blocked, counts.returned, counts.not_started, counts.overdue, round(counts.ratio, 4)]


_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WIDTHS = (26, 6, 30, 9, 60, 30, 30, 18, 11, 34, 12, 24, 12, 40, 18, 24)


def write_xlsx(export: Export) -> bytes:
    """The workbook: sheet "Details" (the appendix layout) and sheet "Summary"."""
    book = Workbook()
    detail = book.active
    assert detail is not None
    detail.title = _("Details")[:31]
    detail.append([_("Plan status — {period}").format(period=period_label(export.period))])
    detail["A1"].font = Font(bold=True, size=13)
    detail.append(headers())
    for cell in detail[2]:
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in export.rows:
        detail.append(_values(row))
    for index, width in enumerate(_WIDTHS, start=1):
        detail.column_dimensions[get_column_letter(index)].width = width
    for row_cells in detail.iter_rows(min_row=3):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    detail.freeze_panes = "A3"
    detail.auto_filter.ref = f"A2:{get_column_letter(len(HEADERS))}{detail.max_row}"
    _summary_sheet(book, export)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary_sheet(book: Workbook, export: Export) -> None:
    sheet = book.create_sheet(_("Summary")[:31])
    sheet.append([_("Plan status — {period}").format(period=period_label(export.period))])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append([_("By axis"), *(_(h) for h in SUMMARY_HEADERS)])
    _bold_row(sheet)
    for axis in export.rollup.axes:
        sheet.append([f"{axis.number}. {axis_name(axis.number, axis.name)}", *_summary_values(axis.counts)])
        _percent(sheet)
    sheet.append([_("Total"), *_summary_values(export.rollup.totals)])
    _bold_row(sheet)
    _percent(sheet)
    sheet.append([])
    sheet.append([_("By agency"), *(_(h) for h in SUMMARY_HEADERS), _("Level")])
    _bold_row(sheet)
    for name, level, counts in export.agencies:
        sheet.append([name, *_summary_values(counts), level])
        _percent(sheet)
    sheet.column_dimensions["A"].width = 44
    for index in range(2, len(SUMMARY_HEADERS) + 3):
        sheet.column_dimensions[get_column_letter(index)].width = 14


def _bold_row(sheet: object) -> None:
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(sheet, Worksheet)
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = _BOLD, _HEAD_FILL


def _percent(sheet: object) -> None:
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(sheet, Worksheet)
    sheet.cell(row=sheet.max_row, column=len(SUMMARY_HEADERS) + 1).number_format = "0%"


def write_csv(export: Export) -> bytes:
    """The detail rows as CSV, UTF-8 with BOM; dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers())
    for row in export.rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v
                         for v in _values(row)])
    return buffer.getvalue().encode("utf-8-sig")

