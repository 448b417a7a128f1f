"""Contributions of coordinating agencies (who coordinates and what they are told:
``models.coordination``). They never owe a task: items, reminders, roll-ups and the four-way
counts are the leads' alone. Here:

- a contribution: a note and perhaps one document added to a lead's item by a member of a
  coordinating agency, written as a draft row (``contribution_draft``: note, then file/Send), so a
  restart loses nothing; the draft's typed text and files reach it through the report flow's own
  transaction (``models.reporting.take_text``/``take_file``), which costs no extra thread hop;
- the reading side: contributions per item (the review card, /tasks, the /status drill-down's
  count) and :func:`for_period` (the export).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from domain.access import Action, Actor, NotAllowed, Scope, allows, may_contribute
from domain.collation import vi_key
from domain.periods import Period
from domain.text import normalize, scrub
from models import reports as svc
from models.coordination import LeadItem, coordinators_of, lead_item, lead_items
from models.db import session_scope
from models.rollup import ItemLine, scope_agency_ids
from models.tables import Agency, Contribution, ContributionDraft, Item, Member, Task

STEP_NOTE = "note"  # the note is asked
STEP_FILE = "file"  # a document may be sent; then Send
MAX_NOTE = svc.MAX_NOTE
PAGE_SIZE = 8  # lead items per page when picking one


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class ContributionLine:
    """A contribution as the cards show it."""

    agency: str
    author: str
    note: str
    file_id: str
    file_name: str
    mime_type: str
    created_at: datetime


@dataclass(frozen=True)
class ContributionRow:
    """A contribution as the export writes it."""

    code: str
    task: str
    lead: str
    period: str
    agency: str
    note: str
    file_name: str
    author: str
    created_on: date  # in the time zone the caller asked for


@dataclass(frozen=True)
class DraftView:
    draft_id: int
    step: str
    note: str
    file_name: str
    has_file: bool
    item: LeadItem


@dataclass(frozen=True)
class Pick:
    """The lead items an agency may contribute to, a page of them (``period``: those of one
    period, from an opening notice; "" for every open one)."""

    agency: str
    period: str
    rows: list[LeadItem]
    page: int
    pages: int


@dataclass(frozen=True)
class Stored:
    item: LeadItem
    agency: str
    has_file: bool


@dataclass(frozen=True)
class Cancelled:
    done: bool


# --------------------------------------------------------------------------- the draft


def _member(session: Session, actor: Actor) -> Member:
    member = session.get(Member, actor.member_id) if actor.member_id is not None else None
    if member is None:
        raise NotAllowed("not_member")
    if not member.active:
        raise NotAllowed("inactive")
    return member


def _check(session: Session, actor: Actor, item_id: int) -> LeadItem:
    """The lead's item, if the actor's agency coordinates its task (else NotAllowed)."""
    row = lead_item(session, item_id)
    if row is None:
        raise svc.Changed("item")
    if not may_contribute(actor, coordinators_of(session, row.task_id)):
        raise NotAllowed("item")
    return row


def pick(session: Session, actor: Actor, period: str, page: int, today: date) -> Pick:
    """The lead items the actor's agency may contribute to (of ``period``, or all still due)."""
    _member(session, actor)
    if actor.agency_id is None:
        raise NotAllowed("no_agency")
    agency = session.get(Agency, actor.agency_id)
    rows = lead_items(session, actor.agency_id, period, today)
    if not allows(actor, Action.CONTRIBUTE) or not rows:
        raise NotAllowed("item")
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return Pick(agency.name if agency else "?", period, rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE],
                page, pages)


def open_draft(session: Session, member: Member, now: datetime,
               timeout: timedelta) -> ContributionDraft | None:
    """The member's contribution draft, if one is open (an expired one is discarded)."""
    mine = col(ContributionDraft.member_id) == member.id
    draft = session.exec(select(ContributionDraft).where(mine)).first()
    if draft is None:
        return None
    if draft.updated_at + timeout < now:
        session.delete(draft)
        session.flush()
        return None
    return draft


def view(session: Session, draft: ContributionDraft) -> DraftView:
    assert draft.id is not None
    row = lead_item(session, draft.item_id)
    if row is None:
        raise svc.Changed("item")
    return DraftView(draft.id, draft.step, draft.note, draft.file_name, bool(draft.file_id), row)


def start(session: Session, actor: Actor, item_id: int, now: datetime) -> DraftView:
    """A new contribution draft on a lead's item (replacing the member's old one)."""
    member = _member(session, actor)
    _check(session, actor, item_id)
    old = session.exec(select(ContributionDraft).where(col(ContributionDraft.member_id) == member.id)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    assert member.id is not None
    draft = ContributionDraft(member_id=member.id, item_id=item_id, step=STEP_NOTE, updated_at=now)
    session.add(draft)
    session.flush()
    return view(session, draft)


def _mine(session: Session, actor: Actor, draft_id: int, now: datetime,
          timeout: timedelta) -> ContributionDraft:
    member = _member(session, actor)
    draft = session.get(ContributionDraft, draft_id)
    if draft is None or draft.member_id != member.id:
        raise svc.Changed("no_draft")
    if draft.updated_at + timeout < now:
        raise svc.Changed("expired")
    _check(session, actor, draft.item_id)
    return draft


def take_text(session: Session, actor: Actor, draft: ContributionDraft, text: str,
              now: datetime) -> DraftView:
    """The note (at the note step; at the file step it replaces the note)."""
    value = normalize(text, what="note").strip()
    if len(value) > MAX_NOTE:
        raise svc.Invalid("note_too_long")
    if not value:
        raise svc.Invalid("contribution_empty")
    _check(session, actor, draft.item_id)
    draft.note, draft.step, draft.updated_at = value, STEP_FILE, now
    session.add(draft)
    session.flush()
    return view(session, draft)


def take_file(session: Session, actor: Actor, draft: ContributionDraft, file: svc.EvidenceFile,
              now: datetime) -> DraftView:
    """A document (or photo) for the contribution: one, a second replaces the first."""
    file = replace(file, file_name=scrub(file.file_name)[:255], mime_type=scrub(file.mime_type)[:128])
    svc.check_file(file)
    _check(session, actor, draft.item_id)
    draft.file_id, draft.file_unique_id = file.file_id[:255], file.file_unique_id[:128]
    draft.file_name, draft.mime_type = file.file_name, file.mime_type
    if draft.note:
        draft.step = STEP_FILE
    draft.updated_at = now
    session.add(draft)
    session.flush()
    return view(session, draft)


def cancel(session: Session, member: Member) -> bool:
    """/cancel: discard the member's contribution draft; whether there was one."""
    mine = col(ContributionDraft.member_id) == member.id
    draft = session.exec(select(ContributionDraft).where(mine)).first()
    if draft is None:
        return False
    session.delete(draft)
    session.flush()
    return True


def press(session: Session, actor: Actor, draft_id: int, action: str, now: datetime,
          timeout: timedelta) -> DraftView | Stored | Cancelled:
    """The draft's buttons: ``send`` (stores it), ``cancel``."""
    if action == "cancel":
        member = _member(session, actor)
        draft = session.get(ContributionDraft, draft_id)
        if draft is None or draft.member_id != member.id:
            return Cancelled(False)
        session.delete(draft)
        return Cancelled(True)
    draft = _mine(session, actor, draft_id, now, timeout)
    if action != "send":
        raise svc.Changed("action")
    if draft.step != STEP_FILE or not draft.note:
        raise svc.Invalid("contribution_empty")
    return _store(session, actor, draft, now)


def _store(session: Session, actor: Actor, draft: ContributionDraft, now: datetime) -> Stored:
    assert actor.agency_id is not None and actor.member_id is not None
    row = _check(session, actor, draft.item_id)
    session.add(Contribution(item_id=draft.item_id, agency_id=actor.agency_id, member_id=actor.member_id,
                             note=draft.note, file_id=draft.file_id, file_unique_id=draft.file_unique_id,
                             file_name=draft.file_name, mime_type=draft.mime_type, created_at=now))
    has_file = bool(draft.file_id)
    session.delete(draft)
    session.flush()
    agency = session.get(Agency, actor.agency_id)
    return Stored(row, agency.name if agency else "?", has_file)


# --------------------------------------------------------------------------- the buttons' services


def pick_items(engine: Engine, actor: Actor, period: str, page: int, today: date) -> Pick:
    """The "➕" button of an opening notice: the leads' items to choose from."""
    with session_scope(engine) as session:
        return pick(session, actor, period, page, today)


def begin(engine: Engine, actor: Actor, item_id: int, now: datetime) -> DraftView:
    """A lead's item picked (or a report notice's "➕"): the draft asks for the note."""
    with session_scope(engine) as session:
        return start(session, actor, item_id, now)


def press_button(engine: Engine, actor: Actor, draft_id: int, action: str, now: datetime,
                 timeout: timedelta) -> DraftView | Stored | Cancelled:
    with session_scope(engine) as session:
        return press(session, actor, draft_id, action, now, timeout)


# --------------------------------------------------------------------------- reading


def for_items(session: Session, item_ids: Iterable[int]) -> dict[int, list[ContributionLine]]:
    """item id -> its contributions, oldest first."""
    wanted = sorted(set(item_ids))
    found: dict[int, list[ContributionLine]] = defaultdict(list)
    if not wanted:
        return found
    query = (select(Contribution, Agency.name, Member.full_name)
             .join(Agency, col(Agency.id) == Contribution.agency_id)
             .join(Member, col(Member.id) == Contribution.member_id)
             .where(col(Contribution.item_id).in_(wanted)).order_by(col(Contribution.id)))
    for c, agency, author in session.exec(query):
        found[c.item_id].append(ContributionLine(agency, author, c.note, c.file_id, c.file_name,
                                                 c.mime_type, c.created_at))
    return found


def counts(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    """item id -> how many contributions it has (only those that have any)."""
    wanted = sorted(set(item_ids))
    found: dict[int, int] = {}
    for start_at in range(0, len(wanted), 500):
        chunk = wanted[start_at:start_at + 500]
        found.update({int(i): int(n) for i, n in session.exec(
            select(Contribution.item_id, func.count()).where(col(Contribution.item_id).in_(chunk))
            .group_by(col(Contribution.item_id)))})
    return found


def with_counts(session: Session, items: list[ItemLine]) -> list[ItemLine]:
    """Drill-down lines with their contribution counts filled in."""
    found = counts(session, [i.item_id for i in items])
    return [replace(i, contributions=found[i.item_id]) if i.item_id in found else i for i in items]


def for_period(session: Session, plan_id: int, period: Period, scope: Scope,
               tz: tzinfo = UTC) -> list[ContributionRow]:
    """The contributions to the leads' items due in ``period`` (leads within ``scope``), in the
    plan's order, then lead and time; dated in ``tz``."""
    query = (select(Contribution, Item.period_key, Task.code, Task.task, Task.position, Agency.name)  # type: ignore[call-overload]
             .join(Item, col(Item.id) == Contribution.item_id)
             .join(Task, col(Task.id) == Item.task_id)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .where(col(Task.plan_id) == plan_id, col(Item.due_on) >= period.start,
                    col(Item.due_on) <= period.end))
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        query = query.where(col(Item.agency_id).in_(ids))
    found = list(session.exec(query))
    names = dict(session.exec(select(Agency.id, Agency.name).where(
        col(Agency.id).in_({c.agency_id for c, *_rest in found}))).all()) if found else {}
    authors = dict(session.exec(select(Member.id, Member.full_name).where(
        col(Member.id).in_({c.member_id for c, *_rest in found}))).all()) if found else {}
    rows = [(position, vi_key(lead), c.id or 0,
             ContributionRow(code, text, lead, period_key, names.get(c.agency_id, "?"), c.note, c.file_name,
                             authors.get(c.member_id, "?"), c.created_at.astimezone(tz).date()))
            for c, period_key, code, text, position, lead in found]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [row for *_key, row in rows]
