"""Broadcasts: the draft, its audience, the ledger rows it becomes, progress and acknowledgements.

A draft is a ``broadcast`` row in status ``draft`` whose ``step`` is the open question, so the
flow survives restarts. Confirming inserts one delivery row per recipient (key
``bc:{broadcast_id}:{chat_id}``) in the same transaction that flips the status, so a second tap
inserts nothing.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from domain.access import Action, Actor, allows, require
from domain.text import normalize, scrub
from models import ledger
from models.db import insert_ignore, session_scope
from models.groups import GROUP_TYPES, find_agency_or_class
from models.tables import (
    Agency,
    AgencyClass,
    AgencyClassMember,
    Broadcast,
    BroadcastAck,
    BroadcastStatus,
    Chat,
    ChatPurpose,
    DeliveryState,
    Member,
)
from models.types import utcnow

KIND = ledger.BROADCAST
MAX_TEXT = 4096  # UTF-16 code units, as Telegram counts
MAX_CAPTION = 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
OPEN = (BroadcastStatus.CONFIRMED.value, BroadcastStatus.SENDING.value)
_TAG = re.compile(r"<[^>]*>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# The audiences a draft's buttons name (``BroadcastAudience.code``); ``x``: one agency or class,
# typed next.
AUDIENCES: dict[str, dict[str, Any]] = {
    "g": {"kind": "groups"},
    "gf": {"kind": "groups", "purpose": "focal_points"},
    "gl": {"kind": "groups", "purpose": "leaders"},
    "rf": {"kind": "role", "role": "focal_point"},
    "rl": {"kind": "role", "role": "leader"},
    "rc": {"kind": "role", "role": "coordinator"},
    "e": {"kind": "everyone"},
}
TYPED = "x"


def _member(session: Session, telegram_user_id: int) -> Member | None:
    return session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).first()


# --- the draft ----------------------------------------------------------------------------

def start_draft(session: Session, telegram_user_id: int) -> Broadcast:
    """A new draft; an unfinished one of the same sender is cancelled."""
    session.execute(update(Broadcast).where(
        col(Broadcast.sender_user_id) == telegram_user_id,
        col(Broadcast.status) == BroadcastStatus.DRAFT.value)
        .values(status=BroadcastStatus.CANCELLED.value))
    member = _member(session, telegram_user_id)
    draft = Broadcast(sender_user_id=telegram_user_id, sender_id=member.id if member else None)
    session.add(draft)
    session.flush()
    return draft


def open_draft(session: Session, telegram_user_id: int) -> Broadcast | None:
    return session.exec(select(Broadcast).where(
        Broadcast.sender_user_id == telegram_user_id,
        Broadcast.status == BroadcastStatus.DRAFT.value)
        .order_by(col(Broadcast.id).desc())).first()


def own_draft(session: Session, broadcast_id: int, telegram_user_id: int) -> Broadcast | None:
    found = session.get(Broadcast, broadcast_id)
    if found is None or found.sender_user_id != telegram_user_id:
        return None
    return found


def content_problem(text_html: str, *, has_document: bool, file_size: int | None) -> str | None:
    """Why this content cannot be sent: ``empty``, ``too_long``, ``caption_too_long``,
    ``too_big`` (document over 50 MB); None if it can. Limits apply to the normalised text
    (what :func:`set_content` stores); NUL raises :class:`domain.text.NulCharacter`."""
    text_html = normalize(text_html, what="announcement")
    if has_document:
        if file_size is not None and not 0 <= file_size <= MAX_DOCUMENT_BYTES:
            return "too_big"
        return "caption_too_long" if utf16_len(text_html) > MAX_CAPTION else None
    if not _visible(text_html).strip():  # Telegram refuses a message with nothing to show
        return "empty"
    return "too_long" if utf16_len(text_html) > MAX_TEXT else None


def _visible(text_html: str) -> str:
    """The text a reader sees (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", text_html))


def set_content(draft: Broadcast, text_html: str, *, file_id: str | None = None,
                file_name: str = "", file_size: int | None = None) -> None:
    draft.text, draft.document_file_id = normalize(text_html, what="announcement"), file_id
    draft.document_name, draft.document_size = scrub(file_name)[:255], file_size
    draft.step = "audience"


# --- the audience -------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    chat_id: int
    member_id: int | None


@dataclass
class Audience:
    recipients: list[Recipient] = field(default_factory=list)

    @property
    def groups(self) -> int:
        return sum(1 for r in self.recipients if r.member_id is None)

    @property
    def people(self) -> int:
        return len(self.recipients) - self.groups


def _members(session: Session, *, role: str | None = None,
             agency_ids: list[int] | None = None) -> list[Member]:
    query = select(Member).where(col(Member.active), col(Member.unreachable_at).is_(None))
    if role is not None:
        query = query.where(Member.role == role)
    if agency_ids is not None:
        query = query.where(col(Member.agency_id).in_(agency_ids))
    return list(session.exec(query))


def _groups(session: Session, *, purpose: str | None = None, agency_ids: list[int] | None = None,
            class_id: int | None = None) -> list[Chat]:
    query = select(Chat).where(col(Chat.type).in_(GROUP_TYPES), col(Chat.active), col(Chat.can_post),
                               col(Chat.purpose).is_not(None))
    if purpose is not None:
        query = query.where(Chat.purpose == purpose)
    chats = list(session.exec(query))
    if agency_ids is None and class_id is None:
        return chats
    return [c for c in chats
            if (c.purpose == ChatPurpose.AGENCY.value and c.agency_id in (agency_ids or []))
            or (class_id is not None and c.purpose == ChatPurpose.AGENCY_CLASS.value
                and c.class_id == class_id)]


def class_agencies(session: Session, class_id: int) -> list[int]:
    return list(session.exec(select(AgencyClassMember.agency_id)
                             .where(AgencyClassMember.class_id == class_id)))


def resolve(session: Session, spec: dict[str, Any]) -> Audience:
    """Every chat the audience ``spec`` reaches, once each (a person's private chat is their
    Telegram user id). Blocked members, inactive groups and groups the bot may not post in
    are left out."""
    kind = spec.get("kind")
    members: list[Member] = []
    chats: list[Chat] = []
    if kind == "groups":
        chats = _groups(session, purpose=spec.get("purpose"))
    elif kind == "role":
        members = _members(session, role=spec.get("role"))
    elif kind == "agency":
        members = _members(session, agency_ids=[int(spec["id"])])
        chats = _groups(session, agency_ids=[int(spec["id"])])
    elif kind == "class":
        agencies = class_agencies(session, int(spec["id"]))
        members = _members(session, agency_ids=agencies)
        chats = _groups(session, agency_ids=agencies, class_id=int(spec["id"]))
    elif kind == "everyone":
        members, chats = _members(session), _groups(session)
    found: dict[int, Recipient] = {}
    for chat in chats:
        found.setdefault(chat.telegram_chat_id, Recipient(chat.telegram_chat_id, None))
    for member in members:
        found.setdefault(member.telegram_user_id, Recipient(member.telegram_user_id, member.id))
    return Audience(sorted(found.values(), key=lambda r: r.chat_id))


def audience_of(draft: Broadcast) -> dict[str, Any]:
    return json.loads(draft.audience) if draft.audience else {}


def audience_label(session: Session, spec: dict[str, Any]) -> tuple[str, str]:
    """(kind, name): the kind of audience and the agency/class/purpose/role it names."""
    kind = str(spec.get("kind", ""))
    if kind == "agency":
        agency = session.get(Agency, int(spec["id"]))
        return kind, agency.name if agency else "?"
    if kind == "class":
        klass = session.get(AgencyClass, int(spec["id"]))
        return kind, klass.name if klass else "?"
    return kind, str(spec.get("purpose") or spec.get("role") or "")


# --- confirming ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Confirmed:
    outcome: str  # queued | already | empty | unknown
    recipients: int = 0


def confirm(session: Session, broadcast_id: int, telegram_user_id: int, *, progress_chat_id: int,
            progress_message_id: int, now: datetime | None = None) -> Confirmed:
    """Queue the broadcast: flip draft -> confirmed and insert one ledger row per recipient,
    all in the caller's transaction. A second call finds it no longer a draft: ``already``."""
    now = now or utcnow()
    draft = own_draft(session, broadcast_id, telegram_user_id)
    if draft is None:
        return Confirmed("unknown")
    if draft.status != BroadcastStatus.DRAFT.value:
        return Confirmed("already", draft.recipients)
    audience = resolve(session, audience_of(draft))
    if not audience.recipients:
        return Confirmed("empty")
    flipped = session.execute(update(Broadcast).where(
        col(Broadcast.id) == broadcast_id, col(Broadcast.status) == BroadcastStatus.DRAFT.value)
        .values(status=BroadcastStatus.CONFIRMED.value, step="sent", confirmed_at=now,
                recipients=len(audience.recipients), progress_chat_id=progress_chat_id,
                progress_message_id=progress_message_id, progress_at=now, progress_shown=""))
    if flipped.rowcount != 1:  # type: ignore[attr-defined]
        return Confirmed("already", draft.recipients)
    ledger.plan(session, [
        ledger.new_row(key=f"bc:{broadcast_id}:{r.chat_id}", kind=KIND, chat_id=r.chat_id,
                       member_id=r.member_id, ref_id=broadcast_id, at=now, now=now,
                       audience="group" if r.member_id is None else "member")
        for r in audience.recipients])
    session.expire(draft)
    return Confirmed("queued", len(audience.recipients))


# --- progress and the final report --------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    total: int
    pending: int
    sent: int
    failed: int
    blocked: int
    skipped: int
    reasons: list[tuple[str, int]]  # failure reasons, most frequent first
    acks: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.skipped

    @property
    def settled(self) -> bool:
        return self.pending == 0

    def key(self) -> str:
        return f"{self.sent}/{self.failed}/{self.blocked}/{self.pending}/{self.acks}"


def progress(session: Session, broadcast_id: int) -> Progress:
    counts = ledger.states_of(session, KIND, broadcast_id)
    reasons = ledger.failure_reasons(session, KIND, broadcast_id)
    acks = session.exec(select(func.count()).select_from(BroadcastAck)
                        .where(BroadcastAck.broadcast_id == broadcast_id)).one()
    return Progress(total=sum(counts.values()),
                    pending=counts[DeliveryState.PENDING.value] + counts[DeliveryState.SENDING.value],
                    sent=counts[DeliveryState.SENT.value], failed=counts[DeliveryState.FAILED.value],
                    blocked=counts[DeliveryState.BLOCKED.value], skipped=counts[DeliveryState.SKIPPED.value],
                    reasons=reasons, acks=int(acks))


def open_broadcasts(session: Session) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).where(col(Broadcast.status).in_(OPEN))))


def take_progress_turn(session: Session, broadcast_id: int, now: datetime, min_gap: float) -> bool:
    """True for one instance at a time, at most every ``min_gap`` seconds (compare-and-set)."""
    from datetime import timedelta

    limit = now - timedelta(seconds=min_gap)
    taken = session.execute(update(Broadcast).where(
        col(Broadcast.id) == broadcast_id,
        (col(Broadcast.progress_at).is_(None)) | (col(Broadcast.progress_at) <= limit))
        .values(progress_at=now))
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def requeue_failed(session: Session, broadcast_id: int, now: datetime | None = None) -> int:
    """Give the failed rows another go (blocked ones stay: those people blocked the bot)."""
    now = now or utcnow()
    count = ledger.requeue_failed(session, KIND, broadcast_id, now)
    if count:
        session.execute(update(Broadcast).where(col(Broadcast.id) == broadcast_id)
                        .values(status=BroadcastStatus.SENDING.value, finished_at=None,
                                progress_shown=""))
    return count


# --- acknowledgements ---------------------------------------------------------------------

def acknowledge(session: Session, broadcast_id: int, *, telegram_user_id: int, chat_id: int,
                name: str) -> str:
    """``new``, ``again`` (already acknowledged) or ``closed`` (no such broadcast / no button)."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or not broadcast.ack_enabled:
        return "closed"
    member = _member(session, telegram_user_id)
    agency_id = member.agency_id if member is not None else None
    if agency_id is None and chat_id < 0:
        chat = session.exec(select(Chat).where(Chat.telegram_chat_id == chat_id)).first()
        agency_id = chat.agency_id if chat is not None else None
    before = session.exec(select(func.count()).select_from(BroadcastAck).where(
        BroadcastAck.broadcast_id == broadcast_id,
        BroadcastAck.telegram_user_id == telegram_user_id)).one()
    insert_ignore(session, BroadcastAck, [{
        "broadcast_id": broadcast_id, "telegram_user_id": telegram_user_id,
        "member_id": member.id if member else None, "chat_id": chat_id, "agency_id": agency_id,
        "name": (member.full_name if member and member.full_name else name)[:255], "at": utcnow()}],
        ("broadcast_id", "telegram_user_id"))
    return "again" if before else "new"


def acks_by_agency(session: Session, broadcast_id: int) -> list[tuple[str, list[str]]]:
    """[(agency name or "", [names])], agencies in name order, the agency-less last."""
    rows = session.exec(select(BroadcastAck, Agency).join(
        Agency, col(Agency.id) == BroadcastAck.agency_id, isouter=True)
        .where(BroadcastAck.broadcast_id == broadcast_id).order_by(col(BroadcastAck.at)))
    grouped: dict[str, list[str]] = {}
    for ack, agency in rows:
        grouped.setdefault(agency.name if agency else "", []).append(ack.name)
    return sorted(grouped.items(), key=lambda kv: (kv[0] == "", kv[0]))


# --- what the dispatcher sends ---------------------------------------------------------------

@dataclass(frozen=True)
class Copy:
    """One recipient's copy of a broadcast (a ledger row), with the language of its buttons."""

    chat_id: int
    row_id: int
    member_id: int | None
    broadcast_id: int
    text: str
    document_file_id: str | None
    ack: bool
    language: str


# --- services for the bot (each its own transaction; a handler runs one) --------------------
# Who may compose is the access policy's Action.BROADCAST (admins, coordinators); a draft's
# buttons work only for its sender; "received" works for anyone who got the message.

@dataclass(frozen=True)
class Content:
    """A message sent to a waiting draft: its HTML (re-escaped from the entities), the plain text
    (for a typed agency name), and the document if there is one."""

    html: str
    plain: str = ""
    file_id: str | None = None
    file_name: str = ""
    file_size: int | None = None


@dataclass(frozen=True)
class Preview:
    """The message exactly as recipients get it, and who would get it. ``empty``: nobody."""

    broadcast_id: int
    text: str
    document_file_id: str | None
    kind: str
    detail: str
    total: int
    groups: int
    people: int
    ack: bool

    @property
    def empty(self) -> bool:
        return self.total == 0


@dataclass(frozen=True)
class Step:
    """What happened to a draft: ``problem`` (``problem`` says why the content was refused),
    ``audience`` (choose who gets it), ``agency`` (type the agency), ``unknown`` (no agency or
    class is called ``name``), ``preview``, ``cancelled``, ``gone`` (not an open draft of this
    sender any more)."""

    outcome: str
    broadcast_id: int
    problem: str = ""
    name: str = ""
    preview: Preview | None = None


def begin(engine: Engine, actor: Actor) -> int:
    """/broadcast: a new draft (an unfinished one of the same sender is cancelled)."""
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        draft = start_draft(session, actor.telegram_user_id)
        assert draft.id is not None
        return draft.id


def take_message(engine: Engine, actor: Actor, content: Content) -> Step | None:
    """A private message: the waiting draft's text or document, or the agency typed for it.
    None when no draft of this person waits for a message (other flows take it); nobody who may
    not broadcast has one, so for them this asks the database nothing."""
    if not allows(actor, Action.BROADCAST):
        return None
    with session_scope(engine) as session:
        draft = open_draft(session, actor.telegram_user_id)
        if draft is None or draft.id is None or draft.step not in ("text", "agency"):
            return None
        if draft.step == "agency":
            return _typed_agency(session, draft, content.plain)
        problem = content_problem(content.html, has_document=content.file_id is not None,
                                  file_size=content.file_size)
        if problem:
            return Step("problem", draft.id, problem=problem)
        set_content(draft, content.html, file_id=content.file_id, file_name=content.file_name,
                    file_size=content.file_size)
        return Step("audience", draft.id)


def _typed_agency(session: Session, draft: Broadcast, text: str) -> Step:
    assert draft.id is not None
    found = find_agency_or_class(session, text)
    if found is None:
        return Step("unknown", draft.id, name=text.strip())
    kind = "agency" if isinstance(found, Agency) else "class"
    draft.audience, draft.step = json.dumps({"kind": kind, "id": found.id}), "preview"
    return Step("preview", draft.id, preview=_preview(session, draft))


def _preview(session: Session, draft: Broadcast) -> Preview:
    """The preview of a draft; an audience that reaches nobody sends the draft back to the
    audience question."""
    assert draft.id is not None
    spec = audience_of(draft)
    audience = resolve(session, spec)
    kind, detail = audience_label(session, spec)
    draft.step = "preview" if audience.recipients else "audience"
    return Preview(draft.id, draft.text, draft.document_file_id, kind, detail, len(audience.recipients),
                   audience.groups, audience.people, draft.ack_enabled)


def _own_open_draft(session: Session, actor: Actor, broadcast_id: int) -> Broadcast | None:
    draft = own_draft(session, broadcast_id, actor.telegram_user_id)
    return draft if draft is not None and draft.status == BroadcastStatus.DRAFT.value else None


def choose_audience(engine: Engine, actor: Actor, broadcast_id: int, code: str) -> Step:
    """An audience button: ``x`` asks for an agency or class by name; the others preview."""
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        draft = _own_open_draft(session, actor, broadcast_id)
        if draft is None or (code != TYPED and code not in AUDIENCES):
            return Step("gone", broadcast_id)
        if code == TYPED:
            draft.step = "agency"
            return Step("agency", broadcast_id)
        draft.audience, draft.step = json.dumps(AUDIENCES[code]), "preview"
        return Step("preview", broadcast_id, preview=_preview(session, draft))


def toggle_ack(engine: Engine, actor: Actor, broadcast_id: int) -> Step:
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        draft = _own_open_draft(session, actor, broadcast_id)
        if draft is None:
            return Step("gone", broadcast_id)
        draft.ack_enabled = not draft.ack_enabled
        return Step("preview", broadcast_id, preview=_preview(session, draft))


def change_audience(engine: Engine, actor: Actor, broadcast_id: int) -> Step:
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        draft = _own_open_draft(session, actor, broadcast_id)
        if draft is None:
            return Step("gone", broadcast_id)
        draft.step = "audience"
        return Step("audience", broadcast_id)


def cancel(engine: Engine, actor: Actor, broadcast_id: int) -> Step:
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        draft = _own_open_draft(session, actor, broadcast_id)
        if draft is None:
            return Step("gone", broadcast_id)
        draft.status = BroadcastStatus.CANCELLED.value
        return Step("cancelled", broadcast_id)


def cancel_open(engine: Engine, actor: Actor) -> Step | None:
    """/cancel while a broadcast is being written: the sender's open draft cancelled (None: none)."""
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        draft = open_draft(session, actor.telegram_user_id)
        if draft is None or draft.id is None:
            return None
        draft.status = BroadcastStatus.CANCELLED.value
        return Step("cancelled", draft.id)


def send(engine: Engine, actor: Actor, broadcast_id: int, *, progress_chat_id: int,
         progress_message_id: int, now: datetime | None = None) -> Confirmed:
    """Send: every recipient queued in one transaction; a second press queues nothing."""
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        return confirm(session, broadcast_id, actor.telegram_user_id, progress_chat_id=progress_chat_id,
                       progress_message_id=progress_message_id, now=now)


def received(engine: Engine, actor: Actor, broadcast_id: int, *, chat_id: int, name: str) -> str:
    """A recipient's "received" button (anyone who got it): ``new``, ``again`` or ``closed``."""
    with session_scope(engine) as session:
        return acknowledge(session, broadcast_id, telegram_user_id=actor.telegram_user_id,
                           chat_id=chat_id, name=name)


def retry(engine: Engine, actor: Actor, broadcast_id: int) -> int:
    """The final report's "retry the failed" (the sender only): how many were queued again."""
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        found = session.get(Broadcast, broadcast_id)
        if found is None or found.sender_user_id != actor.telegram_user_id:
            raise NotSender(broadcast_id)
        return requeue_failed(session, broadcast_id)


def check_sender(engine: Engine, actor: Actor, broadcast_id: int) -> None:
    """Only the sender sees who received a broadcast."""
    require(actor, Action.BROADCAST)
    with session_scope(engine) as session:
        found = session.get(Broadcast, broadcast_id)
        if found is None or found.sender_user_id != actor.telegram_user_id:
            raise NotSender(broadcast_id)


class NotSender(LookupError):
    """A final report's button pressed by someone other than the sender (or for no broadcast)."""
