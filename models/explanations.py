"""Explanation requests ("yêu cầu giải trình"): a coordinator or leader asks the agency owing an
overdue item to explain the delay; its focal points and leaders are told through the ledger;
one of them answers with text and, if they like, a document; the requester is told.

Services take the :class:`~domain.access.Actor` asking and open their own transaction; the
queries (:func:`for_period`, :func:`notes_for_items`, :func:`for_item`) take a session and return
plain rows for the drill-down, /history and the exports. Refusals: :class:`NotAllowed` (role or
scope), :class:`Refused` (the item or request is not in a state that allows it, with a code the
view words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.access import Action, Actor, NotAllowed, Scope, require, scope_of
from domain.calendar import WorkingCalendar
from domain.periods import Period
from domain.text import normalize, scrub
from models import ledger
from models.calendar_days import working_calendar
from models.db import session_scope
from models.items import named_item
from models.reporting import member_of
from models.reports import EvidenceFile, Invalid, check_file
from models.rollup import in_scope, scope_agency_ids
from models.tables import (
    OPEN_STATES,
    Agency,
    ExplanationDraft,
    ExplanationRequest,
    ExplanationState,
    Item,
    Member,
    MemberRole,
    Task,
)

DEFAULT_DAYS = 3  # working days to answer (DONDOC_EXPLANATION_DAYS)
MAX_TEXT = 1000  # characters of a question or an answer, as stored


class Refused(Exception):
    """Not possible now; ``code``: ``not_overdue`` (the item is not overdue and open),
    ``gone`` (item, request or draft vanished), ``closed`` (the request was answered or
    withdrawn), ``empty`` (an answer without text), ``too_long``, ``file_type``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- plain data ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    """The item a request is about, as the views name it."""

    item_id: int
    task_code: str
    task_text: str
    agency_id: int
    agency_name: str
    period_key: str
    due_on: date


@dataclass(frozen=True)
class AskDraft:
    """A request being written: its item and the (optional) question typed so far."""

    draft_id: int
    subject: Subject
    question: str


@dataclass(frozen=True)
class AlreadyAsked:
    """The item has an open request already (pressing twice asks once)."""

    request_id: int
    subject: Subject
    asked_on: date
    due_on: date


@dataclass(frozen=True)
class Asked:
    """A request sent: who was told, by when the answer is due."""

    request_id: int
    subject: Subject
    due_on: date
    told: int
    new: bool  # False: another press (or person) had asked already


@dataclass(frozen=True)
class AnswerDraft:
    draft_id: int
    request_id: int
    subject: Subject
    question: str
    requester: str
    due_on: date
    text: str
    file_name: str
    has_file: bool


@dataclass(frozen=True)
class Answered:
    request_id: int
    subject: Subject
    requester: str


@dataclass(frozen=True)
class ExplanationNote:
    """The latest request of an item, for one line of the drill-down."""

    request_id: int
    asked_on: date
    due_on: date
    state: str
    answered_on: date | None
    answer_text: str
    file_name: str


@dataclass(frozen=True)
class ExplanationRow:
    """One request, as /history and the exports show it (helper reportdoc's report too)."""

    request_id: int
    task_code: str
    agency: str
    period_key: str
    item_due_on: date
    requested_by: str
    requested_at: datetime
    question: str
    due_on: date
    state: str
    answered_by: str
    answered_at: datetime | None
    answer_text: str
    document_name: str


@dataclass(frozen=True)
class NoticeSubject:
    """What a notice about a request says (rendered when the dispatcher sends it)."""

    request: ExplanationRequest
    subject: Subject
    requester: str
    answerer: str


# --- queries ------------------------------------------------------------------------------

def _subject(session: Session, item_id: int) -> Subject | None:
    found = named_item(session, item_id)
    if found is None:
        return None
    item, code, text, agency = found
    return Subject(item_id, code, text, item.agency_id, agency, item.period_key, item.due_on)


def _local(value: datetime, tz: object) -> date:
    return value.astimezone(tz).date()  # type: ignore[arg-type]


def notes_for_items(session: Session, item_ids: list[int], tz: object) -> dict[int, ExplanationNote]:
    """item id -> its latest request (open, answered or withdrawn), for the drill-down."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    found: dict[int, ExplanationNote] = {}
    query = (select(ExplanationRequest).where(col(ExplanationRequest.item_id).in_(wanted))
             .order_by(col(ExplanationRequest.id)))
    for r in session.exec(query):
        assert r.id is not None
        found[r.item_id] = ExplanationNote(
            r.id, _local(r.created_at, tz), r.due_on, r.state,
            _local(r.answered_at, tz) if r.answered_at else None, r.answer_text, r.answer_file_name)
    return found


def _rows(session: Session, where: list[Any]) -> list[ExplanationRow]:
    asker, answerer = aliased(Member), aliased(Member)
    query = (core_select(ExplanationRequest, col(Task.code), col(Agency.name), col(Item.period_key),
                         col(Item.due_on), col(asker.full_name), col(answerer.full_name))
             .join(Item, col(Item.id) == ExplanationRequest.item_id)
             .join(Task, col(Task.id) == Item.task_id)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .join(asker, col(asker.id) == ExplanationRequest.requested_by)
             .outerjoin(answerer, col(answerer.id) == ExplanationRequest.answered_by)
             .where(*where)
             .order_by(col(Task.position), col(Agency.name), col(ExplanationRequest.id)))
    return [ExplanationRow(r.id or 0, code, agency, period, due, asked or "", r.created_at, r.question,
                           r.due_on, r.state, answered or "", r.answered_at, r.answer_text,
                           r.answer_file_name)
            for r, code, agency, period, due, asked, answered in session.execute(query)]


def for_period(session: Session, plan_id: int, period: Period, scope: Scope) -> list[ExplanationRow]:
    """The requests about items of ``period`` (by the item's due day) inside ``scope``, by task
    position then agency: what the exports and the official report list."""
    where: list[Any] = [col(Task.plan_id) == plan_id, col(Item.due_on) >= period.start,
                           col(Item.due_on) <= period.end]
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        where.append(col(Item.agency_id).in_(ids))
    return _rows(session, where)


def for_item(session: Session, item_id: int) -> list[ExplanationRow]:
    """An item's requests, oldest first (/history)."""
    return _rows(session, [col(ExplanationRequest.item_id) == item_id])


def open_request(session: Session, item_id: int) -> ExplanationRequest | None:
    return session.exec(select(ExplanationRequest).where(
        col(ExplanationRequest.item_id) == item_id,
        col(ExplanationRequest.state) == ExplanationState.OPEN.value)).first()


def notice_subject(session: Session, request_id: int | None) -> NoticeSubject | None:
    request = session.get(ExplanationRequest, request_id) if request_id else None
    subject = _subject(session, request.item_id) if request is not None else None
    if request is None or subject is None:
        return None
    asker = session.get(Member, request.requested_by)
    answerer = session.get(Member, request.answered_by) if request.answered_by else None
    return NoticeSubject(request, subject, asker.full_name if asker else "?",
                         answerer.full_name if answerer else "")


@dataclass(frozen=True)
class OpenExplanation:
    """An open request, as the planner needs it."""

    id: int
    item_id: int
    agency_id: int
    requested_by: int
    asked_on: date
    due_on: date


def open_for_planning(session: Session, tz: object) -> list[OpenExplanation]:
    """Every open request (a small set: they are answered within days); read only when the
    change counters or the day moved."""
    query = (select(ExplanationRequest, Item.agency_id)
             .join(Item, col(Item.id) == ExplanationRequest.item_id)
             .where(col(ExplanationRequest.state) == ExplanationState.OPEN.value))
    return [OpenExplanation(r.id or 0, r.item_id, agency, r.requested_by, _local(r.created_at, tz), r.due_on)
            for r, agency in session.exec(query)]


def agency_people(session: Session, agency_id: int) -> list[Member]:
    """Who is asked: the agency's reachable focal points and leaders."""
    return list(session.exec(select(Member).where(
        col(Member.agency_id) == agency_id, col(Member.active), col(Member.unreachable_at).is_(None),
        col(Member.role).in_((MemberRole.FOCAL_POINT.value, MemberRole.LEADER.value)))))


# --- asking -------------------------------------------------------------------------------

def answer_due(calendar: WorkingCalendar, today: date, days: int) -> date:
    """The answer's due day: ``days`` Vietnamese working days after today."""
    return calendar.add_working_days(today, days)


def _askable(session: Session, actor: Actor, item_id: int, today: date) -> Subject:
    """The item, if the actor may ask about it: coordinators and leaders, inside their scope, of
    an open item past its due day."""
    require(actor, Action.REQUEST_EXPLANATION)
    subject = _subject(session, item_id)
    if subject is None:
        raise Refused("gone")
    scope = scope_of(actor)
    if scope is None or not in_scope(session, scope, subject.agency_id):
        raise NotAllowed("scope")
    item = session.get(Item, item_id)
    if item is None or item.state not in OPEN_STATES or item.due_on >= today:
        raise Refused("not_overdue")
    return subject


def _already(session: Session, subject: Subject, tz: object) -> AlreadyAsked | None:
    found = open_request(session, subject.item_id)
    if found is None or found.id is None:
        return None
    return AlreadyAsked(found.id, subject, _local(found.created_at, tz), found.due_on)


def _text(text: str) -> str:
    value = normalize(text, what="explanation").strip()
    if len(value) > MAX_TEXT:
        raise Refused("too_long")
    return value


def _own_draft(session: Session, actor: Actor) -> ExplanationDraft | None:
    return session.exec(select(ExplanationDraft).where(
        col(ExplanationDraft.member_id) == actor.member_id)).first()


def _fresh_draft(session: Session, member: Member, item_id: int, request_id: int | None,
                 now: datetime) -> ExplanationDraft:
    """The member's one explanation draft, started over for this item (or request)."""
    draft = session.exec(select(ExplanationDraft).where(col(ExplanationDraft.member_id) == member.id)).first()
    if draft is None:
        draft = ExplanationDraft(member_id=member.id or 0, item_id=item_id)
    draft.item_id, draft.request_id, draft.text, draft.updated_at = item_id, request_id, "", now
    draft.file_id = draft.file_unique_id = draft.file_name = draft.mime_type = ""
    session.add(draft)
    session.flush()
    return draft


def start_request(engine: Engine, actor: Actor, item_id: int, now: datetime,
                  tz: object) -> AskDraft | AlreadyAsked:
    """❗ pressed on an overdue item: a draft waiting for an optional question, or the request
    already open."""
    today = _local(now, tz)
    with session_scope(engine) as session:
        subject = _askable(session, actor, item_id, today)
        already = _already(session, subject, tz)
        if already is not None:
            return already
        draft = _fresh_draft(session, member_of(session, actor), item_id, None, now)
        return AskDraft(draft.id or 0, subject, "")


def _ask_draft(session: Session, actor: Actor, draft_id: int | None) -> ExplanationDraft:
    draft = _own_draft(session, actor)
    if draft is None or draft.request_id is not None or (draft_id is not None and draft.id != draft_id):
        raise Refused("gone")
    return draft


def set_question(engine: Engine, actor: Actor, text: str, now: datetime, tz: object) -> AskDraft:
    """The requester typed the question (or the reason) to send with the request."""
    with session_scope(engine) as session:
        draft = _ask_draft(session, actor, None)
        subject = _askable(session, actor, draft.item_id, _local(now, tz))
        draft.text, draft.updated_at = _text(text), now
        session.add(draft)
        return AskDraft(draft.id or 0, subject, draft.text)


def send_request(engine: Engine, actor: Actor, draft_id: int, now: datetime, tz: object,
                 days: int = DEFAULT_DAYS) -> Asked:
    """Send the request: one open request per item (if someone asked meanwhile, theirs stands),
    the agency's focal points and leaders told through the ledger."""
    today = _local(now, tz)
    with session_scope(engine) as session:
        draft = _ask_draft(session, actor, draft_id)
        subject = _askable(session, actor, draft.item_id, today)
        member = member_of(session, actor)
        session.delete(draft)
        request = ExplanationRequest(item_id=subject.item_id, requested_by=member.id or 0,
                                     question=draft.text, created_at=now,
                                     due_on=answer_due(working_calendar(session), today, days))
        new = True
        try:
            with session.begin_nested():  # the partial unique index: one open request per item
                session.add(request)
        except IntegrityError:
            new = False
        if not new or request.id is None:
            found = open_request(session, subject.item_id)
            if found is None:
                raise Refused("gone")
            request = found
        told = (ledger.queue_explanation_notices(session, request_id=request.id or 0,
                                                 recipients=agency_people(session, subject.agency_id),
                                                 now=now) if new else 0)
        return Asked(request.id or 0, subject, request.due_on, told, new)


def cancel_draft(engine: Engine, actor: Actor) -> bool:
    """/cancel or ✖: the explanation draft goes (True if there was one)."""
    with session_scope(engine) as session:
        draft = _own_draft(session, actor)
        if draft is None:
            return False
        session.delete(draft)
        return True


# --- answering ----------------------------------------------------------------------------

def _answerable(session: Session, actor: Actor, request_id: int) -> tuple[ExplanationRequest, Subject]:
    """The open request, if the actor is one of the asked agency's focal points or leaders."""
    require(actor, Action.ANSWER_EXPLANATION)
    request = session.get(ExplanationRequest, request_id)
    subject = _subject(session, request.item_id) if request is not None else None
    if request is None or subject is None:
        raise Refused("gone")
    if actor.agency_id != subject.agency_id and not actor.is_admin:
        raise NotAllowed("scope")
    if request.state != ExplanationState.OPEN.value:
        raise Refused("closed")
    return request, subject


def _answer_view(session: Session, draft: ExplanationDraft, request: ExplanationRequest,
                 subject: Subject) -> AnswerDraft:
    asker = session.get(Member, request.requested_by)
    return AnswerDraft(draft.id or 0, request.id or 0, subject, request.question,
                       asker.full_name if asker else "?", request.due_on, draft.text, draft.file_name,
                       bool(draft.file_id))


def start_answer(engine: Engine, actor: Actor, request_id: int, now: datetime) -> AnswerDraft:
    """"Answer" pressed under the request: a draft waiting for the text (and a document)."""
    with session_scope(engine) as session:
        request, subject = _answerable(session, actor, request_id)
        draft = _fresh_draft(session, member_of(session, actor), subject.item_id, request_id, now)
        return _answer_view(session, draft, request, subject)


def _answer_draft(session: Session, actor: Actor, draft_id: int | None
                  ) -> tuple[ExplanationDraft, ExplanationRequest, Subject]:
    draft = _own_draft(session, actor)
    if draft is None or draft.request_id is None or (draft_id is not None and draft.id != draft_id):
        raise Refused("gone")
    request, subject = _answerable(session, actor, draft.request_id)
    return draft, request, subject


def set_answer_text(engine: Engine, actor: Actor, text: str, now: datetime) -> AnswerDraft:
    with session_scope(engine) as session:
        draft, request, subject = _answer_draft(session, actor, None)
        draft.text, draft.updated_at = _text(text), now
        session.add(draft)
        return _answer_view(session, draft, request, subject)


def set_answer_file(engine: Engine, actor: Actor, file: EvidenceFile, now: datetime) -> AnswerDraft:
    """A document with the answer (one: a second replaces the first); its caption, if any, is
    the answer's text."""
    with session_scope(engine) as session:
        draft, request, subject = _answer_draft(session, actor, None)
        try:
            check_file(file)
        except Invalid:
            raise Refused("file_type") from None
        draft.file_id, draft.file_unique_id = file.file_id, file.file_unique_id
        draft.file_name = scrub(file.file_name)[:255] or (file.kind + ".jpg" if file.kind == "photo" else "")
        draft.mime_type, draft.updated_at = file.mime_type[:128], now
        session.add(draft)
        return _answer_view(session, draft, request, subject)


def submit_answer(engine: Engine, actor: Actor, draft_id: int, now: datetime) -> Answered:
    """Store the answer, close the request (its pending reminders are dropped) and tell the
    requester through the ledger."""
    with session_scope(engine) as session:
        draft, request, subject = _answer_draft(session, actor, draft_id)
        if not draft.text:
            raise Refused("empty")
        member = member_of(session, actor)
        request.state, request.answered_by, request.answered_at = (
            ExplanationState.ANSWERED.value, member.id, now)
        request.answer_text = draft.text
        request.answer_file_id, request.answer_file_unique_id = draft.file_id, draft.file_unique_id
        request.answer_file_name, request.answer_mime_type = draft.file_name, draft.mime_type
        session.add(request)
        session.delete(draft)
        ledger.skip_explanation_notices(session, request.id or 0, "the request was answered")
        asker = session.get(Member, request.requested_by)
        if asker is not None and asker.active and asker.unreachable_at is None:
            ledger.queue_explanation_answered(session, request_id=request.id or 0, recipient=asker, now=now)
        return Answered(request.id or 0, subject, asker.full_name if asker else "?")
