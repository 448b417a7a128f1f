"""Private calendar links (``/calendar`` in chat, ``/ical/<token>.ics``) and what a feed holds.

A link is a random token; only its SHA-256 is stored (``calendar_feed``), so the database cannot
give a link away: /calendar shows a new link once, and "new link" revokes the old one. A feed
answers only while its member is active, with the items of their scope (the access policy's
``scope_of``, the same as /status): one event per item for a single agency; for a wider scope
(leaders, coordinators, admins) one event per task and period, counting the agencies still owing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from domain.access import Actor, NotAllowed, Scope, scope_of
from domain.calendar import WorkingCalendar
from models.calendar_days import working_calendar
from models.db import session_scope
from models.members import actor_of
from models.registry import active_plans
from models.rollup import scope_agency_ids
from models.tables import OPEN_STATES, Agency, CalendarFeed, Item, Member, Plan, Task

TOKEN_BYTES = 24  # 32 URL-safe characters
PAST_DAYS = 366  # a feed holds items due from a year ago on


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class FeedLink:
    """A member's link: ``token`` only right after it was made (it is not stored)."""

    created_at: datetime
    token: str | None = None


def _member(session: Session, actor: Actor) -> Member:
    if actor.member_id is None or not actor.is_member:
        raise NotAllowed("inactive" if actor.deactivated else "not_member")
    if scope_of(actor) is None:
        raise NotAllowed("no_agency")
    member = session.get(Member, actor.member_id)
    if member is None:
        raise NotAllowed("not_member")
    return member


def _active(session: Session, member_id: int) -> list[CalendarFeed]:
    return list(session.exec(select(CalendarFeed).where(CalendarFeed.member_id == member_id,
                                                        col(CalendarFeed.revoked_at).is_(None))))


def current_link(engine: Engine, actor: Actor) -> FeedLink | None:
    """The member's live link (without its token), if any."""
    with session_scope(engine) as session:
        member = _member(session, actor)
        assert member.id is not None
        feeds = _active(session, member.id)
        return FeedLink(max(f.created_at for f in feeds)) if feeds else None


def new_link(engine: Engine, actor: Actor, now: datetime) -> FeedLink:
    """A new link for the member; their earlier links stop working."""
    with session_scope(engine) as session:
        member = _member(session, actor)
        assert member.id is not None
        for feed in _active(session, member.id):
            feed.revoked_at = now
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session.add(CalendarFeed(member_id=member.id, token_hash=token_hash(token), created_at=now))
        return FeedLink(now, token)


def revoke_links(engine: Engine, actor: Actor, now: datetime) -> int:
    """Revoke the member's links; how many were live."""
    with session_scope(engine) as session:
        member = _member(session, actor)
        assert member.id is not None
        feeds = _active(session, member.id)
        for feed in feeds:
            feed.revoked_at = now
        return len(feeds)


@dataclass(frozen=True)
class FeedEvent:
    """One deadline in a feed. ``uid`` stays the same whatever is re-planned (task code,
    agency code or scope, period key)."""

    uid: str
    task_code: str
    task_text: str
    due_on: date
    period_key: str
    agency_name: str  # the agency, or the scope's name for a summed event
    state: str | None  # an item's state; None for a summed event
    owing: int  # agencies (or items) still open
    total: int


@dataclass(frozen=True)
class Feed:
    member_name: str
    language: str | None
    scope_name: str
    summed: bool
    events: list[FeedEvent]
    calendar: WorkingCalendar


def feed(engine: Engine, token: str, today: date, configured_admins: frozenset[int]) -> Feed | None:
    """What the link ``token`` shows (None: no such live link, or its member is not active)."""
    with session_scope(engine) as session:
        row = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token),
                                                      col(CalendarFeed.revoked_at).is_(None))).first()
        member = session.get(Member, row.member_id) if row is not None else None
        if member is None or not member.active:
            return None
        scope = scope_of(actor_of(session, member, configured_admins=configured_admins))
        plans = active_plans(session)
        if scope is None or not plans:
            return None
        since = today - timedelta(days=PAST_DAYS)
        scope_name = _scope_name(session, scope)
        summed = scope.everything or scope.subtree
        events: list[FeedEvent] = []
        for plan in plans:  # every plan in force; with several, each event names its plan
            named = plan if len(plans) > 1 else None
            found = (_summed(session, plan.id, scope, since, scope_name) if summed
                     else _per_item(session, plan.id, scope, since))
            events += [_of_plan(e, named) for e in found]
        events.sort(key=lambda e: (e.due_on, e.task_code, e.period_key))
        return Feed(member.full_name, member.language, scope_name, summed, events, working_calendar(session))


def _of_plan(event: FeedEvent, plan: Plan | None) -> FeedEvent:
    """``event`` naming its plan (its uid too: two plans may have the same task code)."""
    if plan is None:
        return event
    return replace(event, uid=f"{event.uid}.p{plan.id}", task_code=f"[{plan.number}] {event.task_code}")


def _where(session: Session, plan_id: int | None, scope: Scope, since: date) -> list[ColumnElement[bool]]:
    where = [col(Task.plan_id) == plan_id, col(Task.retired_at).is_(None), col(Item.due_on) >= since]
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        where.append(col(Item.agency_id).in_(ids))
    return where


def _per_item(session: Session, plan_id: int | None, scope: Scope, since: date) -> list[FeedEvent]:
    """One agency: an event per item."""
    query = (core_select(col(Item.period_key), col(Item.due_on), col(Item.state), col(Task.code),
                         col(Task.task), col(Agency.code), col(Agency.name))
             .join(Task, col(Task.id) == Item.task_id).join(Agency, col(Agency.id) == Item.agency_id)
             .where(*_where(session, plan_id, scope, since))
             .order_by(col(Item.due_on), col(Task.position), col(Agency.code)))
    return [FeedEvent(f"{code}.{agency_code}.{period_key}", code, text, due_on, period_key, agency_name,
                      state, int(state in OPEN_STATES), 1)
            for period_key, due_on, state, code, text, agency_code, agency_name in session.execute(query)]


def _summed(session: Session, plan_id: int | None, scope: Scope, since: date,
            scope_name: str) -> list[FeedEvent]:
    """A scope of many agencies: an event per task and period (the earliest due day, the items
    still open of all), counted in the database (one grouped scan, whatever the scope's size)."""
    owing = func.count().filter(col(Item.state).in_(OPEN_STATES))
    query = (core_select(col(Task.code), col(Task.task), col(Item.period_key), func.min(Item.due_on),
                         owing, func.count())
             .join(Task, col(Task.id) == Item.task_id)
             .where(*_where(session, plan_id, scope, since))
             .group_by(col(Task.id), col(Task.code), col(Task.task), col(Item.period_key)))
    key = scope.key.replace(":", "-")
    events = [FeedEvent(f"{code}.{key}.{period_key}", code, text, due_on, period_key, scope_name, None,
                        int(still), int(total))
              for code, text, period_key, due_on, still, total in session.execute(query)]
    return sorted(events, key=lambda e: (e.due_on, e.task_code, e.period_key))


def _scope_name(session: Session, scope: Scope) -> str:
    if scope.root_id is None:
        return ""
    agency = session.get(Agency, scope.root_id)
    return agency.name if agency is not None else ""
