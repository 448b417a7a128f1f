"""What an agency owes, as lists for people: the items of its open periods, most urgent first.

No Telegram here: handlers turn these rows into messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from models.tables import OPEN_STATES, Agency, Item, ItemState, Plan, Report, Task

# Finished items stay on the list while their period is current, so people see their progress.
DONE_STATES = (ItemState.REPORTED.value, ItemState.VERIFIED.value)
# Everything but a verified item can still be (re)reported.
REPORTABLE_STATES = (*OPEN_STATES, ItemState.REPORTED.value)


@dataclass(frozen=True)
class ItemRow:
    """One line of an agency's list."""

    item_id: int
    code: str
    task: str
    period_key: str
    due_on: date
    state: str
    percent: int | None
    versions: int
    original_due_on: date | None = None  # the first due date, once an extension moved ``due_on``
    plan: str = ""  # the plan's number, when several plans are in force ("" otherwise)
    expected_output: str = ""  # what the task delivers (the plan's "Sản phẩm" column)

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class ItemPage:
    rows: list[ItemRow]
    page: int
    pages: int
    total: int


def _listed(agency_id: int, today: date, states: tuple[str, ...] | None = None) -> Any:
    latest = (select(Report.item_id, func.max(Report.version).label("version"))
              .group_by(col(Report.item_id)).subquery())
    query = (select(Item, col(Task.code), col(Task.task), latest.c.version, col(Report.percent),  # type: ignore[call-overload]
                    col(Plan.number), col(Task.expected_output))
             .join(Task, col(Task.id) == Item.task_id)
             .join(Plan, col(Plan.id) == Task.plan_id)
             .outerjoin(latest, latest.c.item_id == Item.id)
             .outerjoin(Report, (col(Report.item_id) == Item.id) & (Report.version == latest.c.version))
             .where(Item.agency_id == agency_id, col(Task.retired_at).is_(None),
                    col(Plan.archived_at).is_(None)))  # a closed plan's items are owed no more
    if states is not None:
        return query.where(col(Item.state).in_(states))
    return query.where(or_(col(Item.state).in_(OPEN_STATES),
                           col(Item.state).in_(DONE_STATES) & (col(Item.due_on) >= today)))


def _rows(session: Session, query: Any) -> list[ItemRow]:
    rows = []
    several = session.exec(select(func.count()).select_from(Plan)
                           .where(col(Plan.archived_at).is_(None))).one() > 1
    for item, code, task, version, percent, number, output in session.exec(query):
        assert item.id is not None
        rows.append(ItemRow(item.id, code, task, item.period_key, item.due_on, item.state,
                            percent if item.state == ItemState.IN_PROGRESS.value else None,
                            int(version or 0), item.original_due_on, number if several else "",
                            output or ""))
    # Open work before finished work, then the nearest deadline.
    return sorted(rows, key=lambda r: (not r.is_open, r.due_on, r.code, r.item_id))


def all_items_for_agency(session: Session, agency_id: int, today: date) -> list[ItemRow]:
    """Open items plus reported/verified ones whose period is still current, most urgent first."""
    return _rows(session, _listed(agency_id, today))


def items_for_agency(session: Session, agency_id: int, today: date, *, page: int = 0,
                     page_size: int = 8) -> ItemPage:
    """One page of :func:`all_items_for_agency`; ``page`` is clamped into range."""
    rows = all_items_for_agency(session, agency_id, today)
    pages = max(1, -(-len(rows) // page_size))
    page = min(max(page, 0), pages - 1)
    return ItemPage(rows[page * page_size:(page + 1) * page_size], page, pages, len(rows))


def reportable_items(session: Session, agency_id: int, today: date) -> list[ItemRow]:
    """Items the agency may still report on (all but verified ones), most urgent first."""
    return _rows(session, _listed(agency_id, today, REPORTABLE_STATES))


def item_row(session: Session, item_id: int) -> ItemRow | None:
    item = session.get(Item, item_id)
    if item is None:
        return None
    query = _listed(item.agency_id, date.min, None).where(Item.id == item_id)
    found = _rows(session, query)
    if found:
        return found[0]
    task = session.get(Task, item.task_id)
    version = session.exec(select(func.max(Report.version)).where(Report.item_id == item_id)).one()
    return ItemRow(item_id, task.code if task else "?", task.task if task else "", item.period_key,
                   item.due_on, item.state, None, int(version or 0),
                   expected_output=task.expected_output if task else "")


def named_item(session: Session, item_id: int) -> tuple[Item, str, str, str] | None:
    """An item with its task's code and text and its agency's name (one joined read)."""
    found = session.exec(select(Item, Task.code, Task.task, Agency.name)
                         .join(Task, col(Task.id) == Item.task_id)
                         .join(Agency, col(Agency.id) == Item.agency_id)
                         .where(col(Item.id) == item_id)).first()
    return None if found is None else (found[0], found[1], found[2], found[3])
