"""The query half of a period's export: every task of the plan in the appendix's order, one row
per owing agency with its latest report, and the roll-up behind the summary sheet. Plain values
as stored (state codes, axis numbers); ``views.export`` labels them and writes the file.

The summary's figures come from :func:`models.rollup.compute_rollup`, like /status and digests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.access import Action, Actor, Scope, require
from domain.collation import vi_key
from domain.official import classify
from domain.periods import Period
from models import contributions
from models.contributions import ContributionRow
from models.db import session_scope
from models.explanations import ExplanationNote, ExplanationRow, for_period, notes_for_items
from models.extensions import ExtensionRow, latest_for_items
from models.extensions import for_period as extensions_for_period
from models.rollup import (
    AgencyLine,
    RankLine,
    Rollup,
    agency_lines,
    compute_rollup,
    league_tables,
    scope_agency_ids,
)
from models.status import Viewer, viewer
from models.tables import Agency, Assignment, AssignmentRole, Axis, Item, Member, Plan, Report, Task
from models.targets import TargetLine, target_lines


@dataclass(frozen=True)
class DetailRow:
    """One row of the appendix: a task, and (when it owes something in the period) one owing
    agency's item with its latest report. ``state`` is an ItemState value ("" for none)."""

    axis_number: int
    axis_name: str
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
    # The appendix's own columns and the item's details beside them (the appendix sheet).
    task_note: str = ""  # the plan's Ghi chú (its targets)
    item_id: int | None = None
    percent: int | None = None  # the latest report's, for work in progress
    official: str = ""  # domain.official.OfficialClass value ("" for no item)
    explanation: ExplanationNote | None = None  # the item's latest explanation request
    original_due_on: date | None = None  # the item's first due date (before any extension)
    extension: ExtensionRow | None = None  # the item's latest extension request


@dataclass
class ExportData:
    period: Period
    rollup: Rollup
    rows: list[DetailRow]
    agencies: list[AgencyLine]
    # The numeric targets of the period's year, value against target (views.targets' sheet).
    targets: list[TargetLine] = field(default_factory=list)
    # The period's explanation requests (models.explanations.for_period), their times shown in tz.
    explanations: list[ExplanationRow] = field(default_factory=list)
    tz: tzinfo = UTC
    # Coordinating agencies' contributions to the leads' items (their own sheet).
    contributions: list[ContributionRow] = field(default_factory=list)
    # The league tables per agency level (issue 13), from the same agency counts.
    ranking: dict[str, list[RankLine]] = field(default_factory=dict)
    # The period's extension requests (models.extensions.for_period), oldest first.
    extensions: list[ExtensionRow] = field(default_factory=list)


def _assignments(session: Session, task_ids: list[int]) -> dict[tuple[int, str], str]:
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    query = (select(Assignment).where(col(Assignment.task_id).in_(task_ids))
             .order_by(col(Assignment.task_id), col(Assignment.position), col(Assignment.id)))
    for a in session.exec(query):
        found[(a.task_id, a.role)].append(a.label)
    return {key: "; ".join(labels) for key, labels in found.items()}


def lead_labels(session: Session, task_ids: list[int]) -> dict[int, str]:
    """Per task id, its lead agencies as the plan names them ("UBND cấp xã; Sở Nội vụ")."""
    lead = AssignmentRole.LEAD.value
    return {task_id: label for (task_id, role), label in _assignments(session, task_ids).items()
            if role == lead}


def detail_rows(session: Session, plan: Plan, period: Period, scope: Scope, tz: ZoneInfo,
                today: date) -> list[DetailRow]:
    """Every task of the plan in the appendix's order; under it, one row per owing agency of the
    period with its latest report, its official class as of ``today``, its first due date and
    its latest explanation and extension requests (tasks owing nothing in the period keep one
    empty row)."""
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
    # Agencies in Vietnamese alphabetical order (domain.collation), not the database's.
    keys = {name: vi_key(name) for name in {f[1] for owed in by_task.values() for f in owed}}
    item_ids = [f[0].id for owed in by_task.values() for f in owed if f[0].id is not None]
    asked = notes_for_items(session, item_ids, tz)
    extended = latest_for_items(session, item_ids)
    rows = []
    for task, axis in tasks:
        assert task.id is not None
        base = (axis.number, axis.name, task.row, task.content, task.code, task.task,
                labels.get((task.id, AssignmentRole.LEAD.value), ""),
                labels.get((task.id, AssignmentRole.COORDINATING.value), "") or task.coordination_note,
                task.timeframe)
        owed = sorted(by_task.get(task.id, []), key=lambda f: (keys[f[1]], f[0].due_on))
        if not owed:
            rows.append(DetailRow(*base, "", "", None, "", None, "", "", "", task_note=task.note))
        for item, agency, report, verifier in owed:
            rows.append(DetailRow(
                *base, item.period_key, agency, item.due_on, item.state,
                report.created_at.astimezone(tz).date() if report else None,
                report.note if report else "", report.document_number if report else "",
                (verifier or "") if item.state == "verified" else "", task_note=task.note,
                item_id=item.id, percent=report.percent if report and item.state == "in_progress" else None,
                official=classify(item.state, item.due_on, item.completed_on, today).value,
                explanation=asked.get(item.id) if item.id is not None else None,
                original_due_on=item.original_due_on or item.due_on,
                extension=extended.get(item.id) if item.id is not None else None))
    return rows


def load(session: Session, plan: Plan, period: Period, today: date, scope: Scope,
         tz: ZoneInfo) -> ExportData:
    """What the export of ``period`` for ``scope`` holds (``dondoc export``: everything)."""
    rollup = compute_rollup(session, plan, period, today, scope)
    assert plan.id is not None
    agencies = agency_lines(session, plan, period, today, scope)
    return ExportData(period, rollup, detail_rows(session, plan, period, scope, tz, today), agencies,
                      target_lines(session, plan, period.start.year, scope),
                      explanations=for_period(session, plan.id or 0, period, scope), tz=tz,
                      contributions=contributions.for_period(session, plan.id or 0, period, scope, tz),
                      ranking=league_tables(agencies),
                      extensions=extensions_for_period(session, plan.id or 0, period, scope))


def for_actor(engine: Engine, actor: Actor, period: Period, today: date,
              tz: ZoneInfo, plan_id: int = 0) -> tuple[ExportData, Viewer]:
    """/export: leaders, coordinators and admins, for their scope; of the plan ``plan_id``
    (0: the only one in force, else models.status.ChoosePlan)."""
    require(actor, Action.EXPORT)
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        return load(session, plan, period, today, who.scope, tz), who
