"""Importing a parsed plan into the registry, and reading the registry back.

An import is computed before it is made: :func:`preview_import` reads the registry and says what
the document would change (tasks added, fields changed with old and new values, tasks retired
and the reminders that would stop, tasks whose code would carry another task's text, new
agencies) without writing anything; :func:`import_plan` computes the same and applies it in the
caller's transaction. Retiring or moving a task must be asked for (``retire=True``): a document
that silently lost rows would otherwise retire them. The same document changes nothing.

Names in the lead/coordinating columns are resolved to agencies or classes (classes stay
classes); names seen for the first time are added.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from domain.names import clean, name_key, split_list
from domain.periods import ONCE
from models import ledger
from models.agencies import looks_like_class, looks_open, unique_code
from models.tables import (
    OPEN_STATES,
    Agency,
    AgencyClass,
    AgencyLevel,
    Assignment,
    AssignmentRole,
    AuditLog,
    Axis,
    Item,
    Plan,
    Task,
)
from models.types import utcnow

if TYPE_CHECKING:  # the parser is imported by what parses a plan, not by every command
    from domain.plan_parser import ParsedPlan, ParsedTask

Check = Callable[[], None]  # raises to stop a long import (the caller's time limit)
TASK_FIELDS = ("position", "row", "content", "task", "timeframe", "cadence", "note",
               "coordination_note", "due_on", "expected_output")
_ROLES = (AssignmentRole.LEAD.value, AssignmentRole.COORDINATING.value)


@dataclass(frozen=True)
class Change:
    code: str  # a task's code, or "plan" / "axis N"
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Move:
    """A task code that would carry the text another task of the registry has now (rows
    removed or reordered in the document): the reports filed under the code stay with it."""

    code: str
    text_of: str


@dataclass(frozen=True)
class Stopping:
    """What retiring a task stops: reminders already planned, and open obligations (items)
    that get no more reminders."""

    code: str
    reminders: int
    open_items: int


@dataclass
class ImportReport:
    plan_number: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    stopping: list[Stopping] = field(default_factory=list)
    new_agencies: list[str] = field(default_factory=list)
    new_classes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.added or self.retired or self.changes
                    or self.new_agencies or self.new_classes)

    @property
    def needs_retire(self) -> bool:
        """Whether applying it retires or moves tasks (which must be confirmed)."""
        return bool(self.retired or self.moved)

    @property
    def reminders_stopping(self) -> int:
        return sum(s.reminders for s in self.stopping)

    @property
    def open_items_stopping(self) -> int:
        return sum(s.open_items for s in self.stopping)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        """The report :meth:`to_dict` gave (a preview kept in the database)."""
        return cls(plan_number=data["plan"], created=data["created"], applied=data["applied"],
                   added=list(data["added"]), retired=list(data["retired"]),
                   changes=[Change(**c) for c in data["changes"]],
                   moved=[Move(**m) for m in data["moved"]],
                   stopping=[Stopping(**s) for s in data["stopping"]],
                   new_agencies=list(data["new_agencies"]), new_classes=list(data["new_classes"]),
                   warnings=list(data["warnings"]))

    def to_dict(self) -> dict[str, object]:
        return {"plan": self.plan_number, "created": self.created, "applied": self.applied,
                "added": self.added, "retired": self.retired,
                "new_agencies": self.new_agencies, "new_classes": self.new_classes,
                "warnings": self.warnings, "changes": [asdict(c) for c in self.changes],
                "moved": [asdict(m) for m in self.moved],
                "stopping": [asdict(s) for s in self.stopping]}


class RetireRefused(ValueError):
    """Applying the document would retire or move tasks, and that was not confirmed."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(f"plan {report.plan_number}: the import retires {len(report.retired)} "
                         f"and moves {len(report.moved)} tasks; nothing was changed")


# --- resolving names (read-only) ----------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    """A resolved name: exactly one of agency_id / class_id (both None: not created yet)."""

    label: str
    agency_id: int | None = None
    class_id: int | None = None
    new_class: bool = False  # for a name not known yet: becomes a class, else an agency
    same_as: str = ""  # a new name spelled like an earlier new one: the same agency or class

    @property
    def is_new(self) -> bool:
        return self.agency_id is None and self.class_id is None


class _Names:
    """The agencies and classes, read once, looked up the way ``find_class`` and
    ``find_agency`` do (a class first; an agency by code, then by name or alias)."""

    def __init__(self, session: Session) -> None:
        self.classes: dict[str, int | None] = {}
        for klass in session.exec(select(AgencyClass)):
            for key in _keys(klass.name, klass.aliases):
                self.classes.setdefault(key, klass.id)
        self.codes: dict[str, int | None] = {}
        self.agencies: dict[str, int | None] = {}
        for agency in session.exec(select(Agency)):
            self.codes.setdefault(agency.code, agency.id)
            for key in _keys(agency.name, agency.aliases):
                self.agencies.setdefault(key, agency.id)

    def resolve(self, label: str) -> Ref:
        key = name_key(label)
        if key in self.classes:
            return Ref(label, class_id=self.classes[key])
        agency_id = self.codes.get(clean(label).upper(), self.agencies.get(key))
        if agency_id is not None:
            return Ref(label, agency_id=agency_id)
        return Ref(label, new_class=looks_like_class(label))


def _keys(name: str, aliases: str) -> list[str]:
    return [name_key(name), *(name_key(a) for a in split_list(aliases))]


def named(session: Session, parsed: ParsedPlan) -> tuple[list[str], list[str]]:
    """The agencies and the agency classes the document names (known or new), in first use."""
    names = _Names(session)
    agencies: list[str] = []
    classes: list[str] = []
    for label in dict.fromkeys(n for t in parsed.tasks for n in (*t.lead, *t.coordinating)):
        ref = names.resolve(label)
        (classes if ref.class_id is not None or (ref.is_new and ref.new_class) else agencies
         ).append(label)
    return agencies, classes


def _resolve_names(session: Session, parsed: ParsedPlan, report: ImportReport) -> dict[str, Ref]:
    """Every name the document uses, in order of first use; the new ones go in the report."""
    names = _Names(session)
    refs: dict[str, Ref] = {}
    new_by_key: dict[str, str] = {}
    for parsed_task in parsed.tasks:
        for label in (*parsed_task.lead, *parsed_task.coordinating):
            if label in refs:
                continue
            refs[label] = ref = names.resolve(label)
            if not ref.is_new:
                continue
            first = new_by_key.setdefault(name_key(label), label)
            if first != label:
                refs[label] = Ref(label, new_class=refs[first].new_class, same_as=first)
            else:
                (report.new_classes if ref.new_class else report.new_agencies).append(label)
    return refs


# --- what the document changes (read-only) ------------------------------------------------

@dataclass
class _TaskStep:
    parsed: ParsedTask
    existing: Task | None
    write_fields: bool = False
    write_refs: bool = False


@dataclass
class _Diff:
    report: ImportReport
    plan: Plan | None
    refs: dict[str, Ref]
    steps: list[_TaskStep]
    retire: list[Task]


def _plan_number(parsed: ParsedPlan, number: str | None) -> str:
    plan_number = number or parsed.number
    if not plan_number:
        raise ValueError("the document does not say the plan's number (Kế hoạch số …); "
                         "give it with --number")
    return plan_number


def _no_check() -> None:
    return None


def _diff(session: Session, parsed: ParsedPlan, number: str | None, active_from: date | None,
          check: Check) -> _Diff:
    report = ImportReport(plan_number=_plan_number(parsed, number), warnings=list(parsed.warnings))
    plan = session.exec(select(Plan).where(Plan.number == report.plan_number)).first()
    report.created = plan is None
    refs = _resolve_names(session, parsed, report)
    existing: dict[str, Task] = {}
    if plan is not None:
        report.changes += _plan_changes(session, plan, parsed, active_from)
        existing = {t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    current = _assignments(session, plan)
    steps = []
    for parsed_task in parsed.tasks:
        check()
        steps.append(_task_step(parsed_task, existing.get(parsed_task.code), refs, current, report))
    seen = {t.code for t in parsed.tasks}
    retire = [t for code, t in existing.items() if code not in seen and t.retired_at is None]
    report.retired = [t.code for t in retire]
    report.stopping = _stopping(session, retire)
    report.moved = _moves(existing, parsed)
    return _Diff(report, plan, refs, steps, retire)


def _plan_changes(session: Session, plan: Plan, parsed: ParsedPlan,
                  active_from: date | None) -> list[Change]:
    changes = []
    if plan.title != parsed.title:
        changes.append(Change("plan", "title", plan.title, parsed.title))
    if plan.issued_on != parsed.issued_on:
        changes.append(Change("plan", "issued_on", str(plan.issued_on or ""),
                              str(parsed.issued_on or "")))
    if active_from is not None and plan.active_from != active_from:
        changes.append(Change("plan", "active_from", str(plan.active_from), str(active_from)))
    axes = {a.number: a.name for a in session.exec(select(Axis).where(Axis.plan_id == plan.id))}
    for axis in parsed.axes:
        if axis.number in axes and axes[axis.number] != axis.name:
            changes.append(Change(f"axis {axis.number}", "name", axes[axis.number], axis.name))
        elif axis.number not in axes:
            changes.append(Change(f"axis {axis.number}", "name", "", axis.name))
    return changes


def _assignments(session: Session, plan: Plan | None) -> dict[int, list[Assignment]]:
    """The plan's assignments by task id (one query, however many tasks)."""
    found: dict[int, list[Assignment]] = defaultdict(list)
    if plan is not None:
        query = (select(Assignment).join(Task, col(Task.id) == Assignment.task_id)
                 .where(Task.plan_id == plan.id)
                 .order_by(col(Assignment.task_id), col(Assignment.position)))
        for assignment in session.exec(query):
            found[assignment.task_id].append(assignment)
    return found


def _wanted(parsed_task: ParsedTask, refs: dict[str, Ref]) -> list[tuple[str, Ref]]:
    return ([(AssignmentRole.LEAD.value, refs[n]) for n in parsed_task.lead]
            + [(AssignmentRole.COORDINATING.value, refs[n]) for n in parsed_task.coordinating])


def _task_step(parsed_task: ParsedTask, existing: Task | None, refs: dict[str, Ref],
               current: dict[int, list[Assignment]], report: ImportReport) -> _TaskStep:
    step = _TaskStep(parsed_task, existing)
    if existing is None:
        report.added.append(parsed_task.code)
        step.write_fields = step.write_refs = True
        return step
    for name in TASK_FIELDS:
        old, new = getattr(existing, name), getattr(parsed_task, name)
        if old != new:
            step.write_fields = True
            if name != "position":  # follows from tasks added or retired before it
                report.changes.append(Change(existing.code, name, "" if old is None else str(old),
                                             "" if new is None else str(new)))
    if existing.retired_at is not None:
        report.added.append(existing.code)  # back in the document: revived
        step.write_fields = True
    step.write_refs = _assignment_changes(existing, current.get(existing.id or 0, []),
                                          _wanted(parsed_task, refs), report)
    return step


def _assignment_changes(task: Task, current: Sequence[Assignment], wanted: list[tuple[str, Ref]],
                        report: ImportReport) -> bool:
    as_tuple = [(a.role, a.label, a.agency_id, a.class_id) for a in current]
    wanted_tuple = [(role, r.label, r.agency_id, r.class_id) for role, r in wanted]
    if as_tuple == wanted_tuple:
        return False
    if current:
        for role in _ROLES:
            old = "; ".join(a.label for a in current if a.role == role)
            new = "; ".join(r.label for rl, r in wanted if rl == role)
            if old != new:
                report.changes.append(Change(task.code, role, old, new))
            elif [t for t in as_tuple if t[0] == role] != [t for t in wanted_tuple if t[0] == role]:
                report.changes.append(Change(task.code, role, old,
                                             f"{new} (the names now mean other agencies)"))
    return True


def _moves(existing: dict[str, Task], parsed: ParsedPlan) -> list[Move]:
    """Codes whose new text is the text another live task has now."""
    code_of_text = {name_key(t.task): code for code, t in existing.items() if t.retired_at is None}
    moves = []
    for parsed_task in parsed.tasks:
        task = existing.get(parsed_task.code)
        if task is None or task.retired_at is not None or task.task == parsed_task.task:
            continue
        other = code_of_text.get(name_key(parsed_task.task))
        if other is not None and other != parsed_task.code:
            moves.append(Move(parsed_task.code, other))
    return moves


def _chunks(tasks: list[Task], size: int = 500) -> Iterator[list[int]]:
    """Task ids in lists short enough for one IN (…) on any SQLite."""
    ids = [t.id for t in tasks if t.id is not None]
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _stopping(session: Session, retire: list[Task]) -> list[Stopping]:
    reminders: dict[int, int] = {}
    open_items: dict[int, int] = {}
    for ids in _chunks(retire):
        reminders.update(ledger.pending_reminders_by_task(session, ids))
        query = (select(Item.task_id, func.count()).where(col(Item.task_id).in_(ids),
                                                          col(Item.state).in_(OPEN_STATES))
                 .group_by(col(Item.task_id)))
        open_items.update({task_id: int(n) for task_id, n in session.exec(query)})
    return [Stopping(t.code, reminders.get(t.id or 0, 0), open_items.get(t.id or 0, 0))
            for t in retire]


# --- applying it ----------------------------------------------------------------------------

def _write_plan(session: Session, diff: _Diff, parsed: ParsedPlan, source_name: str, digest: str,
                active_from: date | None) -> Plan:
    plan = diff.plan
    if plan is None:
        plan = Plan(number=diff.report.plan_number, title=parsed.title, issued_on=parsed.issued_on,
                    source_name=source_name, source_sha256=digest,
                    active_from=active_from or utcnow().date())
        session.add(plan)
    else:
        plan.title, plan.issued_on = parsed.title, parsed.issued_on
        plan.source_name, plan.source_sha256 = source_name, digest
        if active_from is not None:
            plan.active_from = active_from
        plan.updated_at = utcnow()
    session.flush()
    return plan


def _write_axes(session: Session, plan: Plan, parsed: ParsedPlan) -> dict[int, Axis]:
    assert plan.id is not None
    axes = {a.number: a for a in session.exec(select(Axis).where(Axis.plan_id == plan.id))}
    for parsed_axis in parsed.axes:
        axis = axes.get(parsed_axis.number)
        if axis is None:
            axes[parsed_axis.number] = axis = Axis(plan_id=plan.id, number=parsed_axis.number,
                                                   name=parsed_axis.name)
            session.add(axis)
        elif axis.name != parsed_axis.name:
            axis.name = parsed_axis.name
    session.flush()
    return axes


def _create_names(session: Session, refs: dict[str, Ref]) -> dict[str, Ref]:
    """Add the agencies and classes the document names first; every name with its ids."""
    created: dict[str, Ref] = {}
    for label, ref in refs.items():
        if not ref.is_new:
            created[label] = ref
        elif ref.same_as:
            first = created[ref.same_as]
            created[label] = Ref(label, agency_id=first.agency_id, class_id=first.class_id)
        elif ref.new_class:
            klass = AgencyClass(name=label, code=unique_code(session, label, AgencyClass),
                                open_set=looks_open(label))
            session.add(klass)
            session.flush()
            created[label] = Ref(label, class_id=klass.id)
        else:
            agency = Agency(name=label, code=unique_code(session, label, Agency),
                            level=AgencyLevel.OTHER.value)
            session.add(agency)
            session.flush()
            created[label] = Ref(label, agency_id=agency.id)
    return created


def _write_task(session: Session, plan: Plan, axes: dict[int, Axis], step: _TaskStep,
                refs: dict[str, Ref]) -> None:
    parsed_task, task = step.parsed, step.existing
    values = {name: getattr(parsed_task, name) for name in TASK_FIELDS}
    values["axis_id"] = axes[parsed_task.axis].id
    if task is None:
        assert plan.id is not None
        task = Task(plan_id=plan.id, code=parsed_task.code, **values)
        session.add(task)
    elif step.write_fields:
        moved = task.due_on != parsed_task.due_on and parsed_task.due_on is not None
        for name, value in values.items():
            setattr(task, name, value)
        task.retired_at = None
        task.updated_at = utcnow()
        if moved and parsed_task.cadence == ONCE:
            _move_one_off_items(session, task, parsed_task.due_on)
    if step.write_refs:
        session.flush()
        _write_assignments(session, task, _wanted(parsed_task, refs))


def _move_one_off_items(session: Session, task: Task, due: date | None) -> None:
    """A one-off task whose date the document moved: its items follow (their key is the date),
    except that an item an extension moved keeps the date in force (the change counters'
    trigger on ``item.due_on`` has the reminders planned again)."""
    assert due is not None
    for item in session.exec(select(Item).where(Item.task_id == task.id,
                                                Item.period_kind == ONCE)):
        item.period_key = due.isoformat()
        if item.original_due_on is None:
            item.due_on = due


def _write_assignments(session: Session, task: Task, wanted: list[tuple[str, Ref]]) -> None:
    assert task.id is not None
    for assignment in session.exec(select(Assignment).where(Assignment.task_id == task.id)):
        session.delete(assignment)
    session.flush()
    for position, (role, ref) in enumerate(wanted):
        session.add(Assignment(task_id=task.id, role=role, label=ref.label, agency_id=ref.agency_id,
                               class_id=ref.class_id, position=position))


def _retire(session: Session, tasks: list[Task]) -> None:
    now = utcnow()
    for task in tasks:
        task.retired_at = now
        task.updated_at = now
    for ids in _chunks(tasks):
        ledger.skip_reminders_of_tasks(session, ids, "task retired by a plan import")


def _apply(session: Session, diff: _Diff, parsed: ParsedPlan, *, digest: str, source_name: str,
           active_from: date | None, actor: str, check: Check) -> None:
    plan = _write_plan(session, diff, parsed, source_name, digest, active_from)
    axes = _write_axes(session, plan, parsed)
    refs = _create_names(session, diff.refs)
    for step in diff.steps:
        check()
        if step.existing is None or step.write_fields or step.write_refs:
            _write_task(session, plan, axes, step, refs)
    _retire(session, diff.retire)
    session.add(AuditLog(actor=actor, action="plan.import", entity="plan", entity_id=str(plan.id),
                         details=json.dumps(diff.report.to_dict(), ensure_ascii=False)))
    session.flush()


def _lock_plan(session: Session, number: str) -> None:
    """On PostgreSQL, two imports of one plan take turns (SQLite has one writer anyway)."""
    session.exec(select(Plan.id).where(Plan.number == number).with_for_update()).first()


def limit_statements(session: Session, seconds: float) -> None:
    """On PostgreSQL, no statement of this transaction (nor a wait for a lock) takes longer than
    ``seconds``; SQLite waits at most its busy timeout."""
    if session.get_bind().dialect.name == "postgresql":
        ms = max(int(seconds * 1000), 1)
        session.execute(text(f"SET LOCAL statement_timeout = {ms}"))
        session.execute(text(f"SET LOCAL lock_timeout = {ms}"))


def preview_import(session: Session, parsed: ParsedPlan, *, number: str | None = None,
                   active_from: date | None = None, check: Check = _no_check) -> ImportReport:
    """What importing ``parsed`` would change; reads only."""
    return _diff(session, parsed, number, active_from, check).report


def import_plan(session: Session, parsed: ParsedPlan, *, raw: bytes | None = None, source_name: str,
                number: str | None = None, active_from: date | None = None,
                actor: str = "cli", retire: bool = False,
                check: Check = _no_check, digest: str | None = None) -> ImportReport:
    """Bring the registry in line with ``parsed``; the caller's transaction makes it atomic.
    The plan keeps the document's SHA-256: of ``raw``, or ``digest`` when the bytes are gone (a
    document sent in chat is applied from the plan read at its preview).

    Nothing is written when the document changes nothing. Raises :class:`RetireRefused`
    (having written nothing) when it would retire or move tasks and ``retire`` is false.
    """
    _lock_plan(session, _plan_number(parsed, number))
    diff = _diff(session, parsed, number, active_from, check)
    if diff.report.needs_retire and not retire:
        raise RetireRefused(diff.report)
    if diff.report.changed:
        if digest is None:
            digest = hashlib.sha256(raw or b"").hexdigest()
        _apply(session, diff, parsed, digest=digest, source_name=source_name,
               active_from=active_from, actor=actor, check=check)
        diff.report.applied = True
    return diff.report


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
    due_on: date | None = None
    expected_output: str = ""

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "axis": self.axis, "content": self.content, "task": self.task,
                "lead": list(self.lead), "coordinating": list(self.coordinating),
                "timeframe": self.timeframe, "cadence": self.cadence, "note": self.note,
                "row": self.row, "axis_name": self.axis_name,
                "coordination_note": self.coordination_note,
                "due_on": self.due_on.isoformat() if self.due_on else None,
                "expected_output": self.expected_output}


def current_plan(session: Session) -> Plan | None:
    """The newest plan not closed (what a caller that knows of one plan only gets)."""
    query = (select(Plan).where(col(Plan.archived_at).is_(None))
             .order_by(col(Plan.created_at).desc(), col(Plan.id).desc()))
    return session.exec(query).first()


def active_plans(session: Session) -> list[Plan]:
    """The plans in force (not closed), by number."""
    return list(session.exec(select(Plan).where(col(Plan.archived_at).is_(None))
                             .order_by(col(Plan.number), col(Plan.id))))


def all_plans(session: Session) -> list[Plan]:
    """Every plan, closed ones too, by number."""
    return list(session.exec(select(Plan).order_by(col(Plan.number), col(Plan.id))))


def plan_by_number(session: Session, number: str) -> Plan | None:
    return session.exec(select(Plan).where(Plan.number == number.strip())).first()


class NoPlan(ValueError):
    """No plan is loaded yet (or none is in force)."""


class SeveralPlans(ValueError):
    """More than one plan is in force and the caller did not say which: ``plans`` are they."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = list(plans)
        numbers = ", ".join(p.number for p in self.plans)
        super().__init__(f"{len(self.plans)} plans are in force ({numbers}); say which with --plan NUMBER")


def require_plan(session: Session, number: str | None = None) -> Plan:
    """The plan ``number`` (closed ones too: their history stays); without it the only plan in
    force. Raises :class:`NoPlan` (none, or no such number) or :class:`SeveralPlans`."""
    if number:
        plan = plan_by_number(session, number)
        if plan is None:
            known = ", ".join(p.number for p in all_plans(session)) or "none"
            raise NoPlan(f"no plan numbered {number!r} (plans: {known})")
        return plan
    plans = active_plans(session)
    if not plans:
        raise NoPlan("no plan is loaded; run `dondoc init` or `dondoc import-plan FILE`")
    if len(plans) > 1:
        raise SeveralPlans(plans)
    return plans[0]


def plan_by_id(session: Session, plan_id: int | None) -> Plan:
    """The plan a button or a page names (``plan_id``; 0 or None: the only one in force)."""
    if plan_id:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NoPlan(f"no plan {plan_id}")
        return plan
    return require_plan(session)


@dataclass(frozen=True)
class PlanOption:
    """A plan in force, as a plan choice shows it."""

    id: int
    number: str
    title: str


class ChoosePlan(Exception):
    """Several plans are in force and the request named none: ``plans`` to choose from."""

    def __init__(self, plans: list[PlanOption]) -> None:
        super().__init__(", ".join(p.number for p in plans))
        self.plans = plans

    def __reduce__(self) -> tuple[type[ChoosePlan], tuple[list[PlanOption]]]:
        return ChoosePlan, (self.plans,)  # raised in the render worker, it crosses back whole


def _options(plans: Sequence[Plan]) -> list[PlanOption]:
    return [PlanOption(int(p.id or 0), p.number, p.title) for p in plans]


def plan_options(session: Session) -> list[PlanOption]:
    return _options(active_plans(session))


def chosen_plan(session: Session, plan_id: int = 0, *, in_force: bool = False) -> Plan:
    """The plan of a chat flow: ``plan_id`` (a button's, or the number typed; with ``in_force``
    it must not be closed: NoPlan), else the only plan in force; several in force and none
    named: :class:`ChoosePlan`."""
    try:
        plan = plan_by_id(session, plan_id)
    except SeveralPlans as several:
        raise ChoosePlan(_options(several.plans)) from None
    if in_force and plan.archived_at is not None:
        raise NoPlan(f"plan {plan.number} is closed")
    return plan


def several_in_force(session: Session) -> bool:
    """More than one plan in force: then screens and reminders name each item's plan."""
    query = select(func.count()).select_from(Plan).where(col(Plan.archived_at).is_(None))
    return int(session.exec(query).one()) > 1


def plan_named(session: Session, plan: Plan) -> str:
    """``plan``'s number where a screen must name it (several plans in force, or a closed one);
    "" with one plan in force, so its screens stay as they were."""
    return plan.number if plan.archived_at is not None or several_in_force(session) else ""


@dataclass(frozen=True)
class PlanRow:
    id: int
    number: str
    title: str
    active_from: str
    closed_at: str  # "" while in force
    tasks: int  # live tasks


def plan_rows(session: Session) -> list[PlanRow]:
    """Every plan for ``dondoc plan list``: the ones in force first, then by number."""
    counts = dict(session.exec(select(Task.plan_id, func.count()).where(col(Task.retired_at).is_(None))
                               .group_by(col(Task.plan_id))).all())
    plans = sorted(all_plans(session), key=lambda p: (p.archived_at is not None, p.number))
    return [PlanRow(int(p.id or 0), p.number, p.title, p.active_from.isoformat(),
                    p.archived_at.isoformat() if p.archived_at else "", int(counts.get(p.id or 0, 0)))
            for p in plans]


@dataclass(frozen=True)
class ClosedPlan:
    number: str
    title: str
    tasks: int
    reminders_stopped: int
    already: bool = False


def close_plan(session: Session, number: str, *, actor: str = "cli", apply: bool = False) -> ClosedPlan:
    """Close the plan ``number``: it leaves the plans in force, so its items get no reminders
    (the pending ones are skipped now); its tasks, items, reports and history stay. Without
    ``apply`` only says what closing would stop."""
    plan = require_plan(session, number)
    task_ids = [int(t) for t in session.exec(select(Task.id).where(Task.plan_id == plan.id)) if t]
    if plan.archived_at is not None:
        return ClosedPlan(plan.number, plan.title, len(task_ids), 0, already=True)
    if not apply:
        pending = sum(ledger.pending_reminders_by_task(session, task_ids).values())
        return ClosedPlan(plan.number, plan.title, len(task_ids), pending)
    stopped = ledger.skip_reminders_of_tasks(session, task_ids, "plan closed")
    plan.archived_at = plan.updated_at = utcnow()
    session.add(plan)
    session.add(AuditLog(actor=actor, action="plan.close", entity="plan", entity_id=str(plan.id),
                         details=json.dumps({"number": plan.number, "reminders_stopped": stopped},
                                            ensure_ascii=False)))
    session.flush()
    return ClosedPlan(plan.number, plan.title, len(task_ids), stopped)


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
                    cadence=task.cadence, note=task.note, due_on=task.due_on,
                    expected_output=task.expected_output)


def find_task(session: Session, plan: Plan, code: str) -> Task | None:
    return session.exec(select(Task).where(Task.plan_id == plan.id, Task.code == code.strip(),
                                           col(Task.retired_at).is_(None))).first()
