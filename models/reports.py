"""Reports: the draft a focal point writes step by step, its submission as a new version, and the
coordinators' review. Pure database work (no Telegram): handlers call these and translate.

The draft lives in ``report_draft`` (one per member), so every step reads it from the database:
a restart or another instance in the middle of a report loses nothing.

Steps: state -> (percent | reason) -> note -> [value] -> evidence -> review -> sent. A blocked
report's reason is its note, so "reason" replaces the note step. "value" is asked only when the
item's task has a numeric target for the item's year (models/targets.py), and not of a blocked
report; a done report must give it, an unfinished one may skip it. Coordinators use the same table for the
one-step "return" draft (the reason they are typing for sending a report back).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from domain.access import Action, Actor, NotAllowed, Scope, allows, require, scope_of
from domain.docnumber import find_document_numbers
from domain.targets import TargetInputError, parse_value
from domain.text import normalize, scrub
from models.coordination import tell_report
from models.db import session_scope
from models.ledger import (
    queue_blocked_notices,
    queue_returned_notices,
    queue_review_notices,
    queue_verified_notices,
)
from models.members import actor_of
from models.rollup import in_scope, scope_agency_ids
from models.tables import (
    AuditLog,
    Evidence,
    Item,
    ItemState,
    Member,
    MemberRole,
    Report,
    ReportDraft,
    ReportState,
    ReviewState,
)
from models.targets import last_value, record_report_value, target_for_item

R = TypeVar("R")

# The plan's time zone: the local day a report was sent when the caller names none.
PLAN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

STEP_STATE = "state"
STEP_PERCENT = "percent"
STEP_REASON = "reason"
STEP_NOTE = "note"
STEP_VALUE = "value"  # the value reached against the task's numeric target
STEP_EVIDENCE = "evidence"
STEP_REVIEW = "review"
STEP_SENT = "sent"
STEP_RETURN = "return"  # a coordinator typing why a report goes back
# A report in the officer's words asks what it could not tell: which item, which state.
STEP_PICK_ITEM = "pick_item"
STEP_PICK_STATE = "pick_state"
STEPS = (STEP_PICK_ITEM, STEP_PICK_STATE, STEP_STATE, STEP_PERCENT, STEP_REASON, STEP_NOTE, STEP_VALUE,
         STEP_EVIDENCE, STEP_REVIEW, STEP_RETURN)

MAX_NOTE = 1000
MAX_DOCUMENT_NUMBER = 64
MAX_FILES = 20
MAX_FILE_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = timedelta(minutes=120)
ALLOWED_EXTENSIONS = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "odt", "jpg", "jpeg", "png", "zip"})
ALLOWED_MIME = frozenset({
    "application/pdf", "application/msword", "application/vnd.ms-excel", "application/zip",
    "application/x-zip-compressed", "application/vnd.oasis.opendocument.text", "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
})
# "123/BC-UBND", "45/2026/QĐ-UBND" (an optional leading "Số"/"No." is dropped).
_DOCUMENT_NUMBER = re.compile(r"^\d+(?:/[\w.\-]+)+$")
_NUMBER_PREFIX = re.compile(r"^(?:số|so|no\.?)\s*[:.]?\s*", re.IGNORECASE)

ITEM_STATE_BY_REPORT = {
    ReportState.DONE.value: ItemState.REPORTED.value,
    ReportState.IN_PROGRESS.value: ItemState.IN_PROGRESS.value,
    ReportState.BLOCKED.value: ItemState.BLOCKED.value,
}


# --------------------------------------------------------------------------- errors


class ReportError(Exception):
    """A refused action; ``code`` tells the handler what to say."""

    code = "error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


# Refusals of who may do what are the access policy's one exception, domain.access.NotAllowed
# (re-exported here: ``reports.NotAllowed``).



class Changed(ReportError):
    """The button or message refers to something that has moved on (stale, expired, replaced)."""

    code = "changed"


class AlreadySent(ReportError):
    code = "already_sent"


class AlreadyVerified(ReportError):
    code = "verified"


class Invalid(ReportError):
    """Bad input; ``detail`` names the rule (note_too_long, percent, document_number, ...)."""

    code = "invalid"


# --------------------------------------------------------------------------- who may do what
# Every question is the access policy's (domain.access); these name the item-level checks.


def actor(session: Session, member: Member) -> Actor:
    """The policy's view of ``member`` (its agency's standing looked up once)."""
    return actor_of(session, member)


def may_report(who: Actor, item: Item | None) -> bool:
    """Focal points (and admins) of the agency that owes the item."""
    return (item is not None and allows(who, Action.REPORT) and who.agency_id is not None
            and who.agency_id == item.agency_id)


def may_review(who: Actor) -> bool:
    return allows(who, Action.REVIEW)


def may_view(session: Session, who: Actor, item: Item | None) -> bool:
    """An item is seen by its agency's members and by anyone whose scope holds its agency."""
    if item is None or (not who.is_member and not who.is_admin):
        return False
    if who.agency_id is not None and who.agency_id == item.agency_id:
        return True
    scope = scope_of(who)
    return scope is not None and in_scope(session, scope, item.agency_id)


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class EvidenceFile:
    kind: str  # document | photo
    file_id: str
    file_unique_id: str = ""
    file_name: str = ""
    mime_type: str = ""
    file_size: int | None = None


def check_file(file: EvidenceFile) -> None:
    """Raise :class:`Invalid` unless the file is an accepted document or photo up to 20 MB."""
    if file.file_size is not None and not 0 <= file.file_size <= MAX_FILE_BYTES:
        raise Invalid("file_size")
    if file.kind == "photo":
        return
    if file.kind != "document":
        raise Invalid("file_type")
    extension = file.file_name.rsplit(".", 1)[-1].lower() if "." in file.file_name else ""
    if extension in ALLOWED_EXTENSIONS or (not extension and file.mime_type in ALLOWED_MIME):
        return
    raise Invalid("file_type")


def draft_files(draft: ReportDraft) -> list[EvidenceFile]:
    return [EvidenceFile(**entry) for entry in json.loads(draft.evidence or "[]")]


def _store_files(draft: ReportDraft, files: list[EvidenceFile]) -> None:
    draft.evidence = json.dumps([asdict(f) for f in files], ensure_ascii=False)


def read_document(text: str) -> tuple[str, date | None]:
    """The document number cited in ``text`` and its date: found inside a sentence by the pattern
    of Decree 30/2020 (``"Số 125/BC-SYT ngày 20/12/2026"`` -> ``("125/BC-SYT", 2026-12-20)``: the
    date after it is the document's, never glued into the number); else a bare number in the
    looser shape people type (``"Số 123 / 2026"`` -> ``"123/2026"``). :class:`Invalid` if none."""
    clean = normalize(text, what="document number")
    found = find_document_numbers(clean)
    if found:
        return found[0].number, found[0].date
    value = _NUMBER_PREFIX.sub("", " ".join(clean.split()))
    value = re.sub(r"\s*/\s*", "/", value)
    if not value or " " in value or len(value) > MAX_DOCUMENT_NUMBER or not _DOCUMENT_NUMBER.match(value):
        raise Invalid("document_number")
    return value, None


def normalize_document_number(text: str) -> str:
    """The number :func:`read_document` finds in ``text``."""
    return read_document(text)[0]


# --------------------------------------------------------------------------- reports (read)


def current_report(session: Session, item_id: int) -> Report | None:
    """The latest version: it is what the item's state reflects."""
    query = select(Report).where(Report.item_id == item_id).order_by(col(Report.version).desc())
    return session.exec(query.limit(1)).first()


def history(session: Session, item_id: int) -> list[Report]:
    """Every version, oldest first."""
    return list(session.exec(select(Report).where(Report.item_id == item_id)
                             .order_by(col(Report.version))))


def evidence_of(session: Session, report_id: int) -> list[Evidence]:
    return list(session.exec(select(Evidence).where(Evidence.report_id == report_id)
                             .order_by(col(Evidence.id))))


def _max_version(session: Session, item_id: int) -> int:
    found = session.exec(select(func.max(Report.version)).where(Report.item_id == item_id)).one()
    return int(found or 0)


# --------------------------------------------------------------------------- drafts


def _expired(draft: ReportDraft, now: datetime, timeout: timedelta) -> bool:
    return draft.updated_at + timeout < now


def active_draft(session: Session, member: Member, *, now: datetime,
                 timeout: timedelta = DEFAULT_TIMEOUT) -> tuple[ReportDraft | None, bool]:
    """The member's draft in progress, and whether one just expired (and was discarded)."""
    draft = session.exec(select(ReportDraft).where(ReportDraft.member_id == member.id)).first()
    if draft is None or draft.step == STEP_SENT:
        return None, False
    if _expired(draft, now, timeout):
        session.delete(draft)
        session.flush()
        return None, True
    return draft, False


def _load(session: Session, member: Member, draft_id: int, steps: tuple[str, ...], *,
          now: datetime, timeout: timedelta) -> ReportDraft:
    """The member's draft ``draft_id`` if it is at one of ``steps``; otherwise why not."""
    draft = session.get(ReportDraft, draft_id)
    if draft is None:
        raise Changed("no_draft")
    if draft.member_id != member.id or not member.active:
        raise NotAllowed("not_yours")
    if draft.step == STEP_SENT:
        raise AlreadySent()
    if _expired(draft, now, timeout):
        raise Changed("expired")  # active_draft() discards it
    if draft.step not in steps:
        raise Changed("step")
    return draft


def _item_for(session: Session, member: Member, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if not may_report(actor(session, member), item):
        raise NotAllowed("item")
    assert item is not None
    if item.state == ItemState.VERIFIED.value:
        raise AlreadyVerified()
    return item


def start_draft(session: Session, member: Member, item_id: int, *, now: datetime) -> ReportDraft:
    """A new draft for ``item_id`` (replacing the member's old one), prefilled from the current
    version so an edit or a resubmission starts from what was sent."""
    item = _item_for(session, member, item_id)
    old = session.exec(select(ReportDraft).where(ReportDraft.member_id == member.id)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    assert member.id is not None and item.id is not None
    draft = ReportDraft(member_id=member.id, item_id=item.id, step=STEP_STATE, updated_at=now)
    last = current_report(session, item.id)
    if last is not None:
        assert last.id is not None
        draft.state, draft.percent, draft.note = last.state, last.percent, last.note
        draft.document_number, draft.base_version = last.document_number, last.version
        draft.document_date = last.document_date
        draft.target_value = last_value(session, last.id)
        _store_files(draft, [EvidenceFile(e.kind, e.file_id, e.file_unique_id, e.file_name,
                                          e.mime_type, e.file_size)
                             for e in evidence_of(session, last.id)])
    session.add(draft)
    session.flush()
    return draft


def draft_for(session: Session, member: Member, draft_id: int, *, now: datetime,
              timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """The member's draft at any step (for showing it again)."""
    return _load(session, member, draft_id, STEPS, now=now, timeout=timeout)


def _advance(draft: ReportDraft, step: str, now: datetime) -> ReportDraft:
    draft.step = step
    draft.updated_at = now
    return draft


def set_state(session: Session, member: Member, draft_id: int, state: str, *, now: datetime,
              timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """done -> note; in progress -> percent; blocked -> reason."""
    if state not in ITEM_STATE_BY_REPORT:
        raise Invalid("state")
    draft = _load(session, member, draft_id, (STEP_STATE,), now=now, timeout=timeout)
    if state != draft.state:
        draft.percent = None
    draft.state = state
    following = {ReportState.DONE.value: STEP_NOTE, ReportState.IN_PROGRESS.value: STEP_PERCENT,
                 ReportState.BLOCKED.value: STEP_REASON}[state]
    return _advance(draft, following, now)


def parse_percent(text: str) -> int:
    value = text.strip().rstrip("%").strip()
    if not value.isdigit() or not 0 <= int(value) <= 99:
        raise Invalid("percent")
    return int(value)


def set_percent(session: Session, member: Member, draft_id: int, percent: int, *, now: datetime,
                timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    if not 0 <= percent <= 99:
        raise Invalid("percent")
    draft = _load(session, member, draft_id, (STEP_PERCENT,), now=now, timeout=timeout)
    draft.percent = percent
    return _advance(draft, STEP_NOTE, now)


def _check_text(text: str, *, required: bool) -> str:
    value = normalize(text, what="note").strip()  # the limit counts what is stored
    if len(value) > MAX_NOTE:
        raise Invalid("note_too_long")
    if required and not value:
        raise Invalid("note_empty")
    return value


def set_note(session: Session, member: Member, draft_id: int, text: str, *, now: datetime,
             timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """The note (or a blocked report's reason, which must not be empty), then evidence."""
    draft = _load(session, member, draft_id, (STEP_NOTE, STEP_REASON), now=now, timeout=timeout)
    draft.note = _check_text(text, required=draft.step == STEP_REASON)
    return _advance(draft, _after_note(session, draft), now)


def keep_note(session: Session, member: Member, draft_id: int, *, now: datetime,
              timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """Go on with the prefilled note (or none)."""
    draft = _load(session, member, draft_id, (STEP_NOTE, STEP_REASON), now=now, timeout=timeout)
    if draft.step == STEP_REASON and not draft.note.strip():
        raise Invalid("note_empty")
    return _advance(draft, _after_note(session, draft), now)


def asks_value(session: Session, draft: ReportDraft) -> str | None:
    """The unit of the value the draft's report must (or may) give; None: it gives none (no
    target for the item's year, or a blocked report)."""
    if draft.state == ReportState.BLOCKED.value:
        return None
    item = session.get(Item, draft.item_id)
    target = target_for_item(session, item) if item is not None else None
    return target.unit if target is not None else None


def _after_note(session: Session, draft: ReportDraft) -> str:
    return STEP_VALUE if asks_value(session, draft) is not None else STEP_EVIDENCE


def set_target_value(session: Session, member: Member, draft_id: int, text: str, *, now: datetime,
                     timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """The value reached ("75", "đạt 75%"), checked against the target's unit, then evidence."""
    draft = _load(session, member, draft_id, (STEP_VALUE,), now=now, timeout=timeout)
    unit = asks_value(session, draft)
    if unit is None:
        raise Changed("target")
    try:
        draft.target_value = parse_value(normalize(text, what="value"), unit)
    except TargetInputError as error:
        raise Invalid(f"value_{error.code}") from None
    return _advance(draft, STEP_EVIDENCE, now)


def keep_target_value(session: Session, member: Member, draft_id: int, *, keep: bool, now: datetime,
                      timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """Go on with the prefilled value (``keep``), or without one: only a report not done may
    skip it."""
    draft = _load(session, member, draft_id, (STEP_VALUE,), now=now, timeout=timeout)
    if keep and draft.target_value is None:
        raise Changed("value")
    if not keep:
        if draft.state == ReportState.DONE.value:
            raise Invalid("value_needed")
        draft.target_value = None
    return _advance(draft, STEP_EVIDENCE, now)


def add_evidence(session: Session, member: Member, draft_id: int, file: EvidenceFile, *,
                 now: datetime, timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    # Telegram's file name and type: nothing the person can fix here, so cleaned, not refused.
    file = replace(file, file_name=scrub(file.file_name)[:255], mime_type=scrub(file.mime_type)[:128])
    check_file(file)
    draft = _load(session, member, draft_id, (STEP_EVIDENCE,), now=now, timeout=timeout)
    files = draft_files(draft)
    if any(f.file_unique_id and f.file_unique_id == file.file_unique_id for f in files):
        return _advance(draft, STEP_EVIDENCE, now)  # the same file twice counts once
    if len(files) >= MAX_FILES:
        raise Invalid("too_many_files")
    _store_files(draft, [*files, file])
    return _advance(draft, STEP_EVIDENCE, now)


def clear_evidence(session: Session, member: Member, draft_id: int, *, now: datetime,
                   timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    draft = _load(session, member, draft_id, (STEP_EVIDENCE,), now=now, timeout=timeout)
    _store_files(draft, [])
    draft.document_number, draft.document_date = "", None
    return _advance(draft, STEP_EVIDENCE, now)


def set_document_number(session: Session, member: Member, draft_id: int, text: str, *,
                        now: datetime, timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    number, dated = read_document(text)
    draft = _load(session, member, draft_id, (STEP_EVIDENCE,), now=now, timeout=timeout)
    draft.document_number, draft.document_date = number, dated
    return _advance(draft, STEP_EVIDENCE, now)


def finish_evidence(session: Session, member: Member, draft_id: int, *, now: datetime,
                    timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """To review; a done report needs a document number or at least one file."""
    draft = _load(session, member, draft_id, (STEP_EVIDENCE,), now=now, timeout=timeout)
    if draft.state == ReportState.DONE.value and not draft.document_number and not draft_files(draft):
        raise Invalid("no_evidence")
    return _advance(draft, STEP_REVIEW, now)


def restart_draft(session: Session, member: Member, draft_id: int, *, now: datetime,
                  timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """"Change" on the review: back to the first step, keeping what was entered."""
    draft = _load(session, member, draft_id, (STEP_REVIEW,), now=now, timeout=timeout)
    return _advance(draft, STEP_STATE, now)


def cancel_draft(session: Session, member: Member, draft_id: int | None = None) -> bool:
    """Discard the member's draft (only ``draft_id`` if given); False if there was none."""
    query = select(ReportDraft).where(ReportDraft.member_id == member.id,
                                      col(ReportDraft.step) != STEP_SENT)
    if draft_id is not None:
        query = query.where(ReportDraft.id == draft_id)
    draft = session.exec(query).first()
    if draft is None:
        return False
    session.delete(draft)
    session.flush()
    return True


# --------------------------------------------------------------------------- in the officer's words


@dataclass(frozen=True)
class Words:
    """What one message said (``domain.report_text``): empty fields said nothing."""

    state: str | None = None
    percent: int | None = None
    note: str = ""
    document_number: str = ""
    document_date: date | None = None


def draft_choices(draft: ReportDraft) -> list[int]:
    return [int(i) for i in json.loads(draft.choices or "[]")]


def _overlay(draft: ReportDraft, words: Words) -> None:
    if words.state is not None:
        if words.state != draft.state:
            draft.percent = None
        draft.state = words.state
    if words.percent is not None:
        draft.percent = words.percent
    if words.note:
        draft.note = _check_text(words.note, required=False)
    if words.document_number:
        draft.document_number, draft.document_date = words.document_number, words.document_date


def _next_step(session: Session, draft: ReportDraft, state_said: bool) -> str:
    """The first question the words left open; the review when none is."""
    if not state_said or draft.state is None:
        return STEP_PICK_STATE
    if draft.state == ReportState.IN_PROGRESS.value and draft.percent is None:
        return STEP_PERCENT
    if draft.state == ReportState.BLOCKED.value and not draft.note.strip():
        return STEP_REASON
    if draft.target_value is None and asks_value(session, draft) is not None:
        return STEP_VALUE
    if draft.state == ReportState.DONE.value and not draft.document_number and not draft_files(draft):
        return STEP_EVIDENCE
    return STEP_REVIEW


def draft_from_words(session: Session, member: Member, item_ids: list[int], words: Words, *,
                     now: datetime) -> ReportDraft:
    """A draft from a message: on the one item it names (prefilled from that item's current
    version, the words on top), or asking which of ``item_ids`` it means."""
    if not item_ids:
        raise Changed("no_item")
    if len(item_ids) == 1:
        draft = start_draft(session, member, item_ids[0], now=now)
        _overlay(draft, words)
        draft.choices = ""
        draft.step = _next_step(session, draft, words.state is not None)
        session.add(draft)
        session.flush()
        return draft
    for item_id in item_ids:
        _item_for(session, member, item_id)
    old = session.exec(select(ReportDraft).where(ReportDraft.member_id == member.id)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    assert member.id is not None
    draft = ReportDraft(member_id=member.id, item_id=item_ids[0], step=STEP_PICK_ITEM, updated_at=now,
                        choices=json.dumps(item_ids))
    _overlay(draft, words)
    session.add(draft)
    session.flush()
    return draft


def pick_item(session: Session, member: Member, draft_id: int, item_id: int, *, now: datetime,
              timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """The item a message meant, out of the ones it offered."""
    draft = _load(session, member, draft_id, (STEP_PICK_ITEM,), now=now, timeout=timeout)
    if item_id not in draft_choices(draft):
        raise Changed("choice")
    words = Words(draft.state, draft.percent, draft.note, draft.document_number, draft.document_date)
    return draft_from_words(session, member, [item_id], words, now=now)


def pick_state(session: Session, member: Member, draft_id: int, state: str, *, now: datetime,
               timeout: timedelta = DEFAULT_TIMEOUT) -> ReportDraft:
    """The state a message did not make clear."""
    if state not in ITEM_STATE_BY_REPORT:
        raise Invalid("state")
    draft = _load(session, member, draft_id, (STEP_PICK_STATE,), now=now, timeout=timeout)
    if state != ReportState.IN_PROGRESS.value:
        draft.percent = None
    draft.state = state
    return _advance(draft, _next_step(session, draft, True), now)


# --------------------------------------------------------------------------- submitting


@dataclass(frozen=True)
class SubmitResult:
    report: Report
    item: Item
    # Someone else sent a version after this draft was started (theirs stays in the history).
    overtook: bool


def _lock_item(session: Session, item_id: int) -> Item:
    """The item row, locked until commit: FOR UPDATE on PostgreSQL. On SQLite, a write that
    changes nothing takes the database's write lock first: Python's sqlite3 begins the
    transaction only at the first write, so without it two updates handled at once would both
    read "pending" (outside any transaction) and both approve."""
    if session.get_bind().dialect.name == "sqlite":
        table = Item.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.id == item_id).values(id=table.c.id))
    query = select(Item).where(Item.id == item_id).with_for_update()
    item = session.exec(query.execution_options(populate_existing=True)).one()
    return item


def submit(session: Session, member: Member, draft_id: int, *, now: datetime,
           timeout: timedelta = DEFAULT_TIMEOUT, today: date | None = None,
           tell_coordinating: bool = False) -> SubmitResult:
    """Store the draft as the item's next version and move the item's state, in one transaction.

    A done report sets the item's ``completed_on`` to ``today`` (the bot's local day; default:
    ``now`` in Asia/Ho_Chi_Minh); any other report clears it (domain.official).

    The draft is claimed first with a conditional UPDATE (review -> sent), so a double tap or a
    second instance finds it already sent; the item row is locked before the next version number
    is read, so concurrent reporters get consecutive versions."""
    draft = _load(session, member, draft_id, (STEP_REVIEW,), now=now, timeout=timeout)
    claimed = session.execute(
        update(ReportDraft).where(col(ReportDraft.id) == draft_id, col(ReportDraft.step) == STEP_REVIEW)
        .values(step=STEP_SENT, updated_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadySent()
    assert draft.state is not None
    item = _lock_item(session, draft.item_id)
    if not may_report(actor(session, member), item):
        raise NotAllowed("item")
    if item.state == ItemState.VERIFIED.value:
        raise AlreadyVerified()
    previous = _max_version(session, draft.item_id)
    assert member.id is not None
    report = Report(item_id=draft.item_id, version=previous + 1, member_id=member.id,
                    state=draft.state, percent=draft.percent, note=draft.note,
                    document_number=draft.document_number, document_date=draft.document_date,
                    created_at=now,
                    review_state=ReviewState.PENDING.value if draft.state == ReportState.DONE.value
                    else None)
    session.add(report)
    session.flush()
    assert report.id is not None
    for file in draft_files(draft):
        session.add(Evidence(report_id=report.id, kind=file.kind, file_id=file.file_id,
                             file_unique_id=file.file_unique_id, file_name=file.file_name[:255],
                             mime_type=file.mime_type[:128], file_size=file.file_size))
    item.state = ITEM_STATE_BY_REPORT[draft.state]
    item.state_changed_at = now
    item.completed_on = ((today or local_day(now)) if draft.state == ReportState.DONE.value
                         else None)
    session.add(item)
    session.flush()
    if draft.target_value is not None and report.state != ReportState.BLOCKED.value:
        _record_value(session, report, item, draft)
    if report.review_state == ReviewState.PENDING.value:
        queue_review_notices(session, report_id=report.id, now=now)
        if tell_coordinating:  # DONDOC_COORDINATION_NOTICES
            tell_report(session, report, item, now)
    if report.state == ReportState.BLOCKED.value:
        queue_blocked_notices(session, report_id=report.id, agency_id=item.agency_id, now=now)
    _audit(session, member, "report.submit", report, now, state=report.state)
    return SubmitResult(report, item, overtook=previous != draft.base_version)


def local_day(at: datetime) -> date:
    """The day ``at`` falls on in the plan's time zone."""
    return at.astimezone(PLAN_TZ).date()


def _record_value(session: Session, report: Report, item: Item, draft: ReportDraft) -> None:
    """The report's value against its target; its evidence is the report's own files."""
    assert draft.target_value is not None
    files = draft_files(draft)
    evidence = files[0].file_name or files[0].kind if files else draft.document_number
    record_report_value(session, report=report, item=item, value=draft.target_value, evidence=evidence,
                        now=report.created_at)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # the (item_id, version) race: read the versions again
    text = str(exc).lower()
    return "locked" in text or "deadlock" in text or "could not serialize" in text


def with_retry(engine: Engine, work: Callable[[Session], R], *, attempts: int = 6) -> R:
    """Run ``work`` in its own transaction, again (in a fresh one) after a lost write race."""
    for attempt in range(attempts):
        try:
            with session_scope(engine) as session:
                return work(session)
        except (IntegrityError, OperationalError) as exc:
            if attempt == attempts - 1 or not _retryable(exc):
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def submit_report(engine: Engine, member_id: int, draft_id: int, *, now: datetime,
                  timeout: timedelta = DEFAULT_TIMEOUT) -> SubmitResult:
    """:func:`submit` with retries on the version race."""
    def work(session: Session) -> SubmitResult:
        member = session.get(Member, member_id)
        if member is None:
            raise NotAllowed("member")
        return submit(session, member, draft_id, now=now, timeout=timeout)
    return with_retry(engine, work)


# --------------------------------------------------------------------------- review


def review_queue(session: Session, member: Member) -> list[Report]:
    """:func:`review_queue_for` the member."""
    return review_queue_for(session, actor(session, member))


def review_queue_for(session: Session, who: Actor) -> list[Report]:
    """Done reports waiting for verification in ``who``'s scope (domain.access.scope_of),
    oldest first: coordinators verify them, leaders look at them. Only current versions count."""
    require(who, Action.VIEW_REVIEWS)
    scope = scope_of(who)
    if scope is None:
        raise NotAllowed("no_agency")
    latest = (select(Report.item_id, func.max(Report.version).label("version"))
              .group_by(col(Report.item_id)).subquery())
    query = (select(Report)
             .join(latest, (latest.c.item_id == Report.item_id) & (latest.c.version == Report.version))
             .join(Item, col(Item.id) == Report.item_id)
             .where(Report.review_state == ReviewState.PENDING.value,
                    Item.state == ItemState.REPORTED.value)
             .order_by(col(Report.created_at), col(Report.id)))
    ids = scope_agency_ids(session, scope)
    if ids is not None:
        query = query.where(col(Item.agency_id).in_(ids))
    return list(session.exec(query))


def _check_scope(session: Session, who: Actor, item: Item) -> None:
    scope: Scope | None = scope_of(who)
    if scope is None or not in_scope(session, scope, item.agency_id):
        raise NotAllowed("scope")


def _reviewable(session: Session, who: Actor, report_id: int, version: int) -> tuple[Report, Item]:
    if not may_review(who):
        raise NotAllowed("review")
    report = session.get(Report, report_id)
    if report is None or report.version != version:
        raise Changed("report")
    item = _lock_item(session, report.item_id)
    _check_scope(session, who, item)
    session.refresh(report)
    if report.review_state != ReviewState.PENDING.value or item.state != ItemState.REPORTED.value:
        raise Changed("reviewed")
    if _max_version(session, item.id or 0) != version:
        raise Changed("newer")
    return report, item


def approve(session: Session, member: Member, report_id: int, version: int, *,
            now: datetime, who: Actor | None = None) -> Report:
    """Verify the report: the item is done for good."""
    report, item = _reviewable(session, who or actor(session, member), report_id, version)
    report.review_state, report.reviewed_by, report.reviewed_at = ReviewState.APPROVED.value, member.id, now
    item.state, item.state_changed_at = ItemState.VERIFIED.value, now
    if item.completed_on is None:  # reported before the day was kept: the report's own day
        item.completed_on = local_day(report.created_at)
    session.add_all([report, item])
    session.flush()
    assert report.id is not None
    queue_verified_notices(session, report_id=report.id, recipients=focal_points(session, item.agency_id),
                           now=now)
    _audit(session, member, "report.approve", report, now)
    return report


def _audit(session: Session, member: Member, action: str, report: Report, now: datetime,
           **details: object) -> None:
    """Who sent, verified or returned which version (``dondoc audit``, /audit)."""
    session.add(AuditLog(at=now, actor=f"member:{member.id}", action=action, entity="report",
                         entity_id=str(report.id), details=json.dumps(
                             {"item_id": report.item_id, "version": report.version, **details},
                             ensure_ascii=False)))


def start_return(session: Session, member: Member, report_id: int, version: int, *,
                 now: datetime, who: Actor | None = None) -> ReportDraft:
    """The coordinator will type a reason: remember which report in their draft row."""
    report, _item = _reviewable(session, who or actor(session, member), report_id, version)
    old = session.exec(select(ReportDraft).where(ReportDraft.member_id == member.id)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    assert member.id is not None
    draft = ReportDraft(member_id=member.id, item_id=report.item_id, step=STEP_RETURN,
                        base_version=version, updated_at=now)
    session.add(draft)
    session.flush()
    return draft


def return_report(session: Session, member: Member, report_id: int, version: int, reason: str, *,
                  now: datetime) -> Report:
    """Send the report back with ``reason``; the agency's focal points must resubmit. Their
    notice is queued on the ledger (sent by the dispatcher, in each one's language)."""
    reason = _check_text(reason, required=True)
    report, item = _reviewable(session, actor(session, member), report_id, version)
    report.review_state, report.reviewed_by, report.reviewed_at = ReviewState.RETURNED.value, member.id, now
    report.review_reason = reason
    item.state, item.state_changed_at = ItemState.RETURNED.value, now
    item.completed_on = None  # returned: not completed (domain.official)
    session.add_all([report, item])
    session.flush()
    assert report.id is not None
    # In the same transaction: the return and the notices to the agency stand or fall together.
    queue_returned_notices(session, report_id=report.id, recipients=focal_points(session, item.agency_id),
                           now=now)
    _audit(session, member, "report.return", report, now, reason=reason)
    return report


def return_from_draft(session: Session, member: Member, reason: str, *, now: datetime,
                      timeout: timedelta = DEFAULT_TIMEOUT) -> Report:
    """The reason typed after tapping Return: applies to the report the draft remembers."""
    draft, _expired_now = active_draft(session, member, now=now, timeout=timeout)
    if draft is None or draft.step != STEP_RETURN:
        raise Changed("no_draft")
    reason = _check_text(reason, required=True)
    report = session.exec(select(Report).where(Report.item_id == draft.item_id,
                                               Report.version == draft.base_version)).first()
    if report is None or report.id is None:
        raise Changed("report")
    returned = return_report(session, member, report.id, draft.base_version, reason, now=now)
    session.delete(draft)
    session.flush()
    return returned


def focal_points(session: Session, agency_id: int) -> list[Member]:
    """The agency's reachable focal points (who hear about returned reports)."""
    query = select(Member).where(Member.agency_id == agency_id,
                                 Member.role == MemberRole.FOCAL_POINT.value, col(Member.active),
                                 col(Member.unreachable_at).is_(None)).order_by(col(Member.id))
    return list(session.exec(query))
