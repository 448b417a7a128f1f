"""The query half of the official report (``dondoc report-doc``, /report_doc): what a period's
report to the provincial committee says, as plain values. ``views.report_doc`` writes the
Word document in the format of Decree 30/2020/NĐ-CP from them.

Plan 916 asks Sở Nội vụ to aggregate and report every 6 months (section III); the report has a
summary of the period's figures, a section per axis listing every task by its code (lead,
the figures, the agencies late), the ranking of agencies, the extension requests (asked,
decided, the dates) and the explanations of the period. The figures are the roll-up's
(:func:`models.rollup.compute_rollup`), like /status, digests and exports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.access import EVERYTHING, Action, Actor, Scope, require
from domain.collation import vi_key
from domain.docnumber import Issuer
from domain.periods import Period
from models.db import session_scope
from models.explanations import for_period as explanations_for_period
from models.export import lead_labels
from models.extensions import ExtensionRow
from models.extensions import for_period as extensions_for_period
from models.registry import require_plan
from models.rollup import (
    Counts,
    RankLine,
    compute_rollup,
    overdue_flag,
    scope_agency_ids,
)
from models.rollup import ranking as rollup_ranking
from models.status import Viewer, viewer
from models.tables import Agency, Item, Plan, Task

RANKED_PER_LEVEL = 10  # the best and, when more, the last ones of each level


@dataclass(frozen=True)
class TaskEntry:
    """One task of the plan in the period: its code and text, who leads it, whether a class
    of agencies owes it, the figures, and the agencies with overdue items (by name)."""

    code: str
    task: str
    lead: str
    by_class: bool
    counts: Counts
    late: tuple[str, ...]


@dataclass(frozen=True)
class AxisSection:
    number: int
    name: str
    counts: Counts
    tasks: tuple[TaskEntry, ...]


@dataclass(frozen=True)
class LevelRanking:
    level: str
    lines: tuple[RankLine, ...]
    total: int  # agencies of this level owing something (more than listed when cut)


@dataclass(frozen=True)
class ExplanationEntry:
    """An explanation asked of an agency about an item of the period, with its answer if any;
    dates are local days."""

    code: str
    agency: str
    asked_by: str
    asked_on: date
    question: str
    due_on: date
    state: str  # models.tables.ExplanationState value
    answered_by: str
    answered_on: date | None
    answer: str
    document_name: str


@dataclass(frozen=True)
class ReportDoc:
    """Everything the official report of ``period`` says; ``made_on`` is the day it is made."""

    plan_number: str
    plan_issued_on: date | None
    plan_title: str
    period: Period
    made_on: date
    issuer: Issuer
    scope_name: str  # "" for the whole province
    totals: Counts
    axes: tuple[AxisSection, ...]
    ranking: tuple[LevelRanking, ...]
    explanations: tuple[ExplanationEntry, ...] = ()
    # The extension requests on the period's items (by their first due date), oldest first.
    extensions: tuple[ExtensionRow, ...] = ()

    @property
    def task_codes(self) -> list[str]:
        return [task.code for axis in self.axes for task in axis.tasks]


def late_agencies(session: Session, plan: Plan, period: Period, today: date,
                  scope: Scope) -> dict[int, tuple[str, ...]]:
    """Per task id, the agencies with an overdue item of the period, in Vietnamese order."""
    query = (select(Item.task_id, Agency.name).distinct()
             .join(Agency, col(Agency.id) == Item.agency_id)
             .join(Task, col(Task.id) == Item.task_id)
             .where(col(Task.plan_id) == plan.id, col(Item.due_on) >= period.start,
                    col(Item.due_on) <= period.end, overdue_flag(today)))
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        query = query.where(col(Item.agency_id).in_(ids))
    found: dict[int, list[str]] = defaultdict(list)
    for task_id, name in session.exec(query):
        found[task_id].append(name)
    return {task_id: tuple(sorted(names, key=vi_key)) for task_id, names in found.items()}


def ranking(tables: dict[str, list[RankLine]], *, keep: int = RANKED_PER_LEVEL) -> tuple[LevelRanking, ...]:
    """The league tables /status shows (models.rollup.ranking: like with like, the same order
    and shared positions); long levels keep the first ``keep`` and the last three."""
    return tuple(LevelRanking(level, tuple(ranked[:keep] + ranked[-3:] if len(ranked) > keep + 3
                                           else ranked), len(ranked))
                 for level, ranked in tables.items())


def explanations(session: Session, plan: Plan, period: Period, scope: Scope,
                 tz: ZoneInfo) -> tuple[ExplanationEntry, ...]:
    """The explanations asked about the period's items in ``scope``, by task then agency."""
    assert plan.id is not None
    return tuple(
        ExplanationEntry(row.task_code, row.agency, row.requested_by,
                         row.requested_at.astimezone(tz).date(), row.question, row.due_on, row.state,
                         row.answered_by, row.answered_at.astimezone(tz).date() if row.answered_at else None,
                         row.answer_text, row.document_name)
        for row in explanations_for_period(session, plan.id, period, scope))


def load(session: Session, plan: Plan, period: Period, today: date, scope: Scope, issuer: Issuer,
         tz: ZoneInfo, scope_name: str = "") -> ReportDoc:
    """The report of ``period`` for ``scope`` as of ``today`` (``dondoc report-doc``: everything)."""
    rollup = compute_rollup(session, plan, period, today, scope)
    leads = lead_labels(session, [t.task_id for t in rollup.tasks])
    late = late_agencies(session, plan, period, today, scope)
    axes = tuple(
        AxisSection(axis.number, axis.name, axis.counts, tuple(
            TaskEntry(t.code, t.text, leads.get(t.task_id, ""), t.owed_by_class, t.counts,
                      late.get(t.task_id, ()))
            for t in rollup.tasks if t.axis_number == axis.number))
        for axis in rollup.axes)
    return ReportDoc(plan.number, plan.issued_on, plan.title, period, today, issuer, scope_name,
                     rollup.totals, axes, ranking(rollup_ranking(session, plan, period, today, scope)),
                     explanations(session, plan, period, scope, tz),
                     tuple(extensions_for_period(session, plan.id or 0, period, scope)))


def for_actor(engine: Engine, actor: Actor, period: Period, today: date, issuer: Issuer,
              tz: ZoneInfo, plan_id: int = 0) -> tuple[ReportDoc, Viewer]:
    """/report_doc: coordinators and leaders (and admins), for their scope; of the plan
    ``plan_id`` (0: the only one in force, else models.status.ChoosePlan)."""
    require(actor, Action.EXPORT)
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        return load(session, plan, period, today, who.scope, issuer, tz, who.agency_name), who


def load_all(session: Session, period: Period, today: date, issuer: Issuer, tz: ZoneInfo, *,
             plan: str | None = None) -> ReportDoc:
    """The whole province's report of the plan numbered ``plan`` (default: the only one in
    force), for the command line."""
    return load(session, require_plan(session, plan), period, today, EVERYTHING, issuer, tz)
