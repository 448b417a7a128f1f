"""Importing a parsed plan into the registry, and reading the registry back.

Import is idempotent: the same document changes nothing; a changed one updates tasks in place
(matched by code) and the report says what changed. Names in the lead/coordinating columns are
resolved to agencies or classes (classes stay classes); names seen for the first time are added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from domain.plan_parser import ParsedPlan, ParsedTask
from models.agencies import find_agency, find_class, looks_like_class, looks_open, unique_code
from models.tables import (
    Agency,
    AgencyClass,
    AgencyLevel,
    Assignment,
    AssignmentRole,
    AuditLog,
    Axis,
    Plan,
    Task,
)
from models.types import utcnow

TASK_FIELDS = ("position", "row", "content", "task", "timeframe", "cadence", "note",
               "coordination_note")


@dataclass(frozen=True)
class Change:
    code: str
    field: str
    old: str
    new: str


@dataclass
class ImportReport:
    plan_number: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    new_agencies: list[str] = field(default_factory=list)
    new_classes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.added or self.retired or self.changes
                    or self.new_agencies or self.new_classes)

    def to_dict(self) -> dict[str, object]:
        return {"plan": self.plan_number, "created": self.created, "added": self.added,
                "retired": self.retired, "new_agencies": self.new_agencies,
                "new_classes": self.new_classes, "warnings": self.warnings,
                "changes": [c.__dict__ for c in self.changes]}


@dataclass(frozen=True)
class Ref:
    """A resolved name: exactly one of agency_id / class_id."""

    label: str
    agency_id: int | None = None
    class_id: int | None = None


class Resolver:
    """Resolves document names to agencies/classes, adding the ones not known yet."""

    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session, self.report = session, report
        self._cache: dict[str, Ref] = {}

    def __call__(self, label: str) -> Ref:
        if label not in self._cache:
            self._cache[label] = self._resolve(label)
        return self._cache[label]

    def _resolve(self, label: str) -> Ref:
        klass = find_class(self.session, label)
        if klass is not None:
            return Ref(label, class_id=klass.id)
        agency = find_agency(self.session, label)
        if agency is not None:
            return Ref(label, agency_id=agency.id)
        if looks_like_class(label):
            new_class = AgencyClass(name=label, code=unique_code(self.session, label, AgencyClass),
                                    open_set=looks_open(label))
            self.session.add(new_class)
            self.session.flush()
            self.report.new_classes.append(label)
            return Ref(label, class_id=new_class.id)
        new_agency = Agency(name=label, code=unique_code(self.session, label, Agency),
                            level=AgencyLevel.OTHER.value)
        self.session.add(new_agency)
        self.session.flush()
        self.report.new_agencies.append(label)
        return Ref(label, agency_id=new_agency.id)


def _upsert_plan(session: Session, parsed: ParsedPlan, number: str, source_name: str,
                 digest: str, active_from: date | None, report: ImportReport) -> Plan:
    plan = session.exec(select(Plan).where(Plan.number == number)).first()
    if plan is None:
        plan = Plan(number=number, title=parsed.title, issued_on=parsed.issued_on,
                    source_name=source_name, source_sha256=digest,
                    active_from=active_from or utcnow().date())
        session.add(plan)
        report.created = True
    else:
        plan.title, plan.issued_on = parsed.title, parsed.issued_on
        plan.source_name, plan.source_sha256 = source_name, digest
        if active_from is not None:
            plan.active_from = active_from
    session.flush()
    return plan


def _upsert_axes(session: Session, plan: Plan, parsed: ParsedPlan) -> dict[int, Axis]:
    axes = {a.number: a for a in session.exec(select(Axis).where(Axis.plan_id == plan.id))}
    for parsed_axis in parsed.axes:
        axis = axes.get(parsed_axis.number)
        if axis is None:
            assert plan.id is not None
            axis = Axis(plan_id=plan.id, number=parsed_axis.number, name=parsed_axis.name)
            session.add(axis)
            axes[parsed_axis.number] = axis
        else:
            axis.name = parsed_axis.name
    session.flush()
    return axes


def _wanted_refs(parsed_task: ParsedTask, resolve: Resolver) -> list[tuple[str, Ref]]:
    return ([(AssignmentRole.LEAD.value, resolve(n)) for n in parsed_task.lead]
            + [(AssignmentRole.COORDINATING.value, resolve(n)) for n in parsed_task.coordinating])


def _sync_assignments(session: Session, task: Task, parsed_task: ParsedTask, resolve: Resolver,
                      report: ImportReport) -> None:
    assert task.id is not None
    current = list(session.exec(select(Assignment).where(Assignment.task_id == task.id)
                                .order_by(col(Assignment.position))))
    wanted = _wanted_refs(parsed_task, resolve)
    as_tuple = [(a.role, a.label, a.agency_id, a.class_id) for a in current]
    wanted_tuple = [(role, r.label, r.agency_id, r.class_id) for role, r in wanted]
    if as_tuple == wanted_tuple:
        return
    if current:
        for role in (AssignmentRole.LEAD.value, AssignmentRole.COORDINATING.value):
            old = "; ".join(a.label for a in current if a.role == role)
            new = "; ".join(r.label for rl, r in wanted if rl == role)
            if old != new:
                report.changes.append(Change(task.code, role, old, new))
    for assignment in current:
        session.delete(assignment)
    session.flush()
    for position, (role, ref) in enumerate(wanted):
        session.add(Assignment(task_id=task.id, role=role, label=ref.label, agency_id=ref.agency_id,
                               class_id=ref.class_id, position=position))


def _upsert_task(session: Session, plan: Plan, axes: dict[int, Axis], parsed_task: ParsedTask,
                 existing: Task | None, report: ImportReport) -> Task:
    values = {name: getattr(parsed_task, name) for name in TASK_FIELDS}
    values["axis_id"] = axes[parsed_task.axis].id
    if existing is None:
        assert plan.id is not None
        task = Task(plan_id=plan.id, code=parsed_task.code, **values)
        session.add(task)
        report.added.append(parsed_task.code)
        session.flush()
        return task
    changed = False
    for name, value in values.items():
        old = getattr(existing, name)
        if old != value:
            if name in TASK_FIELDS and name != "position":
                report.changes.append(Change(existing.code, name, str(old), str(value)))
            setattr(existing, name, value)
            changed = True
    if existing.retired_at is not None:
        existing.retired_at = None
        report.added.append(existing.code)
        changed = True
    if changed:
        existing.updated_at = utcnow()
    return existing


def import_plan(session: Session, parsed: ParsedPlan, *, raw: bytes, source_name: str,
                number: str | None = None, active_from: date | None = None,
                actor: str = "cli") -> ImportReport:
    """Bring the registry in line with ``parsed``; the caller's transaction makes it atomic."""
    plan_number = number or parsed.number
    if not plan_number:
        raise ValueError("the document does not say the plan's number (Kế hoạch số …); "
                         "give it with --number")
    report = ImportReport(plan_number=plan_number, warnings=list(parsed.warnings))
    plan = _upsert_plan(session, parsed, plan_number, source_name,
                        hashlib.sha256(raw).hexdigest(), active_from, report)
    axes = _upsert_axes(session, plan, parsed)
    resolve = Resolver(session, report)
    existing = {t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    for parsed_task in parsed.tasks:
        task = _upsert_task(session, plan, axes, parsed_task, existing.get(parsed_task.code), report)
        _sync_assignments(session, task, parsed_task, resolve, report)
    seen = {t.code for t in parsed.tasks}
    for code, task in existing.items():
        if code not in seen and task.retired_at is None:
            task.retired_at = utcnow()
            report.retired.append(code)
    if report.changed:
        plan.updated_at = utcnow()
        session.add(AuditLog(actor=actor, action="plan.import", entity="plan",
                             entity_id=str(plan.id), details=json.dumps(report.to_dict(),
                                                                          ensure_ascii=False)))
    session.flush()
    return report


# --- reading the registry -----------------------------------------------------------------

@dataclass(frozen=True)
class TaskView:
    code: str
    axis: int
    axis_name: str
    row: str
    content: str
    task: str
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    coordination_note: str
    timeframe: str
    cadence: str
    note: str

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "axis": self.axis, "content": self.content, "task": self.task,
                "lead": list(self.lead), "coordinating": list(self.coordinating),
                "timeframe": self.timeframe, "cadence": self.cadence, "note": self.note,
                "row": self.row, "axis_name": self.axis_name,
                "coordination_note": self.coordination_note}


def current_plan(session: Session) -> Plan | None:
    """The plan in force: the newest one not archived."""
    query = (select(Plan).where(col(Plan.archived_at).is_(None))
             .order_by(col(Plan.created_at).desc(), col(Plan.id).desc()))
    return session.exec(query).first()


class NoPlan(ValueError):
    """No plan is loaded yet."""


def require_plan(session: Session) -> Plan:
    plan = current_plan(session)
    if plan is None:
        raise NoPlan("no plan is loaded; run `dondoc init` or `dondoc import-plan FILE`")
    return plan


def list_tasks(session: Session, plan: Plan, *, axis: int | None = None) -> list[TaskView]:
    """The plan's live tasks in document order, with their lead and coordinating names."""
    query = (select(Task, Axis).join(Axis, col(Axis.id) == Task.axis_id)
             .where(Task.plan_id == plan.id, col(Task.retired_at).is_(None))
             .order_by(col(Task.position)))
    if axis is not None:
        query = query.where(Axis.number == axis)
    rows = list(session.exec(query))
    task_ids = [t.id for t, _ in rows]
    assignments: dict[int, list[Assignment]] = {}
    for a in session.exec(select(Assignment).where(col(Assignment.task_id).in_(task_ids))
                          .order_by(col(Assignment.position))):
        assignments.setdefault(a.task_id, []).append(a)
    return [_view(task, ax, assignments.get(task.id or 0, [])) for task, ax in rows]


def _view(task: Task, axis: Axis, assignments: Sequence[Assignment]) -> TaskView:
    def names(role: AssignmentRole) -> tuple[str, ...]:
        return tuple(a.label for a in assignments if a.role == role.value)

    return TaskView(code=task.code, axis=axis.number, axis_name=axis.name, row=task.row,
                    content=task.content, task=task.task, lead=names(AssignmentRole.LEAD),
                    coordinating=names(AssignmentRole.COORDINATING),
                    coordination_note=task.coordination_note, timeframe=task.timeframe,
                    cadence=task.cadence, note=task.note)


def find_task(session: Session, plan: Plan, code: str) -> Task | None:
    return session.exec(select(Task).where(Task.plan_id == plan.id, Task.code == code.strip(),
                                           col(Task.retired_at).is_(None))).first()
