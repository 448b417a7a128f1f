"""Group chats the bot is in: what they are for, and what happened to them.

Every change is audited. The bot learns of groups from Telegram (added, removed, restricted,
turned into a supergroup) and from send errors (kicked, no right to post); an admin registers
a group's purpose and language with ``/group``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from domain.collation import vi_key
from models.db import session_scope
from models.tables import (
    Agency,
    AgencyClass,
    AuditLog,
    Chat,
    ChatPurpose,
    Delivery,
    DeliveryState,
    Member,
    MemberRole,
)

GROUP_TYPES = ("group", "supergroup")
PURPOSES = tuple(p.value for p in ChatPurpose)


def audit(session: Session, actor: str, action: str, chat_id: int, **details: object) -> None:
    session.add(AuditLog(actor=actor, action=action, entity="chat", entity_id=str(chat_id),
                         details=json.dumps(details, ensure_ascii=False, default=str)))


def may_manage(session: Session, telegram_user_id: int, configured: frozenset[int]) -> bool:
    """Only an active dondoc admin (or an id in DONDOC_ADMIN_IDS) may register groups."""
    if telegram_user_id in configured:
        return True
    member = session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).first()
    return member is not None and member.active and member.role == MemberRole.ADMIN.value


def chat_by_telegram_id(session: Session, chat_id: int) -> Chat | None:
    return session.exec(select(Chat).where(Chat.telegram_chat_id == chat_id)).first()


def bot_joined(session: Session, *, chat_id: int, title: str, chat_type: str, can_post: bool,
               actor: str) -> Chat:
    """The bot was added to (or came back into) a group: remember it, active."""
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        chat = Chat(telegram_chat_id=chat_id, title=title[:255], type=chat_type)
        session.add(chat)
    chat.title, chat.type, chat.active, chat.can_post = title[:255], chat_type, True, can_post
    audit(session, actor, "group.added", chat_id, title=title, can_post=can_post)
    session.flush()
    return chat


def ensure_group(session: Session, *, chat_id: int, title: str, chat_type: str) -> Chat:
    """The group's row (created if the bot joined before anyone saw it happen)."""
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        chat = Chat(telegram_chat_id=chat_id, title=title[:255], type=chat_type)
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
    session.execute(update(Delivery).where(
        col(Delivery.chat_id) == chat_id, col(Delivery.state) == DeliveryState.PENDING.value)
        .values(state=DeliveryState.FAILED.value, last_error=reason[:500]))


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
    session.execute(update(Delivery).where(
        col(Delivery.chat_id) == old_id,
        col(Delivery.state).in_((DeliveryState.PENDING.value, DeliveryState.SENDING.value)))
        .values(chat_id=new_id))
    audit(session, actor, "group.migrated", new_id, old_chat_id=old_id)
    session.flush()
    return chat


def register(session: Session, chat_id: int, *, purpose: str, agency_id: int | None = None,
             class_id: int | None = None, actor: str) -> Chat:
    """Set what a group is for. Raises ValueError on an unknown chat/purpose/agency/class."""
    chat = chat_by_telegram_id(session, chat_id)
    if chat is None:
        raise ValueError("unknown chat")
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if purpose == ChatPurpose.AGENCY.value and (agency_id is None or session.get(Agency, agency_id) is None):
        raise ValueError("unknown agency")
    if purpose == ChatPurpose.AGENCY_CLASS.value and (
            class_id is None or session.get(AgencyClass, class_id) is None):
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
