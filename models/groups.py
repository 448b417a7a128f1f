"""Group chats the bot is in: what they are for, and what happened to them.

Every change is audited. The bot learns of groups from Telegram (added, removed, restricted,
turned into a supergroup) and from send errors (kicked, no right to post); an admin registers
a group's purpose and language with ``/group``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.access import Action, Actor, require
from domain.collation import vi_key
from domain.text import scrub
from models import ledger
from models.db import session_scope
from models.tables import (
    Agency,
    AgencyClass,
    AuditLog,
    Chat,
    ChatPurpose,
)
from models.types import MAX_ROW_ID

GROUP_TYPES = ("group", "supergroup")
PURPOSES = tuple(p.value for p in ChatPurpose)


def audit(session: Session, actor: str, action: str, chat_id: int, **details: object) -> None:
    session.add(AuditLog(actor=actor, action=action, entity="chat", entity_id=str(chat_id),
                         details=json.dumps(details, ensure_ascii=False, default=str)))


def chat_by_telegram_id(session: Session, chat_id: int) -> Chat | None:
    return session.exec(select(Chat).where(Chat.telegram_chat_id == chat_id)).first()


def bot_joined(session: Session, *, chat_id: int, title: str, chat_type: str, can_post: bool,
               actor: str) -> Chat:
    """The bot was added to (or came back into) a group: remember it, active."""
    title = scrub(title)[:255]  # Telegram's title: cleaned, never refused
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        chat = Chat(telegram_chat_id=chat_id, title=title, type=chat_type)
        session.add(chat)
    chat.title, chat.type, chat.active, chat.can_post = title, chat_type, True, can_post
    audit(session, actor, "group.added", chat_id, title=title, can_post=can_post)
    session.flush()
    return chat


def ensure_group(session: Session, *, chat_id: int, title: str, chat_type: str) -> Chat:
    """The group's row (created if the bot joined before anyone saw it happen)."""
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        chat = Chat(telegram_chat_id=chat_id, title=scrub(title)[:255], type=chat_type)
        session.add(chat)
        session.flush()
    return chat


def bot_left(session: Session, chat_id: int, *, reason: str, actor: str) -> Chat | None:
    """The bot is no longer in the group: nothing more goes there."""
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None or not chat.active:
        return chat
    chat.active = False
    _drop_pending(session, chat_id, f"bot not in the group: {reason}")
    audit(session, actor, "group.removed", chat_id, reason=reason)
    return chat


def set_can_post(session: Session, chat_id: int, can_post: bool, *, reason: str,
                 actor: str) -> Chat | None:
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None or chat.can_post == can_post:
        return chat
    chat.can_post = can_post
    if not can_post:
        _drop_pending(session, chat_id, f"no right to post: {reason}")
    audit(session, actor, "group.can_post" if can_post else "group.cannot_post", chat_id,
          reason=reason)
    return chat


def _drop_pending(session: Session, chat_id: int, reason: str) -> None:
    """Queued messages to a chat we cannot post in would fail the same way: settle them."""
    ledger.fail_pending_for_chat(session, chat_id, reason)


def migrate(session: Session, old_id: int, new_id: int, *, actor: str) -> Chat | None:
    """A group became a supergroup: it keeps its registration under the new id, and messages
    still queued for the old id follow it. Safe to call twice (Telegram tells both chats)."""
    chat = chat_by_telegram_id(session, old_id)
    newer = chat_by_telegram_id(session, new_id)
    if chat is None:
        return newer
    if newer is not None:
        if newer.purpose is not None:
            return newer  # already moved (or registered anew): keep that one
        session.delete(newer)
        session.flush()
    chat.telegram_chat_id, chat.type = new_id, "supergroup"
    ledger.move_chat(session, old_id, new_id)
    audit(session, actor, "group.migrated", new_id, old_chat_id=old_id)
    session.flush()
    return chat


def _row_id(value: int | None) -> bool:
    """An id a row can have (a forged button's number may be beyond what the column holds)."""
    return value is not None and 0 < value <= MAX_ROW_ID


def register(session: Session, chat_id: int, *, purpose: str, agency_id: int | None = None,
             class_id: int | None = None, actor: str) -> Chat:
    """Set what a group is for. Raises ValueError on an unknown chat/purpose/agency/class."""
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        raise ValueError("unknown chat")
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if purpose == ChatPurpose.AGENCY.value and (
            not _row_id(agency_id) or session.get(Agency, agency_id) is None):
        raise ValueError("unknown agency")
    if purpose == ChatPurpose.AGENCY_CLASS.value and (
            not _row_id(class_id) or session.get(AgencyClass, class_id) is None):
        raise ValueError("unknown agency class")
    chat.purpose = purpose
    chat.agency_id = agency_id if purpose == ChatPurpose.AGENCY.value else None
    chat.class_id = class_id if purpose == ChatPurpose.AGENCY_CLASS.value else None
    chat.active = True
    audit(session, actor, "group.registered", chat_id, purpose=purpose, agency_id=chat.agency_id,
          class_id=chat.class_id)
    return chat


def set_language(session: Session, chat_id: int, language: str, *, actor: str) -> Chat:
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        raise ValueError("unknown chat")
    chat.language = language
    audit(session, actor, "group.language", chat_id, language=language)
    return chat


def find_agency_or_class(session: Session, text: str) -> Agency | AgencyClass | None:
    """An agency or class by code, name or alias (case-insensitive, exact)."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return None
    candidates: list[Agency | AgencyClass] = [*session.exec(select(Agency)),
                                              *session.exec(select(AgencyClass))]
    for found in candidates:
        names = [found.code, found.name, *found.aliases.split(";")]
        if any(" ".join(n.split()).casefold() == wanted for n in names if n.strip()):
            return found
    return None


def agency_classes(session: Session) -> list[AgencyClass]:
    classes = session.exec(select(AgencyClass).where(col(AgencyClass.open_set).is_(False)))
    return sorted(classes, key=lambda c: vi_key(c.name))


@dataclass(frozen=True)
class GroupLine:
    chat_id: int
    title: str
    purpose: str | None
    target: str  # the agency or class name, if any
    language: str | None
    active: bool
    can_post: bool


def list_groups(session: Session) -> list[GroupLine]:
    chats = sorted(session.exec(select(Chat).where(col(Chat.type).in_(GROUP_TYPES))),
                   key=lambda c: (not c.active, vi_key(c.title or "")))
    lines = []
    for chat in chats:
        target = ""
        if chat.agency_id:
            agency = session.get(Agency, chat.agency_id)
            target = agency.name if agency else ""
        elif chat.class_id:
            klass = session.get(AgencyClass, chat.class_id)
            target = klass.name if klass else ""
        lines.append(GroupLine(chat.telegram_chat_id, chat.title, chat.purpose, target,
                               chat.language, chat.active, chat.can_post))
    return lines


# --- services for the bot (each its own transaction; a handler runs one) --------------------

def audit_actor(actor: Actor) -> str:
    return f"telegram:{actor.telegram_user_id}"


@dataclass(frozen=True)
class Membership:
    """What Telegram says changed about the bot in a group (a ``my_chat_member`` update)."""

    chat_id: int
    title: str
    chat_type: str
    was_in: bool
    is_in: bool
    can_post: bool
    status: str  # the bot's new status in the chat ("kicked", "left", "restricted", …)
    by_user_id: int


def membership_changed(engine: Engine, change: Membership) -> str:
    """Record the change; returns ``joined``, ``left``, ``muted``, ``unmuted`` or ``same``."""
    who = f"telegram:{change.by_user_id}"
    with session_scope(engine) as session:
        if not change.is_in:
            reason = "kicked" if change.status == "kicked" else "left"
            return "left" if bot_left(session, change.chat_id, reason=reason, actor=who) else "same"
        before = chat_by_telegram_id(session, change.chat_id)
        if not change.was_in or before is None:
            bot_joined(session, chat_id=change.chat_id, title=change.title, chat_type=change.chat_type,
                       can_post=change.can_post, actor=who)
            return "joined"
        changed = before.can_post != change.can_post
        set_can_post(session, change.chat_id, change.can_post, reason=change.status, actor=who)
        if not changed:
            return "same"
        return "unmuted" if change.can_post else "muted"


@dataclass(frozen=True)
class Started:
    """/group: ``ask`` (choose a purpose), ``named`` (registered for ``name``, now its language)
    or ``unknown`` (no agency or class by that name)."""

    outcome: str
    name: str = ""


def start_registration(engine: Engine, actor: Actor, *, chat_id: int, title: str, chat_type: str,
                       target: str) -> Started:
    """/group [agency or class]: admins only. With a target the group is registered at once."""
    require(actor, Action.MANAGE_GROUPS)
    with session_scope(engine) as session:
        ensure_group(session, chat_id=chat_id, title=title, chat_type=chat_type)
        if not target.strip():
            return Started("ask")
        found = find_agency_or_class(session, target)
        if found is None:
            return Started("unknown", target)
        if isinstance(found, Agency):
            register(session, chat_id, purpose=ChatPurpose.AGENCY.value, agency_id=found.id,
                     actor=audit_actor(actor))
        else:
            register(session, chat_id, purpose=ChatPurpose.AGENCY_CLASS.value, class_id=found.id,
                     actor=audit_actor(actor))
        return Started("named", found.name)


@dataclass(frozen=True)
class Chosen:
    """After a /group button: ``language`` (ask it next), ``classes`` (pick one of ``classes``),
    ``agency_hint`` (type the agency), ``done`` (``group`` is the registration) or ``invalid``."""

    outcome: str
    classes: list[tuple[int, str]] = field(default_factory=list)
    group: GroupLine | None = None


@dataclass(frozen=True)
class Choice:
    """One /group button: a purpose, an agency class, or the language."""

    purpose: str | None = None
    class_id: int | None = None
    language: str | None = None


def choose(engine: Engine, actor: Actor, chat_id: int, choice: Choice) -> Chosen:
    """Apply one /group button (admins only; re-checked at every press)."""
    require(actor, Action.MANAGE_GROUPS)
    who = audit_actor(actor)
    purpose, class_id, language = choice.purpose, choice.class_id, choice.language
    with session_scope(engine) as session:
        try:
            if purpose == ChatPurpose.AGENCY.value:
                return Chosen("agency_hint")
            if purpose == ChatPurpose.AGENCY_CLASS.value:
                return Chosen("classes", [(c.id or 0, c.name) for c in agency_classes(session)])
            if purpose is not None:
                register(session, chat_id, purpose=purpose, actor=who)
                return Chosen("language")
            if class_id is not None:
                register(session, chat_id, purpose=ChatPurpose.AGENCY_CLASS.value, class_id=class_id,
                         actor=who)
                return Chosen("language")
            if language is not None:
                set_language(session, chat_id, language, actor=who)
                session.flush()
                return Chosen("done", group=next((g for g in list_groups(session) if g.chat_id == chat_id),
                                                 None))
        except ValueError:
            return Chosen("invalid")
    return Chosen("invalid")


def overview(engine: Engine, actor: Actor) -> list[GroupLine]:
    """/groups: admins only."""
    require(actor, Action.MANAGE_GROUPS)
    with session_scope(engine) as session:
        return list_groups(session)


# --- what a send error says about a group ---------------------------------------------------

GONE = ("kicked", "not a member", "was deleted", "chat not found")
MUTED = ("not enough rights", "have no rights", "chat_write_forbidden", "need administrator rights")


def classify_send_error(message: str) -> str | None:
    """``gone`` (the bot is out of the chat), ``muted`` (it may not post) or None."""
    lowered = message.lower()
    if any(m in lowered for m in MUTED):
        return "muted"
    if any(g in lowered for g in GONE):
        return "gone"
    return None


def note_send_error(engine: Engine, chat_id: int, message: str) -> str | None:
    """A message to a group failed: mark the group inactive or unable to post, as the error says."""
    verdict = classify_send_error(message)
    if verdict is None or chat_id >= 0:
        return verdict
    with session_scope(engine) as session:
        if verdict == "gone":
            bot_left(session, chat_id, reason=message, actor="system")
        else:
            set_can_post(session, chat_id, False, reason=message, actor="system")
    return verdict


def migrate_by_id(engine: Engine, old_id: int, new_id: int) -> None:
    with session_scope(engine) as session:
        migrate(session, old_id, new_id, actor="system")
