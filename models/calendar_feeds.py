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
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from domain.access import Actor, NotAllowed, Scope, scope_of
from domain.calendar import WorkingCalendar
from models.calendar_days import working_calendar
from models.db import session_scope
from models.members import actor_of
from models.registry import current_plan
from models.rollup import scope_agency_ids
from models.tables import OPEN_STATES, Agency, CalendarFeed, Item, Member, Task

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
        plan = current_plan(session)
        if scope is None or plan is None:
            return None
        rows = _items(session, plan.id, scope, today - timedelta(days=PAST_DAYS))
        scope_name = _scope_name(session, scope)
        summed = scope.everything or scope.subtree
        events = _summed(rows, scope, scope_name) if summed else [
            FeedEvent(f"{code}.{agency_code}.{item.period_key}", code, text, item.due_on, item.period_key,
                      agency_name, item.state, int(item.state in OPEN_STATES), 1)
            for item, code, text, agency_code, agency_name in rows]
        return Feed(member.full_name, member.language, scope_name, summed, events, working_calendar(session))


def _items(session: Session, plan_id: int | None, scope: Scope,
           since: date) -> list[tuple[Item, str, str, str, str]]:
    where = [col(Task.plan_id) == plan_id, col(Task.retired_at).is_(None), col(Item.due_on) >= since]
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        where.append(col(Item.agency_id).in_(ids))
    query = (core_select(Item, col(Task.code), col(Task.task), col(Agency.code), col(Agency.name))
             .join(Task, col(Task.id) == Item.task_id).join(Agency, col(Agency.id) == Item.agency_id)
             .where(*where).order_by(col(Item.due_on), col(Task.position), col(Agency.code)))
    return [(item, code, text, agency_code, name)
            for item, code, text, agency_code, name in session.execute(query)]


def _scope_name(session: Session, scope: Scope) -> str:
    if scope.root_id is None:
        return ""
    agency = session.get(Agency, scope.root_id)
    return agency.name if agency is not None else ""


def _summed(rows: list[tuple[Item, str, str, str, str]], scope: Scope, scope_name: str) -> list[FeedEvent]:
    """One event per task and period: the earliest due day, agencies still owing of all."""
    groups: dict[tuple[str, str], list[tuple[Item, str]]] = defaultdict(list)
    texts: dict[str, str] = {}
    for item, code, text, _agency_code, _agency_name in rows:
        groups[(code, item.period_key)].append((item, code))
        texts[code] = text
    events = []
    for (code, period_key), members in groups.items():
        items = [item for item, _code in members]
        owing = sum(1 for item in items if item.state in OPEN_STATES)
        events.append(FeedEvent(f"{code}.{scope.key.replace(':', '-')}.{period_key}", code, texts[code],
                                min(item.due_on for item in items), period_key, scope_name, None, owing,
                                len(items)))
    return sorted(events, key=lambda e: (e.due_on, e.task_code))
