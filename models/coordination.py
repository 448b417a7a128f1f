"""Who coordinates a task, and what they are told (QĐ 42/2014/QĐ-TTg as amended by QĐ 23/2018,
Decree 39/2022: one lead per task, the coordinating agencies contribute).

The focal points of a task's coordinating agencies (classes expanded, the task's own leads left
out: ``models.obligations.coordinating_agencies``) are told when a period of tasks they
coordinate begins (one message per agency and period listing those tasks with their leads,
planned by the item sync from the periods it stores: cost follows change) and when a lead
reports done (one message per report version, so its button leads straight to that lead's
item). Coordinating agencies never owe anything: items, reminders and roll-ups are the leads'.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from domain.collation import vi_key
from models import ledger
from models.items import named_item
from models.obligations import coordinating_agencies
from models.tables import (
    Agency,
    AgencyClass,
    AgencyClassMember,
    Assignment,
    AssignmentRole,
    Item,
    Member,
    MemberRole,
    Report,
    Task,
)

MAX_LEADS_NAMED = 5  # lead agencies named per task in a notice (then "and n more")


@dataclass(frozen=True)
class LeadItem:
    """A lead's item of a task the agency coordinates."""

    item_id: int
    task_id: int
    code: str
    task: str
    lead: str
    period_key: str
    due_on: date
    state: str


@dataclass(frozen=True)
class OpenedTask:
    """One task of a period-opening notice, with its leads (named up to MAX_LEADS_NAMED)."""

    code: str
    task: str
    leads: tuple[str, ...]
    more: int  # leads not named


# --------------------------------------------------------------------------- who coordinates


def focal_points(session: Session, agency_ids: Iterable[int]) -> dict[int, list[Member]]:
    """agency id -> its reachable focal points (who are told)."""
    wanted = sorted(set(agency_ids))
    found: dict[int, list[Member]] = defaultdict(list)
    if not wanted:
        return found
    query = select(Member).where(col(Member.agency_id).in_(wanted),
                                 col(Member.role) == MemberRole.FOCAL_POINT.value, col(Member.active),
                                 col(Member.unreachable_at).is_(None)).order_by(col(Member.id))
    for member in session.exec(query):
        assert member.agency_id is not None
        found[member.agency_id].append(member)
    return found


def coordinators_of(session: Session, task_id: int) -> list[int]:
    return coordinating_agencies(session, [task_id]).get(task_id, [])


def tasks_coordinated_by(session: Session, agency_id: int) -> set[int]:
    """The live tasks ``agency_id`` coordinates (by name or through a closed class), not those it
    also leads."""
    classes = select(AgencyClassMember.class_id).join(
        AgencyClass, col(AgencyClass.id) == AgencyClassMember.class_id).where(
        col(AgencyClassMember.agency_id) == agency_id, col(AgencyClass.open_set).is_(False))
    query = (select(Assignment.task_id).join(Task, col(Task.id) == Assignment.task_id)
             .where(col(Assignment.role) == AssignmentRole.COORDINATING.value, col(Task.retired_at).is_(None),
                    or_(col(Assignment.agency_id) == agency_id, col(Assignment.class_id).in_(classes))))
    candidates = sorted(set(session.exec(query)))
    found = coordinating_agencies(session, candidates) if candidates else {}
    return {task_id for task_id, agencies in found.items() if agency_id in agencies}


# --------------------------------------------------------------------------- notices


def plan_openings(session: Session, openings: Iterable[tuple[int, str]], now: datetime) -> int:
    """(task id, period key) pairs whose period began: one notice per coordinating agency and
    period to each of its focal points (keys make it once, however often this runs). Returns
    how many recipients there are."""
    periods: dict[int, set[str]] = defaultdict(set)
    for task_id, period_key in openings:
        periods[task_id].add(period_key)
    if not periods:
        return 0
    coordinating = coordinating_agencies(session, sorted(periods))
    pairs = sorted({(period_key, agency_id) for task_id, agencies in coordinating.items()
                    for agency_id in agencies for period_key in periods[task_id]})
    people = focal_points(session, {agency_id for _p, agency_id in pairs})
    return sum(ledger.queue_opening_notices(session, period_key=period_key, agency_id=agency_id,
                                            recipients=people[agency_id], now=now)
               for period_key, agency_id in pairs if people.get(agency_id))


def tell_report(session: Session, report: Report, item: Item, now: datetime) -> int:
    """A lead reported done: the coordinating agencies' focal points are told (once per version)."""
    assert report.id is not None
    agencies = [a for a in coordinators_of(session, item.task_id) if a != item.agency_id]
    people = [m for members in focal_points(session, agencies).values() for m in members]
    if not people:
        return 0
    return ledger.queue_coordinated_report_notices(session, report_id=report.id, recipients=people, now=now)


def opened_tasks(session: Session, agency_id: int, period_key: str) -> list[OpenedTask]:
    """What an opening notice lists: the tasks of ``period_key`` the agency coordinates that some
    lead owes, in the plan's order, with their leads."""
    rows = lead_items(session, agency_id, period_key)
    by_task: dict[int, list[LeadItem]] = defaultdict(list)
    for row in rows:
        by_task[row.task_id].append(row)
    found = []
    for items in by_task.values():
        leads = [i.lead for i in items]
        found.append(OpenedTask(items[0].code, items[0].task, tuple(leads[:MAX_LEADS_NAMED]),
                                max(0, len(leads) - MAX_LEADS_NAMED)))
    return found


def lead_items(session: Session, agency_id: int, period_key: str = "",
               today: date | None = None) -> list[LeadItem]:
    """The leads' items of the tasks the agency coordinates: of one period, or (``period_key``
    "") those due from ``today`` on; in the plan's order, leads in Vietnamese order."""
    tasks = tasks_coordinated_by(session, agency_id)
    if not tasks:
        return []
    query = (select(Item, Task.code, Task.task, Task.position, Agency.name)  # type: ignore[call-overload]
             .join(Task, col(Task.id) == Item.task_id).join(Agency, col(Agency.id) == Item.agency_id)
             .where(col(Item.task_id).in_(sorted(tasks)), col(Item.agency_id) != agency_id))
    if period_key:
        query = query.where(col(Item.period_key) == period_key)
    elif today is not None:
        query = query.where(col(Item.due_on) >= today)
    found = [(position, vi_key(name), LeadItem(item.id, item.task_id, code, text, name, item.period_key,
                                               item.due_on, item.state))
             for item, code, text, position, name in session.exec(query) if item.id is not None]
    found.sort(key=lambda f: (f[0], f[2].due_on, f[1]))
    return [row for _p, _k, row in found]


def lead_item(session: Session, item_id: int) -> LeadItem | None:
    found = named_item(session, item_id)
    if found is None:
        return None
    item, code, text, name = found
    assert item.id is not None
    return LeadItem(item.id, item.task_id, code, text, name, item.period_key, item.due_on, item.state)
