"""Members: who a Telegram user is to dondoc (agency, role, language)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.tables import Agency, Member, MemberRole


def member_by_telegram_id(session: Session, telegram_user_id: int) -> Member | None:
    return session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).first()


def active_member(session: Session, telegram_user_id: int) -> Member | None:
    """The member behind a Telegram user, if registered and not deactivated."""
    member = member_by_telegram_id(session, telegram_user_id)
    return member if member is not None and member.active else None


def admin_chat_ids(session: Session, extra: frozenset[int] = frozenset()) -> list[int]:
    """Telegram ids of everyone to tell about failures: admin members plus configured ids."""
    query = select(Member.telegram_user_id).where(
        Member.role == MemberRole.ADMIN.value, col(Member.active),
        col(Member.unreachable_at).is_(None))
    return sorted(set(session.exec(query)) | set(extra))


def agency_of(session: Session, member: Member) -> Agency | None:
    return session.get(Agency, member.agency_id) if member.agency_id else None
