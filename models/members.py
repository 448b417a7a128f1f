"""Members: who a Telegram user is to dondoc (agency, role, language), and how admins change that.

Every change validates its input, checks that the member is still in the state the caller saw
(``expected_*``: a button pressed on an old message must not act on a changed member), and
writes an audit row. Errors are :class:`MemberChangeError` with a machine-readable ``reason``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlmodel import Session, col, select

from domain.access import Actor, Standing
from domain.collation import vi_key
from models.tables import Agency, AuditLog, ExplanationDraft, ExtensionDraft, Member, MemberRole

ROLES = tuple(role.value for role in MemberRole)


class MemberChangeError(ValueError):
    """A change was refused. ``reason``: ``unknown`` (no such member/agency), ``stale`` (the member
    is no longer as the caller saw it), ``invalid`` (a bad value)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- lookups ------------------------------------------------------------------------------

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


# What the shipped agencies are to the access policy (models/data/agencies.csv codes).
STANDING_BY_CODE = {
    "UBND-TINH": Standing.PROVINCE_COMMITTEE,
    "VP-UBND": Standing.COMMITTEE_OFFICE,
    "SNV": Standing.FOCAL_AGENCY,
}


def actor_of(session: Session, member: Member | None, *, telegram_user_id: int | None = None,
             configured_admins: frozenset[int] = frozenset()) -> Actor:
    """The access policy's view of a person (``member`` None: a stranger)."""
    user_id = member.telegram_user_id if member is not None else telegram_user_id or 0
    if member is None:
        return Actor(user_id, configured_admin=user_id in configured_admins)
    agency = agency_of(session, member)
    standing = STANDING_BY_CODE.get(agency.code, Standing.OTHER) if agency is not None else Standing.OTHER
    return Actor(user_id, member_id=member.id, role=member.role, agency_id=member.agency_id,
                 standing=standing, active=member.active, language=member.language,
                 full_name=member.full_name, configured_admin=user_id in configured_admins)


def load_actor(session: Session, telegram_user_id: int, configured_admins: frozenset[int]) -> Actor:
    """Who is asking, for one update: loaded once, then passed around as a plain value."""
    member = member_by_telegram_id(session, telegram_user_id)
    actor = actor_of(session, member, telegram_user_id=telegram_user_id, configured_admins=configured_admins)
    if member is None or member.id is None:
        return actor
    # Indexed look-ups, so that the router asks which draft only of those writing one.
    drafting = any(session.exec(select(table.id).where(col(table.member_id) == member.id)).first()
                   is not None for table in (ExplanationDraft, ExtensionDraft))
    return replace(actor, drafting=drafting)


def agency_of(session: Session, member: Member) -> Agency | None:
    return session.get(Agency, member.agency_id) if member.agency_id else None


def actor_for(session: Session, telegram_user_id: int) -> str:
    """How the audit log names someone acting through Telegram."""
    member = member_by_telegram_id(session, telegram_user_id)
    return f"member:{member.id}" if member is not None else f"telegram:{telegram_user_id}"


def parse_role(value: str) -> str:
    role = value.strip().lower().replace("-", "_").replace(" ", "_")
    if role not in ROLES:
        raise MemberChangeError("invalid", f"{value!r} is not a role; use one of {', '.join(ROLES)}")
    return role


def find_member(session: Session, ref: str) -> Member | None:
    """A member by Telegram user id (digits) or @username (case-insensitive)."""
    ref = ref.strip()
    if ref.lstrip("-").isdigit():
        user_id = int(ref)
        # Beyond a BIGINT no one can be; asking the database would overflow instead of saying so.
        return member_by_telegram_id(session, user_id) if -(2**63) <= user_id < 2**63 else None
    name = ref.removeprefix("@").lower()
    if not name:
        return None
    return next((m for m in session.exec(select(Member).where(col(Member.username).is_not(None)))
                 if (m.username or "").lower() == name), None)


def require_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise MemberChangeError("unknown", f"no member with id {member_id}")
    return member


@dataclass(frozen=True)
class MemberView:
    id: int
    telegram_user_id: int
    full_name: str
    username: str | None
    agency_id: int | None
    agency_code: str | None
    agency: str | None
    role: str
    language: str | None
    active: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def view(session: Session, member: Member) -> MemberView:
    agency = agency_of(session, member)
    assert member.id is not None
    return MemberView(member.id, member.telegram_user_id, member.full_name, member.username,
                      member.agency_id, agency.code if agency else None, agency.name if agency else None,
                      member.role, member.language, member.active)


def list_members(session: Session, *, agency_id: int | None = None, role: str | None = None,
                 include_inactive: bool = False) -> list[MemberView]:
    """Members by agency name then member name; active ones only unless asked."""
    query = select(Member)
    if agency_id is not None:
        query = query.where(Member.agency_id == agency_id)
    if role is not None:
        query = query.where(Member.role == parse_role(role))
    if not include_inactive:
        query = query.where(col(Member.active))
    views = [view(session, m) for m in session.exec(query)]
    views.sort(key=lambda v: (not v.active, vi_key(v.agency or ""), vi_key(v.full_name), v.id))
    return views


# --- changes ------------------------------------------------------------------------------

def _audit(session: Session, actor: str, action: str, member: Member, **details: Any) -> None:
    session.add(AuditLog(actor=actor, action=action, entity="member", entity_id=str(member.id),
                         details=json.dumps(details, ensure_ascii=False, default=str)))
    session.flush()


def _check_active(member: Member, expected_active: bool) -> None:
    if member.active != expected_active:
        state = "active" if member.active else "deactivated"
        raise MemberChangeError("stale", f"member {member.id} is {state} now")


def move_member(session: Session, *, member_id: int, agency_id: int, actor: str,
                expected_agency_id: int | None = None) -> Member:
    """Move an active member to another (active) agency. ``expected_agency_id`` (0: none) is
    the agency the caller saw the member in; if it differs now, nothing changes."""
    member = require_member(session, member_id)
    _check_active(member, True)
    if expected_agency_id is not None and (member.agency_id or 0) != expected_agency_id:
        raise MemberChangeError("stale", f"member {member_id} has moved since")
    agency = session.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise MemberChangeError("unknown", f"no active agency with id {agency_id}")
    if member.agency_id == agency_id:
        raise MemberChangeError("invalid", f"member {member_id} is already in {agency.name}")
    old = member.agency_id
    member.agency_id = agency_id
    session.add(member)
    _audit(session, actor, "member.move", member, old_agency_id=old, new_agency_id=agency_id)
    return member


def change_role(session: Session, *, member_id: int, role: str, actor: str,
                expected_role: str | None = None) -> Member:
    """Give an active member another role."""
    new_role = parse_role(role)
    member = require_member(session, member_id)
    _check_active(member, True)
    if expected_role is not None and member.role != expected_role:
        raise MemberChangeError("stale", f"member {member_id}'s role has changed since")
    if member.role == new_role:
        raise MemberChangeError("invalid", f"member {member_id} is already {new_role}")
    old = member.role
    member.role = new_role
    session.add(member)
    _audit(session, actor, "member.role", member, old_role=old, new_role=new_role)
    return member


def deactivate(session: Session, *, member_id: int, actor: str) -> Member:
    """Stop everything for a member (reminders, reports, admin rights); history stays."""
    member = require_member(session, member_id)
    _check_active(member, True)
    member.active = False
    session.add(member)
    _audit(session, actor, "member.deactivate", member)
    return member


def reactivate(session: Session, *, member_id: int, actor: str) -> Member:
    """Undo :func:`deactivate`."""
    member = require_member(session, member_id)
    _check_active(member, False)
    member.active = True
    session.add(member)
    _audit(session, actor, "member.reactivate", member)
    return member


def active_agencies(session: Session) -> list[Agency]:
    """Agencies a member can belong to, by name (for pickers)."""
    agencies = list(session.exec(select(Agency).where(col(Agency.active))))
    agencies.sort(key=lambda a: (vi_key(a.name), a.id or 0))
    return agencies
