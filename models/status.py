"""/status and /chart as services: the access policy first, then the roll-up and its drill-down
pages as plain data. Each function opens its own transaction and takes plain values (the
:class:`~domain.access.Actor` asking, ids, the period, today); handlers run one of them.

Refusals: :class:`~domain.access.NotAllowed` (not a member, or outside the presser's scope),
:class:`Gone` (what a button points at no longer exists), :class:`~models.registry.NoPlan`,
:class:`ChoosePlan` (several plans are in force and the person did not say which: the handler
offers the choice). Each takes the plan's id (``plan_id``; 0: the only plan in force).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from domain.access import Action, Actor, NotAllowed, Scope, allows, may_see_agency, require, scope_of
from domain.periods import Period
from models import contributions
from models.db import session_scope
from models.explanations import ExplanationNote, notes_for_items
from models.overdue import (
    Backlog,
    OverdueAgency,
    backlog,
    overdue_by_agency,
    overdue_items,
    with_reasons,
)
from models.registry import ChoosePlan as ChoosePlan  # the handlers and views read them here
from models.registry import PlanOption as PlanOption
from models.registry import chosen_plan, plan_by_number, plan_named
from models.rollup import (
    AgencyLine,
    ItemLine,
    RankLine,
    Rollup,
    agency_lines,
    compute_rollup,
    in_scope,
    item_lines,
    ranking,
)
from models.tables import Agency, Axis, Plan, Task
from models.targets import TargetLine, target_lines

NO_BACKLOG = Backlog(0)


class Gone(LookupError):
    """A button points at something that is not there any more (or never was)."""


@dataclass(frozen=True)
class Viewer:
    """Whose figures a person sees: ``agency_name`` is the scope's agency ("" for everything);
    ``plan_id`` and ``plan_number`` the plan's when several are in force (0 and "": the only one,
    so buttons and pages look as they always did)."""

    scope: Scope
    agency_name: str = ""
    plan_id: int = 0
    plan_number: str = ""
    plan_title: str = ""


@dataclass(frozen=True)
class Summary:
    viewer: Viewer
    rollup: Rollup
    # Overdue items of earlier periods (due before this period began), in the same scope.
    backlog: Backlog = NO_BACKLOG
    # The numeric targets of the period's year against the values reported in the scope.
    targets: tuple[TargetLine, ...] = ()
    ranks: bool = False  # may see the ranking (leaders, coordinators, admins)


@dataclass(frozen=True)
class RankingPage:
    """The league tables of a period in the person's scope, one per agency level."""

    viewer: Viewer
    period: Period
    today: date
    tables: dict[str, list[RankLine]]


@dataclass(frozen=True)
class OverduePage:
    """Every overdue item in the person's scope, whatever its period, per agency worst first;
    ``period`` is the period to go back to."""

    viewer: Viewer
    period: Period
    today: date
    agencies: list[OverdueAgency]

    @property
    def items(self) -> int:
        return sum(a.overdue for a in self.agencies)


@dataclass(frozen=True)
class OverdueAgencyPage:
    viewer: Viewer
    period: Period
    agency_id: int
    name: str
    items: list[ItemLine]
    # item id -> its latest explanation request; whether the viewer may ask for one
    explanations: dict[int, ExplanationNote] = field(default_factory=dict)
    may_ask: bool = False


@dataclass(frozen=True)
class AxisPage:
    viewer: Viewer
    rollup: Rollup
    number: int
    name: str


@dataclass(frozen=True)
class TaskPage:
    viewer: Viewer
    period: Period
    task_id: int
    code: str
    text: str
    axis_number: int
    agencies: list[AgencyLine]


@dataclass(frozen=True)
class AgencyPage:
    viewer: Viewer
    period: Period
    agency_id: int
    name: str
    items: list[ItemLine]
    explanations: dict[int, ExplanationNote] = field(default_factory=dict)
    may_ask: bool = False


def plan_id_of(engine: Engine, number: str) -> int:
    """The id of the plan numbered ``number`` (a ``/status 25/KH-UBND`` argument); Gone if none."""
    with session_scope(engine) as session:
        plan = plan_by_number(session, number)
        if plan is None or plan.id is None:
            raise Gone(f"plan {number}")
        return plan.id


def viewer(session: Session, actor: Actor, plan_id: int = 0) -> tuple[Viewer, Plan]:
    """Who may see the status, and what: members with an agency (admins: everything); of the
    plan ``plan_id`` (0: the only plan in force, else :class:`ChoosePlan`)."""
    require(actor, Action.STATUS)
    scope = scope_of(actor)
    if scope is None:
        raise NotAllowed("no_agency")
    plan = chosen_plan(session, plan_id)
    name = ""
    if scope.root_id is not None:
        agency = session.get(Agency, scope.root_id)
        name = agency.name if agency is not None else "?"
    if not plan_named(session, plan):
        return Viewer(scope, name), plan
    return Viewer(scope, name, int(plan.id or 0), plan.number, plan.title), plan


def summary(engine: Engine, actor: Actor, period: Period, today: date, plan_id: int = 0) -> Summary:
    """The period's figures for the person's scope (/status, /chart)."""
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        return Summary(who, compute_rollup(session, plan, period, today, who.scope),
                       backlog(session, plan, today, who.scope, period.start),
                       tuple(target_lines(session, plan, period.start.year, who.scope)),
                       allows(actor, Action.RANKING))


def ranking_page(engine: Engine, actor: Actor, period: Period, today: date, plan_id: int = 0) -> RankingPage:
    """The ranking (leaders, coordinators, admins): agencies of the person's scope by on-time
    rate, then overdue items, like with like (models.rollup.ranking)."""
    require(actor, Action.RANKING)
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        return RankingPage(who, period, today, ranking(session, plan, period, today, who.scope))


def overdue_page(engine: Engine, actor: Actor, period: Period, today: date, plan_id: int = 0) -> OverduePage:
    """The overdue drill-down: agencies of the person's scope with overdue items, worst first."""
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        return OverduePage(who, period, today, overdue_by_agency(session, plan, today, who.scope))


def overdue_agency_page(engine: Engine, actor: Actor, period: Period, agency_id: int,
                        today: date, tz: tzinfo = UTC, plan_id: int = 0) -> OverdueAgencyPage:
    """One agency's overdue items (any period): only inside the person's scope; with their
    explanation requests (dated in ``tz``)."""
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        agency = session.get(Agency, agency_id)
        if agency is None:
            raise Gone(f"agency {agency_id}")
        if not may_see_agency(who.scope, in_scope(session, who.scope, agency_id)):
            raise NotAllowed("scope")
        items = overdue_items(session, plan, today, agency_id)
        return OverdueAgencyPage(who, period, agency_id, agency.name, with_reasons(session, items),
                                 notes_for_items(session, [i.item_id for i in items], tz),
                                 allows(actor, Action.REQUEST_EXPLANATION))


def axis_page(engine: Engine, actor: Actor, period: Period, number: int, today: date,
              plan_id: int = 0) -> AxisPage:
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        axis = session.exec(select(Axis).where(Axis.plan_id == plan.id, Axis.number == number)).first()
        if axis is None:
            raise Gone(f"axis {number}")
        rollup = compute_rollup(session, plan, period, today, who.scope)
        return AxisPage(who, rollup, number, axis.name)


def task_page(engine: Engine, actor: Actor, period: Period, task_id: int, today: date,
              plan_id: int = 0) -> TaskPage:
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        task = session.get(Task, task_id)
        if task is None or task.plan_id != plan.id or task.retired_at is not None:
            raise Gone(f"task {task_id}")
        axis = session.get(Axis, task.axis_id)
        agencies = agency_lines(session, plan, period, today, who.scope, task_id=task_id)
        return TaskPage(who, period, task_id, task.code, task.task, axis.number if axis else 1, agencies)


def agency_page(engine: Engine, actor: Actor, period: Period, agency_id: int, today: date,
                tz: tzinfo = UTC, plan_id: int = 0) -> AgencyPage:
    """One agency's items: only inside the person's scope (a forged id gets NotAllowed); with
    their explanation requests (dated in ``tz``)."""
    with session_scope(engine) as session:
        who, plan = viewer(session, actor, plan_id)
        agency = session.get(Agency, agency_id)
        if agency is None:
            raise Gone(f"agency {agency_id}")
        if not may_see_agency(who.scope, in_scope(session, who.scope, agency_id)):
            raise NotAllowed("scope")
        items = item_lines(session, plan, period, today, Scope(agency_id, subtree=False))
        items = contributions.with_counts(session, with_reasons(session, items))
        return AgencyPage(who, period, agency_id, agency.name, items,
                          notes_for_items(session, [i.item_id for i in items], tz),
                          allows(actor, Action.REQUEST_EXPLANATION))
