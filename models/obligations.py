"""Who owes what: a task's lead agencies, with classes expanded to their member agencies; and who
coordinates it (told and may contribute, never owing)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from models.tables import (
    Agency,
    AgencyClass,
    AgencyClassMember,
    Assignment,
    AssignmentRole,
    Plan,
    Task,
)


def owing_agencies(session: Session, task_ids: list[int]) -> dict[int, list[int]]:
    """task id -> ids of the active agencies that lead it (directly or through a closed class)."""
    return _assigned(session, task_ids, AssignmentRole.LEAD.value)


def coordinating_agencies(session: Session, task_ids: list[int]) -> dict[int, list[int]]:
    """task id -> ids of the active agencies that coordinate it (directly or through a closed
    class; an open set such as "các cơ quan liên quan" names nobody). An agency that also leads
    the task is left out: it owes the task and hears about it as a lead."""
    coordinating = _assigned(session, task_ids, AssignmentRole.COORDINATING.value)
    if not coordinating:
        return {}
    leads = owing_agencies(session, list(coordinating))
    found: dict[int, list[int]] = {}
    for task_id, agencies in coordinating.items():
        leading = set(leads.get(task_id, ()))  # once per task: thousands of agencies at country scale
        kept = [a for a in agencies if a not in leading]
        if kept:
            found[task_id] = kept
    return found


def _assigned(session: Session, task_ids: list[int], role: str) -> dict[int, list[int]]:
    in_role = Assignment.role == role
    direct = (select(Assignment.task_id, Assignment.agency_id)
              .join(Agency, col(Agency.id) == Assignment.agency_id)
              .where(in_role, col(Assignment.task_id).in_(task_ids), col(Agency.active)))
    via_class = (select(Assignment.task_id, AgencyClassMember.agency_id)
                 .join(AgencyClass, col(AgencyClass.id) == Assignment.class_id)
                 .join(AgencyClassMember, col(AgencyClassMember.class_id) == AgencyClass.id)
                 .join(Agency, col(Agency.id) == AgencyClassMember.agency_id)
                 .where(in_role, col(Assignment.task_id).in_(task_ids),
                        col(AgencyClass.open_set).is_(False), col(Agency.active)))
    owed: dict[int, set[int]] = defaultdict(set)
    for task_id, agency_id in [*session.exec(direct), *session.exec(via_class)]:
        if agency_id is not None:
            owed[task_id].add(agency_id)
    return {task_id: sorted(agencies) for task_id, agencies in owed.items()}


def live_tasks(session: Session, plan: Plan) -> list[Task]:
    query = (select(Task).where(Task.plan_id == plan.id, col(Task.retired_at).is_(None))
             .order_by(col(Task.position)))
    return list(session.exec(query))


@dataclass(frozen=True)
class Owing:
    """Who leads what, without expanding classes: a country's communes all owe their class's
    tasks, so one row per class membership is read instead of one per (task, commune)."""

    direct: dict[int, set[int]]  # active agency -> tasks it leads by name
    by_class: dict[int, set[int]]  # closed class -> tasks it leads
    classes: dict[int, set[int]]  # active agency -> its classes that lead something

    def agencies(self) -> set[int]:
        return set(self.direct) | set(self.classes)

    def tasks_of(self, agency_id: int) -> set[int]:
        found = set(self.direct.get(agency_id, ()))
        for class_id in self.classes.get(agency_id, ()):
            found |= self.by_class[class_id]
        return found


def owing(session: Session, task_ids: list[int]) -> Owing:
    """The lead assignments of ``task_ids``, as :class:`Owing` (same answer as
    :func:`owing_agencies`, in fewer rows)."""
    lead = Assignment.role == AssignmentRole.LEAD.value
    direct: dict[int, set[int]] = defaultdict(set)
    for task_id, agency_id in session.exec(
            select(Assignment.task_id, Assignment.agency_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(lead, col(Assignment.task_id).in_(task_ids), col(Agency.active))):
        if agency_id is not None:
            direct[agency_id].add(task_id)
    by_class: dict[int, set[int]] = defaultdict(set)
    for task_id, class_id in session.exec(
            select(Assignment.task_id, Assignment.class_id)
            .join(AgencyClass, col(AgencyClass.id) == Assignment.class_id)
            .where(lead, col(Assignment.task_id).in_(task_ids), col(AgencyClass.open_set).is_(False))):
        if class_id is not None:
            by_class[class_id].add(task_id)
    classes: dict[int, set[int]] = defaultdict(set)
    if by_class:
        for class_id, agency_id in session.exec(
                select(AgencyClassMember.class_id, AgencyClassMember.agency_id)
                .join(Agency, col(Agency.id) == AgencyClassMember.agency_id)
                .where(col(AgencyClassMember.class_id).in_(list(by_class)), col(Agency.active))):
            classes[agency_id].add(class_id)
    return Owing(dict(direct), dict(by_class), dict(classes))
