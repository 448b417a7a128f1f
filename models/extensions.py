"""Extension requests ("đề nghị gia hạn" -> "chờ duyệt gia hạn") as services, and the plain-data
queries the reports and exports read.

A focal point asks for a later due date with a reason (the draft row ``extension_draft``
holds the date and the reason while they are typed); the coordinators whose scope holds the
agency hear of it through the ledger and approve it, shorten it (a date between the one in force
and the one asked) or refuse it (with a reason). Approving or shortening moves ``item.due_on``,
the date in force, and keeps the first date in ``item.original_due_on``; the change counters'
trigger on ``item.due_on`` makes the planner plan the reminders again (the old date's pending
reminders are skipped, the new date's planned). The decision reaches the agency's focal points
through the ledger. A decision is one conditional UPDATE (``state = 'pending'``): pressed
twice, or by two coordinators, it is made once. Every function validates first and changes
nothing when it refuses (:class:`domain.extensions.ExtensionRefused`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, delete, func, update
from sqlmodel import Session, col, select

from domain.access import Action, Actor, NotAllowed, Scope, allows, require, scope_of
from domain.extensions import (
    ExtensionLimits,
    ExtensionRefused,
    check_may_ask,
    check_new_date,
    check_reason,
    check_shortened,
)
from domain.periods import Period
from models import ledger
from models.db import session_scope
from models.events import parse_day
from models.members import actor_of
from models.reporting import Clock
from models.reports import focal_points, may_report
from models.rollup import in_scope, scope_agency_ids
from models.tables import (
    OPEN_STATES,
    Agency,
    AuditLog,
    ExtensionDraft,
    ExtensionRequest,
    ExtensionState,
    Item,
    Member,
    Task,
)

# The draft's steps: a focal point's date, reason and confirmation; a coordinator's shorter
# date or reason for refusing.
STEP_DATE, STEP_REASON, STEP_CONFIRM = "date", "reason", "confirm"
STEP_SHORTEN, STEP_REFUSE = "shorten", "refuse"
DECIDED_STATES = (ExtensionState.APPROVED.value, ExtensionState.SHORTENED.value,
                  ExtensionState.REFUSED.value)
# Actions on a coordinator's buttons.
APPROVE, SHORTEN, REFUSE = "a", "s", "r"


# --------------------------------------------------------------------------- plain data

@dataclass(frozen=True)
class ItemInfo:
    item_id: int
    code: str
    task: str
    agency: str
    period_key: str
    due_on: date
    original_due_on: date | None


@dataclass(frozen=True)
class Asking:
    """A draft's next question (``step``), with what was typed so far."""

    draft_id: int
    step: str
    item: ItemInfo
    requested_due_on: date | None = None
    reason: str = ""
    request: ExtensionRow | None = None  # a coordinator's shorten / refuse: the request


@dataclass(frozen=True)
class Typed:
    """What typed text did: ``asking`` (the next question), ``retry`` (``error``: the same
    question again), ``decided`` (a coordinator's typed date or reason made the decision) or
    ``refused`` (the draft is gone; ``error`` says why)."""

    outcome: str
    asking: Asking | None = None
    decided: ExtensionRow | None = None
    error: ExtensionRefused | None = None


@dataclass(frozen=True)
class ExtensionRow:
    """One request with its decision, as the history, the reports and the exports show it."""

    request_id: int
    item_id: int
    task_code: str
    agency: str
    period_key: str
    original_due_on: date  # the item's first due date
    due_on_before: date  # the date in force when it was asked
    requested_due_on: date
    decided_due_on: date | None
    state: str
    reason: str
    decision_reason: str
    requested_by: str  # full names
    decided_by: str
    created_at: datetime
    decided_at: datetime | None


# --------------------------------------------------------------------------- queries

def _rows(session: Session, where: list[object]) -> list[ExtensionRow]:
    query = (select(ExtensionRequest, Item, Task.code, Agency.name)
             .join(Item, col(Item.id) == ExtensionRequest.item_id)
             .join(Task, col(Task.id) == Item.task_id)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .where(*where)  # type: ignore[arg-type]
             .order_by(col(ExtensionRequest.created_at), col(ExtensionRequest.id)))
    found = list(session.exec(query))
    people = {r.requested_by for r, *_ in found} | {r.decided_by for r, *_ in found if r.decided_by}
    names: dict[int | None, str] = {}
    if people:
        named = select(Member.id, Member.full_name).where(col(Member.id).in_(people))
        names.update(session.exec(named).all())
    return [ExtensionRow(r.id or 0, r.item_id, code, agency, item.period_key,
                         item.original_due_on or item.due_on, r.due_on_before, r.requested_due_on,
                         r.decided_due_on, r.state, r.reason, r.decision_reason,
                         names.get(r.requested_by, "?"), names.get(r.decided_by, "") if r.decided_by else "",
                         r.created_at, r.decided_at)
            for r, item, code, agency in found]


def for_item(session: Session, item_id: int) -> list[ExtensionRow]:
    """Every request on the item, oldest first (the item's history)."""
    return _rows(session, [col(ExtensionRequest.item_id) == item_id])


def for_period(session: Session, plan_id: int, period: Period, scope: Scope) -> list[ExtensionRow]:
    """The requests on the plan's items of ``period`` (by their first due date) in ``scope``,
    oldest first: what the official report and the export list."""
    first_due = func.coalesce(col(Item.original_due_on), col(Item.due_on))
    where: list[object] = [col(Task.plan_id) == plan_id, first_due >= period.start, first_due <= period.end]
    agencies = scope_agency_ids(session, scope)
    if agencies is not None:
        where.append(col(Item.agency_id).in_(agencies))
    return _rows(session, where)


def latest_for_items(session: Session, item_ids: list[int]) -> dict[int, ExtensionRow]:
    """item id -> its latest request (any state), for the export's appendix sheet."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    return {row.item_id: row for row in _rows(session, [col(ExtensionRequest.item_id).in_(wanted)])}


def request_row(session: Session, request_id: int) -> ExtensionRow | None:
    found = _rows(session, [col(ExtensionRequest.id) == request_id])
    return found[0] if found else None


def _info(session: Session, item: Item) -> ItemInfo:
    task = session.get(Task, item.task_id)
    agency = session.get(Agency, item.agency_id)
    return ItemInfo(item.id or 0, task.code if task else "?", task.task if task else "",
                    agency.name if agency else "?", item.period_key, item.due_on, item.original_due_on)


# --------------------------------------------------------------------------- rules on rows

def _counted(session: Session, item_id: int) -> tuple[bool, int]:
    """Whether a request of the item waits, and how many count against the limit."""
    states = list(session.exec(select(ExtensionRequest.state).where(ExtensionRequest.item_id == item_id)))
    pending = ExtensionState.PENDING.value in states
    return pending, sum(1 for s in states if s != ExtensionState.WITHDRAWN.value)


def _check_item(session: Session, item: Item, today: date, limits: ExtensionLimits) -> None:
    pending, earlier = _counted(session, item.id or 0)
    check_may_ask(due_on=item.due_on, today=today, is_open=item.state in OPEN_STATES, pending=pending,
                  earlier=earlier, limits=limits)


def _own_item(session: Session, actor: Actor, item_id: int) -> Item:
    require(actor, Action.REPORT)
    item = session.get(Item, item_id)
    if not may_report(actor, item):
        raise NotAllowed("scope")
    assert item is not None
    return item


def _draft(session: Session, actor: Actor, clock: Clock) -> ExtensionDraft | None:
    if actor.member_id is None:
        return None
    draft = session.exec(select(ExtensionDraft).where(ExtensionDraft.member_id == actor.member_id)).first()
    if draft is None:
        return None
    if draft.updated_at < clock.now - clock.timeout:
        session.delete(draft)
        session.flush()
        return None
    return draft


def _save(session: Session, actor: Actor, *, item_id: int, step: str, now: datetime,
          request_id: int | None = None) -> ExtensionDraft:
    assert actor.member_id is not None
    draft = session.exec(select(ExtensionDraft).where(ExtensionDraft.member_id == actor.member_id)).first()
    if draft is None:
        draft = ExtensionDraft(member_id=actor.member_id, item_id=item_id, step=step)
    draft.item_id, draft.step, draft.request_id, draft.updated_at = item_id, step, request_id, now
    draft.requested_due_on, draft.reason = None, ""
    session.add(draft)
    session.flush()
    return draft


def _asking(session: Session, draft: ExtensionDraft) -> Asking:
    item = session.get(Item, draft.item_id)
    assert item is not None
    request = request_row(session, draft.request_id) if draft.request_id is not None else None
    return Asking(draft.id or 0, draft.step, _info(session, item), draft.requested_due_on, draft.reason,
                  request)


def _audit(session: Session, actor: Actor, action: str, request: ExtensionRequest, now: datetime,
           **details: object) -> None:
    session.add(AuditLog(at=now, actor=f"member:{actor.member_id}", action=action,
                         entity="extension_request", entity_id=str(request.id), details=json.dumps(
                             {"item_id": request.item_id, **details}, ensure_ascii=False, default=str)))


# --------------------------------------------------------------------------- a focal point asks

def ask(engine: Engine, actor: Actor, item_id: int, clock: Clock, limits: ExtensionLimits) -> Asking:
    """The "ask for an extension" button: may the agency ask now? Then the date question."""
    with session_scope(engine) as session:
        item = _own_item(session, actor, item_id)
        _check_item(session, item, clock.today, limits)
        return _asking(session, _save(session, actor, item_id=item_id, step=STEP_DATE, now=clock.now))


def take_typed(engine: Engine, actor: Actor, clock: Clock, limits: ExtensionLimits,
               text: str) -> Typed | None:
    """Typed text for the member's open extension question. None: no draft waits for text."""
    with session_scope(engine) as session:
        draft = _draft(session, actor, clock)
        if draft is None or draft.step == STEP_CONFIRM:
            return None
        item = session.get(Item, draft.item_id)
        if item is None:
            session.delete(draft)
            return Typed("refused", error=ExtensionRefused("stale"))
        try:
            return _typed(session, actor, clock, limits, draft, item, text)
        except ExtensionRefused as error:
            if error.reason in ("past", "not_later", "too_far", "not_shorter", "reason", "not_date"):
                return Typed("retry", _asking(session, draft), error=error)
            session.delete(draft)
            return Typed("refused", error=error)


def _typed(session: Session, actor: Actor, clock: Clock, limits: ExtensionLimits, draft: ExtensionDraft,
           item: Item, text: str) -> Typed:
    if draft.step in (STEP_SHORTEN, STEP_REFUSE):
        return _typed_decision(session, actor, clock, draft, item, text)
    _check_item(session, item, clock.today, limits)
    if draft.step == STEP_DATE:
        day = parse_day(text)
        if day is None:
            raise ExtensionRefused("not_date")
        check_new_date(day, due_on=item.due_on, today=clock.today)
        draft.requested_due_on, draft.step = day, STEP_REASON
    else:
        draft.reason, draft.step = check_reason(text), STEP_CONFIRM
    draft.updated_at = clock.now
    session.add(draft)
    session.flush()
    return Typed("asking", _asking(session, draft))


def confirm(engine: Engine, actor: Actor, clock: Clock, limits: ExtensionLimits,
            draft_id: int) -> ExtensionRow:
    """The send button: the request is stored (once: the draft goes in the same transaction)
    and the coordinators in scope are told through the ledger."""
    with session_scope(engine) as session:
        draft = _draft(session, actor, clock)
        if draft is None or draft.id != draft_id or draft.step != STEP_CONFIRM \
                or draft.requested_due_on is None:
            raise ExtensionRefused("stale")
        item = _lock(session, draft.item_id)
        if not may_report(actor, item):
            raise NotAllowed("scope")
        _check_item(session, item, clock.today, limits)
        check_new_date(draft.requested_due_on, due_on=item.due_on, today=clock.today)
        assert actor.member_id is not None
        request = ExtensionRequest(item_id=item.id or 0, requested_by=actor.member_id,
                                   due_on_before=item.due_on, requested_due_on=draft.requested_due_on,
                                   reason=draft.reason, created_at=clock.now)
        session.add(request)
        session.delete(draft)
        session.flush()
        assert request.id is not None
        ledger.queue_extension_notices(session, request_id=request.id, now=clock.now,
                                       recipients=deciders(session, item.agency_id))
        _audit(session, actor, "extension.request", request, clock.now,
               due_on=item.due_on.isoformat(), requested=request.requested_due_on.isoformat())
        found = request_row(session, request.id)
        assert found is not None
        return found


def cancel(engine: Engine, actor: Actor, clock: Clock) -> bool:
    """/cancel or the cancel button: forget the member's extension draft; True if one was open."""
    if actor.member_id is None:
        return False
    with session_scope(engine) as session:
        draft = _draft(session, actor, clock)
        session.execute(delete(ExtensionDraft).where(col(ExtensionDraft.member_id) == actor.member_id))
        return draft is not None


def deciders(session: Session, agency_id: int) -> list[Member]:
    """The reachable coordinators whose scope holds the agency."""
    people = []
    for member in ledger.reachable_coordinators(session):
        scope = scope_of(actor_of(session, member))
        if scope is not None and (scope.everything or in_scope(session, scope, agency_id)):
            people.append(member)
    return people


# --------------------------------------------------------------------------- a coordinator decides

def _lock(session: Session, item_id: int) -> Item:
    """The item row, locked until commit (FOR UPDATE on PostgreSQL; SQLite's write lock)."""
    if session.get_bind().dialect.name == "sqlite":
        table = Item.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.id == item_id).values(id=table.c.id))
    query = select(Item).where(Item.id == item_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).one()


def _decidable(session: Session, actor: Actor, request_id: int) -> tuple[ExtensionRequest, Item]:
    require(actor, Action.DECIDE_EXTENSION)
    request = session.get(ExtensionRequest, request_id)
    if request is None:
        raise ExtensionRefused("stale")
    item = _lock(session, request.item_id)
    scope = scope_of(actor)
    if scope is None or not (scope.everything or in_scope(session, scope, item.agency_id)):
        raise NotAllowed("scope")
    session.refresh(request)
    if request.state != ExtensionState.PENDING.value:
        raise ExtensionRefused("decided", row=request_row(session, request_id))
    if item.state not in OPEN_STATES:  # finished meanwhile: nothing left to move
        request.state = ExtensionState.WITHDRAWN.value
        session.add(request)
        raise ExtensionRefused("closed")
    return request, item


def press(engine: Engine, actor: Actor, clock: Clock, request_id: int, action: str) -> Asking | ExtensionRow:
    """A coordinator's button on a request: approve at once, or ask for the shorter date or the
    reason for refusing (a draft step)."""
    closed: ExtensionRefused | None = None
    with session_scope(engine) as session:
        try:
            return _press(session, actor, clock, request_id, action)
        except ExtensionRefused as error:
            if error.reason != "closed":
                raise
            closed = error  # the request is marked withdrawn: commit that, then say why
    raise closed


def _press(session: Session, actor: Actor, clock: Clock, request_id: int,
           action: str) -> Asking | ExtensionRow:
    step = {SHORTEN: STEP_SHORTEN, REFUSE: STEP_REFUSE}.get(action)
    if action != APPROVE and step is None:
        raise ExtensionRefused("stale")
    request, item = _decidable(session, actor, request_id)
    if step is None:
        return _decide(session, actor, clock.now, request, item, ExtensionState.APPROVED,
                       request.requested_due_on, "")
    return _asking(session, _save(session, actor, item_id=item.id or 0, step=step, now=clock.now,
                                  request_id=request_id))


def _typed_decision(session: Session, actor: Actor, clock: Clock, draft: ExtensionDraft, item: Item,
                    text: str) -> Typed:
    assert draft.request_id is not None
    request, item = _decidable(session, actor, draft.request_id)
    if draft.step == STEP_SHORTEN:
        day = parse_day(text)
        if day is None:
            raise ExtensionRefused("not_date")
        check_shortened(day, due_on=item.due_on, requested=request.requested_due_on, today=clock.today)
        row = _decide(session, actor, clock.now, request, item, ExtensionState.SHORTENED, day, "")
    else:
        row = _decide(session, actor, clock.now, request, item, ExtensionState.REFUSED, None,
                      check_reason(text))
    session.delete(draft)
    return Typed("decided", decided=row)


def _decide(session: Session, actor: Actor, now: datetime, request: ExtensionRequest, item: Item,
            state: ExtensionState, due_on: date | None, reason: str) -> ExtensionRow:
    """The decision, once: the conditional UPDATE is what makes a second press a no-op."""
    table = ExtensionRequest.__table__  # type: ignore[attr-defined]
    taken = session.execute(update(table).where(
        table.c.id == request.id, table.c.state == ExtensionState.PENDING.value).values(
        state=state.value, decided_by=actor.member_id, decided_at=now, decided_due_on=due_on,
        decision_reason=reason))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ExtensionRefused("decided", row=request_row(session, request.id or 0))
    if due_on is not None:
        item.original_due_on = item.original_due_on or item.due_on
        item.due_on = due_on  # the trigger moves the "items" counter: reminders are planned again
        session.add(item)
    session.flush()
    assert request.id is not None
    session.refresh(request)
    ledger.queue_extension_decided_notices(session, request_id=request.id, now=now,
                                           recipients=focal_points(session, item.agency_id))
    _audit(session, actor, f"extension.{state.value}", request, now,
           due_on=due_on.isoformat() if due_on else None, reason=reason)
    row = request_row(session, request.id)
    assert row is not None
    return row


def may_ask(actor: Actor) -> bool:
    """Who sees the "ask for an extension" button at all (the item's agency is checked later)."""
    return allows(actor, Action.REPORT)
