"""Numeric targets as services: add, list, remove and seed a plan's targets (the CLI and the
admins' /targets), the target an item's report answers to, the values reported against it, and
the roll-up of value against target (/status, the dashboard, the export).

The roll-up of one target over a scope: each agency's latest value in the year counts once; the
figure shown is the average of those values, beside how many agencies meet the target (for a %
target across a class of agencies both matter: "72 % on average, 3 of 5 agencies at ≥ 60 %").
The trend is the same average per period (each agency's latest value in that period).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from domain.access import Action, Actor, Scope, require
from domain.targets import (
    PLAN_TARGETS,
    Direction,
    Progress,
    TargetInputError,
    TargetSpec,
    check_value,
    is_task_code,
    parse_target_line,
    progress,
)
from models.db import session_scope
from models.registry import ChoosePlan, NoPlan, PlanOption, chosen_plan, find_task, plan_named
from models.rollup import scope_agency_ids
from models.tables import AuditLog, Item, Plan, Report, Target, TargetDraft, TargetValue, Task


class TargetError(Exception):
    """A target that cannot be added, found or removed. ``code``: ``no_task``, ``duplicate``,
    ``no_target``, ``expired``; ``detail``: the English sentence the command line prints."""

    def __init__(self, code: str, detail: str = "", **values: object) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code
        self.values = values


@dataclass(frozen=True)
class TargetRow:
    """A target as lists show it (``text``: the task's words, or the indicator's name)."""

    id: int
    subject: str
    text: str
    year: int
    value: float
    unit: str
    direction: str
    note: str
    source: str
    task_id: int | None

    @classmethod
    def of(cls, target: Target, task: Task | None) -> TargetRow:
        return cls(target.id or 0, target.subject, task.task if task is not None else target.name,
                   target.year, target.value, target.unit, target.direction, target.note,
                   target.source, target.task_id)


@dataclass(frozen=True)
class TargetLine:
    """One target against the values reported in a scope: where it stands and its trend
    (``trend``: (period key, average) oldest first)."""

    target: TargetRow
    progress: Progress
    trend: tuple[tuple[str, float], ...] = ()


# --------------------------------------------------------------------------- the registry of targets


def _task_of(session: Session, plan: Plan, subject: str) -> Task | None:
    """The task a task code names (None for an indicator); :class:`TargetError` if none."""
    if not is_task_code(subject):
        return None
    task = find_task(session, plan, subject)
    if task is None:
        raise TargetError("no_task", f"{subject!r}: no such task in plan {plan.number} "
                          "(see `dondoc tasks` for the codes)", subject=subject)
    return task


def _existing(session: Session, plan: Plan, subject: str, year: int) -> Target | None:
    return session.exec(select(Target).where(Target.plan_id == plan.id, Target.subject == subject,
                                             Target.year == year)).first()


def check_new(session: Session, plan: Plan, spec: TargetSpec) -> TargetRow:
    """The target ``spec`` would add, as a row (id 0), if it may be added."""
    task = _task_of(session, plan, spec.subject)
    found = _existing(session, plan, spec.subject, spec.year)
    if found is not None:
        raise TargetError("duplicate", f"{spec.subject} already has a target for {spec.year} "
                          f"(id {found.id}); remove it first with `dondoc target remove {found.id}`",
                          id=found.id or 0)
    draft = Target(plan_id=plan.id or 0, task_id=task.id if task else None, subject=spec.subject,
                   year=spec.year, value=spec.value, unit=spec.unit, direction=spec.direction.value)
    return TargetRow.of(draft, task)


def add_target(session: Session, *, plan: Plan, spec: TargetSpec, note: str = "", name: str = "",
               source: str = "admin", actor: str = "cli") -> Target:
    """Store a target (refused: an unknown task, or the subject already has one that year)."""
    row = check_new(session, plan, spec)
    assert plan.id is not None
    target = Target(plan_id=plan.id, task_id=row.task_id, subject=spec.subject, name=name, year=spec.year,
                    value=spec.value, unit=spec.unit, direction=spec.direction.value, note=note,
                    source=source)
    session.add(target)
    session.flush()
    session.add(AuditLog(actor=actor, action="target.add", entity="target", entity_id=str(target.id),
                         details=json.dumps({"subject": spec.subject, "year": spec.year,
                                             "value": spec.value, "unit": spec.unit,
                                             "direction": spec.direction.value, "source": source},
                                            ensure_ascii=False)))
    return target


def list_targets(session: Session, plan: Plan, *, year: int | None = None) -> list[TargetRow]:
    """The plan's targets by year, then subject (tasks in the plan's order, indicators first)."""
    query = (select(Target, Task).join(Task, col(Task.id) == Target.task_id, isouter=True)
             .where(Target.plan_id == plan.id))
    if year is not None:
        query = query.where(Target.year == year)
    found = list(session.exec(query))
    # Tasks in the plan's order (their position), indicators first; no query when there are none.
    positions = {t.id: t.position for _, t in found if t is not None}
    rows = [TargetRow.of(t, task) for t, task in found]
    return sorted(rows, key=lambda r: (r.year, positions.get(r.task_id, -1), r.subject))


def remove_target(session: Session, *, plan: Plan, target_id: int, actor: str = "cli") -> TargetRow:
    """Remove a target and the values reported against it."""
    target = session.get(Target, target_id)
    if target is None or target.plan_id != plan.id:
        raise TargetError("no_target", f"no target with id {target_id} (see `dondoc target list`)")
    task = session.get(Task, target.task_id) if target.task_id is not None else None
    row = TargetRow.of(target, task)
    session.execute(delete(TargetValue).where(col(TargetValue.target_id) == target_id))
    session.delete(target)
    session.add(AuditLog(actor=actor, action="target.remove", entity="target", entity_id=str(target_id),
                         details=json.dumps({"subject": row.subject, "year": row.year},
                                            ensure_ascii=False)))
    session.flush()
    return row


def seed_plan_targets(session: Session, plan: Plan, *, actor: str = "cli") -> tuple[int, int]:
    """The plan's own targets (``domain.targets.PLAN_TARGETS``), once: (added, already there).
    A task the plan no longer has is skipped (counted as neither)."""
    added = kept = 0
    for seed in PLAN_TARGETS:
        if _existing(session, plan, seed.subject, seed.year) is not None:
            kept += 1
            continue
        if is_task_code(seed.subject) and find_task(session, plan, seed.subject) is None:
            continue
        spec = TargetSpec(seed.subject, seed.year, seed.value, seed.unit, seed.direction)
        add_target(session, plan=plan, spec=spec, note=seed.note, name=seed.name, source="plan", actor=actor)
        added += 1
    return added, kept


# --------------------------------------------------------------------------- values


def target_for_item(session: Session, item: Item) -> Target | None:
    """The target of the item's task for the year its period begins in."""
    return session.exec(select(Target).where(Target.task_id == item.task_id,
                                             Target.year == item.period_start.year)).first()


def last_value(session: Session, report_id: int) -> float | None:
    """The value a report carried (a new draft starts from it)."""
    found = session.exec(select(TargetValue).where(TargetValue.report_id == report_id)
                         .order_by(col(TargetValue.id).desc())).first()
    return found.value if found is not None else None


def reported_value(session: Session, report_id: int) -> tuple[float, TargetRow] | None:
    """The value a report version gave, with its target (a card shows both)."""
    found = session.exec(select(TargetValue, Target).join(Target, col(Target.id) == TargetValue.target_id)
                         .where(TargetValue.report_id == report_id)
                         .order_by(col(TargetValue.id).desc())).first()
    return (found[0].value, TargetRow.of(found[1], None)) if found is not None else None


def record_report_value(session: Session, *, report: Report, item: Item, value: float, evidence: str,
                        now: datetime) -> TargetValue | None:
    """The value a submitted report carries, against its item's target (None: no target)."""
    target = target_for_item(session, item)
    if target is None or target.id is None:
        return None
    row = TargetValue(target_id=target.id, agency_id=item.agency_id, item_id=item.id,
                      period_key=item.period_key, value=value, member_id=report.member_id,
                      report_id=report.id, evidence=evidence[:255], actor=f"member:{report.member_id}",
                      created_at=now)
    session.add(row)
    session.flush()
    return row


def record_value(session: Session, *, plan: Plan, subject: str, year: int, value: float, period_key: str,
                 evidence: str = "", actor: str = "cli", now: datetime) -> TargetValue:
    """An indicator's (or a task's) value for the whole province, recorded by an admin."""
    target = _existing(session, plan, subject, year)
    if target is None or target.id is None:
        raise TargetError("no_target", f"{subject} has no target for {year} (see `dondoc target list`)")
    try:
        check_value(value, target.unit)
    except TargetInputError as exc:
        raise TargetError("value", f"{value:g} does not fit the target's unit {target.unit!r} "
                          f"({exc.code})") from exc
    row = TargetValue(target_id=target.id, agency_id=None, period_key=period_key, value=value,
                      evidence=evidence[:255], actor=actor, created_at=now)
    session.add(row)
    session.flush()
    return row


# --------------------------------------------------------------------------- roll-up


def _latest(values: Sequence[TargetValue]) -> dict[int | None, float]:
    """Each agency's latest value (values come oldest first)."""
    latest: dict[int | None, float] = {}
    for v in values:
        latest[v.agency_id] = v.value
    return latest


def _trend(values: Sequence[TargetValue]) -> tuple[tuple[str, float], ...]:
    periods: dict[str, list[TargetValue]] = {}
    for v in values:
        periods.setdefault(v.period_key, []).append(v)
    trend = []
    for key in sorted(periods):
        latest = list(_latest(periods[key]).values())
        trend.append((key, round(sum(latest) / len(latest), 2)))
    return tuple(trend)


def target_lines(session: Session, plan: Plan, year: int, scope: Scope) -> list[TargetLine]:
    """Every target of ``year`` against the values reported in ``scope`` (an admin's
    province-wide values count in every scope)."""
    ids = scope_agency_ids(session, scope)
    lines = []
    for row in list_targets(session, plan, year=year):
        query = select(TargetValue).where(TargetValue.target_id == row.id)
        if ids is not None:
            query = query.where(col(TargetValue.agency_id).in_(ids) | col(TargetValue.agency_id).is_(None))
        values = list(session.exec(query.order_by(col(TargetValue.created_at), col(TargetValue.id))))
        lines.append(TargetLine(row, progress(list(_latest(values).values()), row.value, row.direction),
                                _trend(values)))
    return lines


# --------------------------------------------------------------------------- /targets (admins, in chat)


@dataclass(frozen=True)
class Overview:
    """/targets: the targets of a year (``year`` None: every year); ``plan``: the plan's number
    when several are in force ("" with one)."""

    year: int | None
    rows: list[TargetRow]
    plan: str = ""


@dataclass(frozen=True)
class Preview:
    """A typed target waiting for the admin's confirmation (``plan`` as in :class:`Overview`)."""

    draft_id: int
    row: TargetRow
    plan: str = ""


@dataclass(frozen=True)
class PlanAsked:
    """A typed target kept in the admin's draft while they are asked which plan it is for."""

    draft_id: int
    plans: list[PlanOption]


@dataclass(frozen=True)
class Added:
    row: TargetRow
    plan: str = ""


def _plan(session: Session, plan_id: int = 0) -> Plan:
    """The plan /targets works on: ``plan_id`` (a button's, or the number typed after the
    command), else the only plan in force; several in force and none named:
    :class:`~models.registry.ChoosePlan`."""
    return chosen_plan(session, plan_id)


def overview(engine: Engine, actor: Actor, year: int | None, plan_id: int = 0) -> Overview:
    with session_scope(engine) as session:
        require(actor, Action.MANAGE_TARGETS)
        plan = _plan(session, plan_id)
        return Overview(year, list_targets(session, plan, year=year), plan_named(session, plan))


def preview(engine: Engine, actor: Actor, line: str, *, now: datetime,
            plan_id: int = 0) -> Preview | PlanAsked:
    """A typed line ("5.2c 2026 60%") checked and kept as the admin's one unconfirmed target;
    with several plans in force and none named, kept and the plans to choose from returned.
    Refusals: :class:`~domain.targets.TargetInputError`, :class:`TargetError`."""
    spec = parse_target_line(line)
    with session_scope(engine) as session:
        require(actor, Action.MANAGE_TARGETS)
        plans: list[PlanOption] = []
        try:
            plan: Plan | None = _plan(session, plan_id)
        except ChoosePlan as choice:
            plan, plans = None, choice.plans
        row = check_new(session, plan, spec) if plan is not None else None
        draft = session.exec(select(TargetDraft).where(
            TargetDraft.telegram_user_id == actor.telegram_user_id)).first()
        draft = draft or TargetDraft(telegram_user_id=actor.telegram_user_id, subject=spec.subject,
                                     year=spec.year, value=spec.value)
        draft.subject, draft.year, draft.value = spec.subject, spec.year, spec.value
        draft.unit, draft.direction, draft.updated_at = spec.unit, spec.direction.value, now
        draft.plan_id = plan.id if plan is not None else None
        session.add(draft)
        session.flush()
        assert draft.id is not None
        if plan is None or row is None:
            return PlanAsked(draft.id, plans)
        return Preview(draft.id, row, plan_named(session, plan))


def _spec(draft: TargetDraft) -> TargetSpec:
    return TargetSpec(draft.subject, draft.year, draft.value, draft.unit, Direction(draft.direction))


def preview_in(engine: Engine, actor: Actor, draft_id: int, plan_id: int, *, now: datetime) -> Preview:
    """The plan chosen for the admin's typed target (a button): checked against that plan (in
    force) and kept with it for the confirmation."""
    with session_scope(engine) as session:
        require(actor, Action.MANAGE_TARGETS)
        draft = _draft(session, actor, draft_id)
        try:
            plan = chosen_plan(session, plan_id, in_force=True)
        except NoPlan:
            raise TargetError("expired") from None
        row = check_new(session, plan, _spec(draft))
        draft.plan_id, draft.updated_at = plan.id, now
        session.add(draft)
        session.flush()
        return Preview(draft_id, row, plan_named(session, plan))


def _draft(session: Session, actor: Actor, draft_id: int) -> TargetDraft:
    draft = session.get(TargetDraft, draft_id)
    if draft is None or draft.telegram_user_id != actor.telegram_user_id:
        raise TargetError("expired")
    return draft


def confirm(engine: Engine, actor: Actor, draft_id: int) -> Added:
    """Store the previewed target in the plan it was previewed for (checked again: someone may
    have added one meanwhile). A draft kept without a plan while several are in force (the
    choice not made yet, or a preview from before a second plan came) is refused: expired."""
    with session_scope(engine) as session:
        require(actor, Action.MANAGE_TARGETS)
        draft = _draft(session, actor, draft_id)
        try:
            plan = _plan(session, draft.plan_id or 0)
        except ChoosePlan:
            raise TargetError("expired") from None
        spec = _spec(draft)
        session.delete(draft)
        target = add_target(session, plan=plan, spec=spec, actor=f"tg:{actor.telegram_user_id}")
        task = session.get(Task, target.task_id) if target.task_id is not None else None
        return Added(TargetRow.of(target, task), plan_named(session, plan))


def discard(engine: Engine, actor: Actor, draft_id: int) -> None:
    with session_scope(engine) as session:
        require(actor, Action.MANAGE_TARGETS)
        session.delete(_draft(session, actor, draft_id))
