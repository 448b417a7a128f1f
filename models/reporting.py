"""The reporting flows as services: /tasks, /report, a draft's steps, typed text and files,
/cancel and /review. Each takes the :class:`~domain.access.Actor` of the update and plain values,
opens one transaction (submitting retries its own on a lost version race), asks the access
policy, and returns plain data that ``views.reports`` turns into a Screen.

Refusals: :class:`~domain.access.NotAllowed` (not a member, wrong role, outside the scope) and the
:class:`~models.reports.ReportError` kinds (stale button, expired draft, bad input). Handlers
call one of these per update; nothing here knows Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from domain.access import Action, Actor, NotAllowed, allows, require
from domain.report_text import STATES, AmbiguityKind, ParsedReport, parse_report, same_code
from models import contributions as contrib
from models import reports as svc
from models.db import session_scope
from models.items import ItemPage, ItemRow, item_row, items_for_agency, reportable_items
from models.reports import EvidenceFile
from models.tables import (
    Agency,
    ContributionDraft,
    Evidence,
    Item,
    ItemState,
    Member,
    Report,
    ReportDraft,
    ReviewState,
)
from models.targets import TargetRow, reported_value, target_for_item

ContribView = contrib.DraftView  # a contribution draft's question (models.contributions)

MAX_CHOICES = 30  # items a message in the officer's words may offer to choose from

TASKS_PAGE_SIZE = 6
REVIEW_PAGE_SIZE = 5


@dataclass(frozen=True)
class Clock:
    """The moment of the update, today in the bot's time zone, and the drafts' timeout."""

    now: datetime
    today: date
    timeout: timedelta = svc.DEFAULT_TIMEOUT


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class DraftView:
    """A report draft as the views show it."""

    draft_id: int
    item_id: int
    step: str
    state: str | None
    percent: int | None
    note: str
    document_number: str
    files: tuple[EvidenceFile, ...]
    base_version: int
    document_date: date | None = None
    target_value: float | None = None

    @classmethod
    def of(cls, draft: ReportDraft) -> DraftView:
        assert draft.id is not None
        return cls(draft.id, draft.item_id, draft.step, draft.state, draft.percent, draft.note,
                   draft.document_number, tuple(svc.draft_files(draft)), draft.base_version,
                   draft.document_date, draft.target_value)


@dataclass(frozen=True)
class Form:
    """A draft's current question (``hint``: ``use_buttons`` when text came for a button step;
    ``choices``: the items a message in the officer's words may have meant; ``target``: the
    numeric target the report gives a value against, if its task has one for the item's year)."""

    draft: DraftView
    row: ItemRow
    hint: str = ""
    choices: tuple[ItemRow, ...] = ()
    target: TargetRow | None = None


@dataclass(frozen=True)
class Elsewhere:
    """A report is in progress on another item (or /report while one is)."""

    draft: DraftView
    row: ItemRow
    wanted_item: int | None


@dataclass(frozen=True)
class Menu:
    """/report with no draft: the items the agency may report on, a page of them (``code``: the
    periods of the task /report named; ``unknown``: a code the agency does not owe)."""

    rows: list[ItemRow]
    expired: bool = False
    page: int = 0
    code: str = ""
    unknown: str = ""


@dataclass(frozen=True)
class Refused:
    """A refused step: the error, and the length of the text that was too long."""

    error: svc.ReportError
    length: int | None = None


@dataclass(frozen=True)
class NoDraft:
    """Text or a file with no draft to take it (``expired``: one was just discarded)."""

    expired: bool
    file: bool = False
    wrong_step: bool = False


@dataclass(frozen=True)
class Cancelled:
    done: bool  # something was discarded
    button: bool = False


@dataclass(frozen=True)
class Sent:
    version: int
    item_state: str
    percent: int | None
    report_state: str
    overtook: bool
    row: ItemRow
    queued: bool  # "to verify" notices were queued for the coordinators


@dataclass(frozen=True)
class TasksList:
    agency: str
    page: ItemPage
    page_size: int


@dataclass(frozen=True)
class Card:
    """One version of a report with what the card names."""

    report: Report
    row: ItemRow
    agency: str
    author: str
    evidence: list[Evidence]
    # The value the version gave against its task's numeric target, with that target.
    value: tuple[float, TargetRow] | None = None
    # Coordinating agencies' contributions to the item (models.contributions).
    contributions: tuple[contrib.ContributionLine, ...] = ()


@dataclass(frozen=True)
class TaskCard:
    row: ItemRow
    agency: str
    card: Card | None
    can_report: bool
    page: int


@dataclass(frozen=True)
class ReviewScreen:
    """/review: for a verifier the oldest waiting card; for a viewer a page of cards."""

    total: int
    verifier: bool
    cards: list[Card] = field(default_factory=list)
    page: int = 0
    pages: int = 1


@dataclass(frozen=True)
class Decided:
    """A verification (``returned`` False) or the question "why is it returned?"."""

    action: str  # approved | asking | returned
    row: ItemRow | None = None
    version: int = 0
    reason: str = ""
    left: int = 0
    told: int = 0


# --------------------------------------------------------------------------- helpers


def member_of(session: Session, actor: Actor) -> Member:
    """The actor's member row, active; otherwise :class:`NotAllowed`."""
    if actor.member_id is None:
        raise NotAllowed("not_member")
    member = session.get(Member, actor.member_id)
    if member is None:
        raise NotAllowed("not_member")
    if not member.active:
        raise NotAllowed("inactive")
    return member


def _row(session: Session, item_id: int) -> ItemRow:
    row = item_row(session, item_id)
    if row is None:
        raise svc.Changed("item")
    return row


def _form(session: Session, draft: ReportDraft, hint: str = "") -> Form:
    choices: tuple[ItemRow, ...] = ()
    if draft.step == svc.STEP_PICK_ITEM:
        ids = svc.draft_choices(draft)
        item = session.get(Item, draft.item_id)
        rows = reportable_items(session, item.agency_id, date.min) if item is not None else []
        by_id = {r.item_id: r for r in rows}
        choices = tuple(by_id[i] for i in ids if i in by_id)
    item = session.get(Item, draft.item_id)
    target = target_for_item(session, item) if item is not None else None
    return Form(DraftView.of(draft), _row(session, draft.item_id), hint, choices,
                TargetRow.of(target, None) if target is not None else None)


def _card(session: Session, report: Report) -> Card:
    assert report.id is not None
    item = session.get(Item, report.item_id)
    agency = session.get(Agency, item.agency_id) if item else None
    author = session.get(Member, report.member_id)
    return Card(report, _row(session, report.item_id), agency.name if agency else "?",
                author.full_name if author else "?", svc.evidence_of(session, report.id),
                reported_value(session, report.id),
                tuple(contrib.for_items(session, [report.item_id]).get(report.item_id, ())))


# --------------------------------------------------------------------------- /report, buttons


def begin(engine: Engine, actor: Actor, item_id: int, clock: Clock, *, force: bool) -> Form | Elsewhere:
    """A reminder's or the list's button: start (or go on with) a report on ``item_id``;
    ``force`` (the "discard and report on the other item" button) replaces any draft."""
    with session_scope(engine) as session:
        member = member_of(session, actor)
        draft, _expired = svc.active_draft(session, member, now=clock.now, timeout=clock.timeout)
        if draft is not None and draft.step != svc.STEP_RETURN and not force:
            if draft.item_id == item_id:
                return _form(session, draft)
            row = item_row(session, draft.item_id)
            if row is not None:
                return Elsewhere(DraftView.of(draft), row, item_id)
        return _form(session, svc.start_draft(session, member, item_id, now=clock.now))


def report_menu(engine: Engine, actor: Actor, clock: Clock, *, code: str = "",
                page: int = 0) -> Menu | Elsewhere | Form:
    """/report: the draft in progress, or the items the agency may report on (a page of them);
    ``/report <code>`` opens that task's form, or asks which period when several are owed."""
    with session_scope(engine) as session:
        member = member_of(session, actor)
        draft, expired = svc.active_draft(session, member, now=clock.now, timeout=clock.timeout)
        require(actor, Action.REPORT)
        if actor.agency_id is None:
            raise NotAllowed("no_agency")
        rows = reportable_items(session, actor.agency_id, clock.today)
        named = [r for r in rows if same_code(code, r.code)] if code else []
        if draft is not None and draft.step not in (svc.STEP_RETURN, svc.STEP_PICK_ITEM):
            row = item_row(session, draft.item_id)
            if row is not None and not (len(named) == 1 and named[0].item_id == draft.item_id):
                return Elsewhere(DraftView.of(draft), row, named[0].item_id if len(named) == 1 else None)
            if row is not None:
                return _form(session, draft)
        if len(named) == 1:
            return _form(session, svc.start_draft(session, member, named[0].item_id, now=clock.now))
        if named:
            return Menu(named, expired, code=named[0].code)
        return Menu(rows, expired, page=page, unknown=code)


_STATES = {"done": "done", "prog": "in_progress", "blk": "blocked"}


def press(engine: Engine, actor: Actor, draft_id: int, step: str, action: str,
          clock: Clock, *, coordination: bool = False) -> Form | Cancelled | Sent:
    """One of a draft's buttons; the step it was shown at must be the draft's step.
    ``coordination``: a done report tells the task's coordinating agencies."""
    if action == "ok":
        return _submit(engine, actor, draft_id, step, clock, coordination)
    with session_scope(engine) as session:
        member = member_of(session, actor)
        draft = svc.draft_for(session, member, draft_id, now=clock.now, timeout=clock.timeout)
        if action == "cancel":
            svc.cancel_draft(session, member, draft_id)
            return Cancelled(True, button=True)
        if action == "show":
            return _form(session, draft)
        if draft.step != step or step == svc.STEP_RETURN:
            raise svc.Changed("step")
        return _form(session, _apply(session, member, draft, action, clock))


def _apply(session: Session, member: Member, draft: ReportDraft, action: str, clock: Clock) -> ReportDraft:
    assert draft.id is not None
    now, limit = clock.now, clock.timeout
    if draft.step == svc.STEP_PICK_ITEM and action.startswith("i") and action[1:].isdigit():
        return svc.pick_item(session, member, draft.id, int(action[1:]), now=now, timeout=limit)
    if draft.step == svc.STEP_PICK_STATE and action in _STATES:
        return svc.pick_state(session, member, draft.id, _STATES[action], now=now, timeout=limit)
    if draft.step == svc.STEP_STATE and action in _STATES:
        return svc.set_state(session, member, draft.id, _STATES[action], now=now, timeout=limit)
    if draft.step == svc.STEP_PERCENT and action.isdigit():
        return svc.set_percent(session, member, draft.id, int(action), now=now, timeout=limit)
    if draft.step == svc.STEP_VALUE and action in ("vkeep", "vskip"):
        return svc.keep_target_value(session, member, draft.id, keep=action == "vkeep", now=now,
                                     timeout=limit)
    if action == "keep":
        return svc.keep_note(session, member, draft.id, now=now, timeout=limit)
    if action == "next":
        return svc.finish_evidence(session, member, draft.id, now=now, timeout=limit)
    if action == "clear":
        return svc.clear_evidence(session, member, draft.id, now=now, timeout=limit)
    if action == "edit":
        return svc.restart_draft(session, member, draft.id, now=now, timeout=limit)
    raise svc.Changed("action")


def _submit(engine: Engine, actor: Actor, draft_id: int, step: str, clock: Clock,
            coordination: bool = False) -> Sent:
    """Send: the draft becomes the item's next version (one transaction, retried on a race)."""
    if step != svc.STEP_REVIEW:
        raise svc.Changed("step")

    def work(session: Session) -> Sent:
        member = member_of(session, actor)
        result = svc.submit(session, member, draft_id, now=clock.now, timeout=clock.timeout,
                            today=clock.today, tell_coordinating=coordination)
        assert result.item.id is not None
        pending = result.report.review_state == ReviewState.PENDING.value
        return Sent(result.report.version, result.item.state, result.report.percent, result.report.state,
                    result.overtook, _row(session, result.item.id), pending)
    return svc.with_retry(engine, work)


# --------------------------------------------------------------------------- typed text, files


@dataclass(frozen=True)
class Returned:
    """A coordinator's typed reason: the report went back."""

    row: ItemRow
    reason: str
    left: int
    told: int


def take_text(engine: Engine, actor: Actor, text: str, clock: Clock, *,
              replied: tuple[int, ...] = ()) -> Form | Refused | NoDraft | Returned | Menu | ContribView:
    """Typed text: the answer to the report draft's question (or a coordinator's reason for
    returning a report); with no draft, or at a step that takes buttons, a report in the
    officer's own words ("3.1b xong", "4.2a đang làm 60%"; ``replied``: the items of the reminder
    the message answers)."""
    with session_scope(engine) as session:
        member = member_of(session, actor)
        draft, expired = svc.active_draft(session, member, now=clock.now, timeout=clock.timeout)
        pending = _contribution(session, member, draft, clock)
        if pending is not None:
            try:
                return contrib.take_text(session, actor, pending, text, clock.now)
            except svc.ReportError as error:
                session.rollback()
                return Refused(error, len(text.strip()))
        if draft is not None and draft.step == svc.STEP_RETURN:
            try:
                return _typed_return(session, actor, member, text, clock)
            except svc.ReportError as error:
                session.rollback()
                return Refused(error, len(text.strip()))
        if draft is None or draft.step in (svc.STEP_STATE, svc.STEP_REVIEW, svc.STEP_PICK_ITEM,
                                           svc.STEP_PICK_STATE):
            said = _words(session, actor, member, text, clock, _meant(draft, replied))
            if said is not None:
                return said
            if draft is None:
                return NoDraft(expired)
            return _form(session, draft, "use_buttons")
        draft_id = draft.id
        assert draft_id is not None
        now, limit = clock.now, clock.timeout
        typed_steps = (svc.STEP_PERCENT, svc.STEP_VALUE, svc.STEP_EVIDENCE)
        if draft.step in typed_steps and _names_a_task(session, actor, text, clock):
            # "4.2a đang làm 60%" where a number was asked: a new report in the officer's words.
            said = _words(session, actor, member, text, clock, _meant(draft, replied))
            if said is not None:
                return said
        try:
            if draft.step == svc.STEP_PERCENT:
                draft = svc.set_percent(session, member, draft_id, svc.parse_percent(text), now=now,
                                        timeout=limit)
            elif draft.step in (svc.STEP_NOTE, svc.STEP_REASON):
                draft = svc.set_note(session, member, draft_id, text, now=now, timeout=limit)
            elif draft.step == svc.STEP_VALUE:
                draft = svc.set_target_value(session, member, draft_id, text, now=now, timeout=limit)
            elif draft.step == svc.STEP_EVIDENCE:
                draft = svc.set_document_number(session, member, draft_id, text, now=now, timeout=limit)
            else:
                return _form(session, draft, "use_buttons")
        except svc.ReportError as error:
            session.rollback()
            return Refused(error, len(text.strip()))
        return _form(session, draft)


def _contribution(session: Session, member: Member, draft: ReportDraft | None,
                  clock: Clock) -> ContributionDraft | None:
    """The contribution draft a typed message or file goes to: the member's open one, unless a
    report draft was touched after it. Read in the report flow's own transaction, so a focal
    point's typed step still costs one thread hop."""
    pending = contrib.open_draft(session, member, clock.now, clock.timeout)
    if pending is None or (draft is not None and draft.updated_at > pending.updated_at):
        return None
    return pending


def _meant(draft: ReportDraft | None, replied: tuple[int, ...]) -> tuple[int, ...]:
    """The items a message is about when it names a code owed in several periods: the reminder
    it replies to, or the open form's item."""
    if replied:
        return replied
    return (draft.item_id,) if draft is not None and draft.step != svc.STEP_PICK_ITEM else ()


def _names_a_task(session: Session, actor: Actor, text: str, clock: Clock) -> bool:
    """Whether ``text`` names one of the agency's tasks and says something about it."""
    if actor.agency_id is None:
        return False
    codes = sorted({r.code for r in reportable_items(session, actor.agency_id, clock.today)})
    parsed = parse_report(text, codes)
    return parsed.code is not None and (parsed.state is not None or parsed.percent is not None
                                        or parsed.ambiguity(AmbiguityKind.PERCENT_CONFLICT) is not None)


def _says_a_report(parsed: ParsedReport) -> bool:
    """A code, a state, a percent, or a doubt between things it named: a report, not a greeting
    or a question (for which the parser finds no code and "any state")."""
    named_states = [a for a in parsed.ambiguities
                    if a.kind == AmbiguityKind.STATE_UNCLEAR and len(a.options) < len(STATES)]
    doubts = {a.kind for a in parsed.ambiguities} - {AmbiguityKind.NO_CODE, AmbiguityKind.STATE_UNCLEAR}
    return (parsed.code is not None or parsed.state is not None or parsed.percent is not None
            or bool(doubts) or bool(named_states) or bool(parsed.unknown_codes))


def _words(session: Session, actor: Actor, member: Member, text: str, clock: Clock,
           replied: tuple[int, ...]) -> Form | Refused | Menu | None:
    """A draft from a message in the officer's own words; None: the message is no report."""
    if not allows(actor, Action.REPORT) or actor.agency_id is None:
        return None
    rows = reportable_items(session, actor.agency_id, clock.today)
    implied = [r for r in rows if r.item_id in replied]
    implied_code = implied[0].code if implied and len({r.code for r in implied}) == 1 else None
    parsed = parse_report(text, sorted({r.code for r in rows}), implied_code=implied_code)
    if not _says_a_report(parsed):
        return None
    candidates = _candidates(parsed, rows, implied)
    if not candidates:
        return Menu(rows, unknown=(parsed.unknown_codes or ("?",))[0])
    doubt = {a.kind for a in parsed.ambiguities}
    state = parsed.state
    if doubt & {AmbiguityKind.STATE_UNCLEAR, AmbiguityKind.PERCENT_CONFLICT}:
        state = None
    words = svc.Words(state, parsed.percent, parsed.reason if state == "blocked" else parsed.note,
                      parsed.document_number, parsed.documents[0].date if parsed.documents else None)
    try:
        draft = svc.draft_from_words(session, member, [r.item_id for r in candidates][:MAX_CHOICES], words,
                                     now=clock.now)
    except svc.ReportError as error:
        session.rollback()
        return Refused(error, len(text.strip()))
    return _form(session, draft)


def _candidates(parsed: ParsedReport, rows: list[ItemRow], implied: list[ItemRow]) -> list[ItemRow]:
    """The items the message may mean: its code's (in every period owed), the reminder's it
    answers, the codes it could mean; with no code at all, every item still open."""
    if parsed.code is not None:
        if implied and all(r.code == parsed.code for r in implied):
            return implied
        return [r for r in rows if r.code == parsed.code]
    for kind in (AmbiguityKind.SEVERAL_CODES, AmbiguityKind.UNKNOWN_CODE):
        doubt = parsed.ambiguity(kind)
        if doubt is not None:
            return [r for r in rows if r.code in doubt.options]
    if parsed.ambiguity(AmbiguityKind.NO_CODE) is not None and not parsed.unknown_codes:
        return [r for r in rows if r.is_open] or rows
    return []


def _typed_return(session: Session, actor: Actor, member: Member, text: str, clock: Clock) -> Returned:
    report = svc.return_from_draft(session, member, text, now=clock.now, timeout=clock.timeout)
    item = session.get(Item, report.item_id)
    assert item is not None
    told = len(svc.focal_points(session, item.agency_id))
    left = len(svc.review_queue_for(session, actor))
    return Returned(_row(session, report.item_id), report.review_reason, left, told)


def take_file(engine: Engine, actor: Actor, file: EvidenceFile,
              clock: Clock) -> Form | Refused | NoDraft | ContribView:
    """A document or photo: evidence for the draft at its evidence step (or the document of a
    contribution being written)."""
    with session_scope(engine) as session:
        member = member_of(session, actor)
        draft, expired = svc.active_draft(session, member, now=clock.now, timeout=clock.timeout)
        pending = _contribution(session, member, draft, clock)
        if pending is not None:
            try:
                return contrib.take_file(session, actor, pending, file, clock.now)
            except svc.ReportError as error:
                session.rollback()
                return Refused(error)
        if draft is None or draft.step == svc.STEP_RETURN:
            return NoDraft(expired, file=True)
        if draft.step != svc.STEP_EVIDENCE:
            return NoDraft(False, file=True, wrong_step=True)
        assert draft.id is not None
        try:
            draft = svc.add_evidence(session, member, draft.id, file, now=clock.now, timeout=clock.timeout)
        except svc.ReportError as error:
            session.rollback()
            return Refused(error)
        return _form(session, draft)


def cancel(engine: Engine, actor: Actor) -> Cancelled:
    """/cancel: discard the member's report draft (and a contribution being written)."""
    with session_scope(engine) as session:
        member = member_of(session, actor)
        contributing = contrib.cancel(session, member)
        return Cancelled(svc.cancel_draft(session, member) or contributing)


# --------------------------------------------------------------------------- /tasks


def tasks(engine: Engine, actor: Actor, page: int, today: date) -> TasksList:
    """A page of what the member's agency owes in the open periods, most urgent first."""
    with session_scope(engine) as session:
        member_of(session, actor)
        if actor.agency_id is None:
            raise NotAllowed("no_agency")
        agency = session.get(Agency, actor.agency_id)
        found = items_for_agency(session, actor.agency_id, today, page=page, page_size=TASKS_PAGE_SIZE)
        return TasksList(agency.name if agency else "?", found, TASKS_PAGE_SIZE)


def task_card(engine: Engine, actor: Actor, item_id: int, page: int) -> TaskCard:
    """One item with its current report: its agency's members, and anyone whose scope holds it."""
    with session_scope(engine) as session:
        member_of(session, actor)
        item = session.get(Item, item_id)
        if item is None or item.id is None or not svc.may_view(session, actor, item):
            raise NotAllowed("item")
        agency = session.get(Agency, item.agency_id)
        report = svc.current_report(session, item.id)
        card = _card(session, report) if report is not None else None
        can_report = svc.may_report(actor, item) and item.state != ItemState.VERIFIED.value
        return TaskCard(_row(session, item.id), agency.name if agency else "?", card, can_report, page)


# --------------------------------------------------------------------------- /review


def review(engine: Engine, actor: Actor, page: int = 0) -> ReviewScreen:
    """The reports waiting for verification in the actor's scope: a verifier gets the oldest one
    (with its files); someone who may only look gets a page of them."""
    with session_scope(engine) as session:
        queue = svc.review_queue_for(session, actor)
        if svc.may_review(actor):
            return ReviewScreen(len(queue), True, [_card(session, queue[0])] if queue else [])
        pages = max(1, -(-len(queue) // REVIEW_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        shown = queue[page * REVIEW_PAGE_SIZE:(page + 1) * REVIEW_PAGE_SIZE]
        return ReviewScreen(len(queue), False, [_card(session, r) for r in shown], page, pages)


def decide(engine: Engine, actor: Actor, report_id: int, version: int, action: str,
           clock: Clock) -> Decided:
    """Approve (``a``) or start returning (``r``) one version, inside the actor's scope."""
    with session_scope(engine) as session:
        member = member_of(session, actor)
        if action == "a":
            report = svc.approve(session, member, report_id, version, now=clock.now, who=actor)
            left = len(svc.review_queue_for(session, actor))
            return Decided("approved", _row(session, report.item_id), version, left=left)
        if action == "r":
            svc.start_return(session, member, report_id, version, now=clock.now, who=actor)
            return Decided("asking")
        raise NotAllowed("action")

