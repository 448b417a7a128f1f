"""Invitations: an admin hands out a link; whoever opens it joins an agency with a role.

The token travels as Telegram's ``/start`` parameter (``https://t.me/<bot>?start=<token>``), so
it only uses ``A-Za-z0-9_-`` and is at most 64 characters. Redeeming takes a use with one
conditional ``UPDATE`` (``uses < max_uses``), so two people racing for the last use cannot both
win, and the use and the new member are stored together or not at all.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.text import scrub
from models.members import MemberChangeError, member_by_telegram_id, parse_role
from models.tables import Agency, AuditLog, Invitation, Member
from models.types import utcnow

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_USES = 1000
MAX_EXPIRES_DAYS = 365


class InvitationError(ValueError):
    """An invitation cannot be created or revoked; the message says why."""


class RedeemStatus(StrEnum):
    OK = "ok"
    ALREADY_MEMBER = "already_member"  # an active member opened a link: nothing changes
    DEACTIVATED = "deactivated"  # a deactivated member: only an admin can bring them back
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"
    REVOKED = "revoked"


@dataclass(frozen=True)
class RedeemResult:
    status: RedeemStatus
    member: Member | None = None
    agency: Agency | None = None

    @property
    def ok(self) -> bool:
        return self.status is RedeemStatus.OK


def _audit(session: Session, actor: str, action: str, invitation: Invitation, **details: Any) -> None:
    session.add(AuditLog(actor=actor, action=action, entity="invitation", entity_id=str(invitation.id),
                         details=json.dumps(details, ensure_ascii=False, default=str)))


def new_token() -> str:
    """22 URL-safe characters; never starting with ``-`` (a command line would read an option)."""
    while True:
        token = secrets.token_urlsafe(16)
        if not token.startswith("-"):
            return token


def create_invitation(session: Session, *, agency_id: int, role: str, max_uses: int = 1,
                      expires_days: int | None = 7, created_by: str,
                      now: datetime | None = None) -> Invitation:
    """A new invitation to ``agency_id`` as ``role``; ``expires_days=None`` never expires."""
    try:
        role = parse_role(role)
    except MemberChangeError as exc:
        raise InvitationError(str(exc)) from None
    if not 1 <= max_uses <= MAX_USES:
        raise InvitationError(f"the number of uses must be between 1 and {MAX_USES}")
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise InvitationError(f"the expiry must be between 1 and {MAX_EXPIRES_DAYS} days")
    agency = session.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise InvitationError(f"no active agency with id {agency_id}")
    now = now or utcnow()
    invitation = Invitation(token=new_token(), agency_id=agency_id, role=role, max_uses=max_uses,
                            expires_at=now + timedelta(days=expires_days) if expires_days else None,
                            created_by=created_by, created_at=now)
    session.add(invitation)
    session.flush()
    _audit(session, created_by, "invitation.create", invitation, agency_id=agency_id, role=role,
           max_uses=max_uses, expires_at=invitation.expires_at)
    session.flush()
    return invitation


def by_token(session: Session, token: str) -> Invitation | None:
    if not TOKEN_RE.match(token or ""):
        return None
    return session.exec(select(Invitation).where(Invitation.token == token)).first()


def state_of(invitation: Invitation, now: datetime) -> RedeemStatus:
    """Whether the invitation can still be used (``OK``) or why not."""
    if invitation.revoked_at is not None:
        return RedeemStatus.REVOKED
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return RedeemStatus.EXPIRED
    if invitation.uses >= invitation.max_uses:
        return RedeemStatus.USED_UP
    return RedeemStatus.OK


def _take_use(session: Session, invitation: Invitation) -> bool:
    """Atomically take one use; False if someone took the last one first."""
    result = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.uses) < col(Invitation.max_uses),
               col(Invitation.revoked_at).is_(None))
        .values(uses=col(Invitation.uses) + 1)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def redeem(session: Session, *, token: str, telegram_user_id: int, full_name: str,
           username: str | None, language: str | None, now: datetime | None = None) -> RedeemResult:
    """Register the Telegram user with the invitation's agency and role, if it is still valid."""
    now = now or utcnow()
    existing = member_by_telegram_id(session, telegram_user_id)
    invitation = by_token(session, token)
    if invitation is None:
        return RedeemResult(RedeemStatus.UNKNOWN)
    agency = session.get(Agency, invitation.agency_id) if invitation.agency_id else None
    if existing is not None:
        status = RedeemStatus.ALREADY_MEMBER if existing.active else RedeemStatus.DEACTIVATED
        return RedeemResult(status, existing, session.get(Agency, existing.agency_id)
                            if existing.agency_id else None)
    status = state_of(invitation, now)
    if status is not RedeemStatus.OK:
        return RedeemResult(status, agency=agency)
    if agency is None or not agency.active:
        return RedeemResult(RedeemStatus.REVOKED)
    try:
        with session.begin_nested():
            if not _take_use(session, invitation):
                session.refresh(invitation)
                return RedeemResult(state_of(invitation, now), agency=agency)
            member = Member(telegram_user_id=telegram_user_id, agency_id=agency.id, role=invitation.role,
                            full_name=scrub(full_name)[:255], username=scrub(username or "")[:64] or None,
                            language=language, created_at=now)
            session.add(member)
            session.flush()
            session.add(AuditLog(actor=f"member:{member.id}", action="member.register", entity="member",
                                 entity_id=str(member.id),
                                 details=json.dumps({"invitation_id": invitation.id,
                                                     "agency_id": agency.id, "role": invitation.role})))
            _audit(session, f"member:{member.id}", "invitation.redeem", invitation, member_id=member.id)
            session.flush()
    except IntegrityError:
        # The same person opened the link twice at once: the other attempt registered them.
        existing = member_by_telegram_id(session, telegram_user_id)
        return RedeemResult(RedeemStatus.ALREADY_MEMBER, existing, agency)
    session.refresh(invitation)
    return RedeemResult(RedeemStatus.OK, member, agency)


@dataclass(frozen=True)
class InvitationView:
    id: int
    token: str
    agency: str | None
    role: str
    uses: int
    max_uses: int
    expires_at: datetime | None
    created_by: str
    state: str

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "expires_at": self.expires_at.isoformat() if self.expires_at else None}


def list_invitations(session: Session, *, include_inactive: bool = False,
                     now: datetime | None = None) -> list[InvitationView]:
    """Invitations, newest first; only usable ones unless asked."""
    now = now or utcnow()
    agencies = {a.id: a.name for a in session.exec(select(Agency))}
    views = []
    for inv in session.exec(select(Invitation).order_by(col(Invitation.created_at).desc(),
                                                       col(Invitation.id).desc())):
        state = state_of(inv, now)
        if state is RedeemStatus.OK or include_inactive:
            assert inv.id is not None
            views.append(InvitationView(inv.id, inv.token, agencies.get(inv.agency_id), inv.role,
                                        inv.uses, inv.max_uses, inv.expires_at, inv.created_by,
                                        state.value))
    return views


def revoke(session: Session, *, token: str, actor: str, now: datetime | None = None) -> Invitation:
    """Make an invitation unusable from now on."""
    invitation = by_token(session, token)
    if invitation is None:
        raise InvitationError("no invitation with that token")
    if invitation.revoked_at is not None:
        raise InvitationError("that invitation is already revoked")
    invitation.revoked_at = now or utcnow()
    session.add(invitation)
    _audit(session, actor, "invitation.revoke", invitation)
    session.flush()
    return invitation
