"""Who owes what: a task's lead agencies, with classes expanded to their member agencies."""

from __future__ import annotations

from collections import defaultdict

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
    lead = Assignment.role == AssignmentRole.LEAD.value
    direct = (select(Assignment.task_id, Assignment.agency_id)
              .join(Agency, col(Agency.id) == Assignment.agency_id)
              .where(lead, col(Assignment.task_id).in_(task_ids), col(Agency.active)))
    via_class = (select(Assignment.task_id, AgencyClassMember.agency_id)
                 .join(AgencyClass, col(AgencyClass.id) == Assignment.class_id)
                 .join(AgencyClassMember, col(AgencyClassMember.class_id) == AgencyClass.id)
                 .join(Agency, col(Agency.id) == AgencyClassMember.agency_id)
                 .where(lead, col(Assignment.task_id).in_(task_ids),
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
