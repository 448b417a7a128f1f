"""/invite and /members as services: each function takes the :class:`~domain.access.Actor` of the
update and what the pressed button carried, checks the access policy (``Action.INVITE``,
``Action.MANAGE_MEMBERS``) and that the member or agency is still as the button assumed, and
returns plain data for ``views.members`` / ``views.onboarding``. One transaction per call.

Refusals: :class:`~domain.access.NotAllowed` (not an admin, a forged value, an admin acting on
themselves) and :class:`Stale` (the target changed since the button was shown); nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from domain.access import Action, Actor, NotAllowed, require
from models import invitations, members
from models.db import session_scope
from models.invitations import RedeemStatus
from models.members import MemberChangeError, MemberView
from models.tables import Agency, Member

PAGE_SIZE = 8
USES_CHOICES = (1, 2, 5, 10, 20, 50)
EXPIRES_DAYS = 7


class Stale(LookupError):
    """The member or agency is no longer as the button assumed."""


@dataclass(frozen=True)
class AgencyOption:
    agency_id: int
    name: str


@dataclass(frozen=True)
class Picker:
    """A page of agencies to choose from (for an invitation, or to move ``member`` to)."""

    agencies: list[AgencyOption]
    page: int
    pages: int
    member: MemberView | None = None


@dataclass(frozen=True)
class InviteStep:
    """The invitation so far: the agency, then the role (``role`` "" while it is asked)."""

    agency: AgencyOption
    role: str = ""


@dataclass(frozen=True)
class Invited:
    agency: str
    role: str
    uses: int
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class MembersPage:
    members: list[MemberView]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class MemberCard:
    """One member (``notice``: the change just made: moved, role, deactivated, reactivated)."""

    member: MemberView
    notice: str = ""


@dataclass(frozen=True)
class Confirm:
    """Asking to confirm a change: ``kind`` move | role | deactivate | reactivate."""

    kind: str
    member: MemberView
    agency: AgencyOption | None = None
    role: str = ""
    current: str = ""  # the role the member has (role changes)


@dataclass(frozen=True)
class RoleChoice:
    member: MemberView


@dataclass(frozen=True)
class Redeemed:
    status: RedeemStatus
    agency: str
    role: str


def _audit_name(actor: Actor) -> str:
    """How the audit log names someone acting through Telegram."""
    if actor.member_id is not None:
        return f"member:{actor.member_id}"
    return f"telegram:{actor.telegram_user_id}"


def _page_of(items: list[AgencyOption], page: int) -> tuple[list[AgencyOption], int, int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], page, pages


def _agencies(session: Session) -> list[AgencyOption]:
    return [AgencyOption(a.id or 0, a.name) for a in members.active_agencies(session)]


def _agency(session: Session, agency_id: int) -> AgencyOption:
    agency = session.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise Stale(f"agency {agency_id}")
    return AgencyOption(agency_id, agency.name)


def _role(role: str) -> str:
    if role not in members.ROLES:
        raise NotAllowed("forged")
    return role


# --- invitations --------------------------------------------------------------------------

def invite_agencies(engine: Engine, actor: Actor, page: int) -> Picker:
    """/invite: a page of the agencies an invitation can be for."""
    require(actor, Action.INVITE)
    with session_scope(engine) as session:
        shown, page, pages = _page_of(_agencies(session), page)
        return Picker(shown, page, pages)


def invite_agency(engine: Engine, actor: Actor, agency_id: int, role: str = "") -> InviteStep:
    """The agency chosen (then the role): both checked again."""
    require(actor, Action.INVITE)
    role = _role(role) if role else ""
    with session_scope(engine) as session:
        return InviteStep(_agency(session, agency_id), role)


def invite(engine: Engine, actor: Actor, agency_id: int, role: str, uses: int, *,
           now: datetime | None = None) -> Invited:
    """Create the invitation (the link is made from its token)."""
    require(actor, Action.INVITE)
    role = _role(role)
    if uses not in USES_CHOICES:
        raise NotAllowed("forged")
    with session_scope(engine) as session:
        agency = _agency(session, agency_id)
        created = invitations.create_invitation(session, agency_id=agency_id, role=role, max_uses=uses,
                                                expires_days=EXPIRES_DAYS, created_by=_audit_name(actor),
                                                now=now)
        assert created.expires_at is not None
        return Invited(agency.name, role, uses, created.token, created.expires_at)


def redeem(engine: Engine, *, token: str, telegram_user_id: int, full_name: str, username: str | None,
           language: str | None) -> Redeemed:
    """``/start <token>``: register the person with the invitation (anyone may try a link)."""
    with session_scope(engine) as session:
        result = invitations.redeem(session, token=token, telegram_user_id=telegram_user_id,
                                    full_name=full_name, username=username, language=language)
        return Redeemed(result.status, result.agency.name if result.agency else "-",
                        result.member.role if result.member else "")


# --- members ------------------------------------------------------------------------------

def _member(session: Session, member_id: int, *, active: bool | None = None,
            agency_id: int | None = None, role: str | None = None) -> Member:
    """The member, still as the button assumed; otherwise :class:`Stale`."""
    member = session.get(Member, member_id)
    if member is None or (active is not None and member.active != active):
        raise Stale(f"member {member_id}")
    if (agency_id is not None and (member.agency_id or 0) != agency_id) or \
            (role is not None and member.role != role):
        raise Stale(f"member {member_id}")
    return member


def _not_self(member: Member, actor: Actor) -> None:
    """Admins do not demote or deactivate themselves here (no locking oneself out)."""
    if member.telegram_user_id == actor.telegram_user_id:
        raise NotAllowed("self")


def _apply(session: Session, member: Member, notice: str, change: Callable[[], object]) -> MemberCard:
    try:
        change()
    except MemberChangeError as exc:
        if exc.reason in ("stale", "unknown"):
            raise Stale(str(exc)) from None
        raise NotAllowed("invalid") from None
    return MemberCard(members.view(session, member), notice)


def members_page(engine: Engine, actor: Actor, page: int) -> MembersPage:
    """/members: a page of every member (deactivated ones last)."""
    require(actor, Action.MANAGE_MEMBERS)
    with session_scope(engine) as session:
        views = members.list_members(session, include_inactive=True)
    pages = max(1, -(-len(views) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return MembersPage(views[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], page, pages, len(views))


def member_card(engine: Engine, actor: Actor, member_id: int) -> MemberCard:
    require(actor, Action.MANAGE_MEMBERS)
    with session_scope(engine) as session:
        return MemberCard(members.view(session, _member(session, member_id)))


def move(engine: Engine, actor: Actor, member_id: int, current: int, target: int | None, *,
         page: int = 0, confirmed: bool = False) -> Picker | Confirm | MemberCard:
    """Move a member: the agency picker (``target`` None), the confirmation, the move."""
    require(actor, Action.MANAGE_MEMBERS)
    with session_scope(engine) as session:
        member = _member(session, member_id, active=True, agency_id=current)
        if target is None:
            shown, page, pages = _page_of(_agencies(session), page)
            return Picker(shown, page, pages, members.view(session, member))
        agency = _agency(session, target)
        if not confirmed:
            return Confirm("move", members.view(session, member), agency)
        return _apply(session, member, "moved", lambda: members.move_member(
            session, member_id=member_id, agency_id=target, actor=_audit_name(actor),
            expected_agency_id=current))


def change_role(engine: Engine, actor: Actor, member_id: int, current: str, new: str | None, *,
                confirmed: bool = False) -> RoleChoice | Confirm | MemberCard:
    """Give a member another role: the choice (``new`` None), the confirmation, the change."""
    require(actor, Action.MANAGE_MEMBERS)
    new = _role(new) if new is not None else None  # forged values first: not allowed
    with session_scope(engine) as session:
        member = _member(session, member_id, active=True, role=_role(current))
        _not_self(member, actor)
        if new is None:
            return RoleChoice(members.view(session, member))
        if not confirmed:
            return Confirm("role", members.view(session, member), role=new, current=current)
        return _apply(session, member, "role", lambda: members.change_role(
            session, member_id=member_id, role=new, actor=_audit_name(actor), expected_role=current))


def set_active(engine: Engine, actor: Actor, member_id: int, active: bool, *,
               confirmed: bool = False) -> Confirm | MemberCard:
    """Deactivate (``active`` False) or reactivate a member, after a confirmation."""
    require(actor, Action.MANAGE_MEMBERS)
    with session_scope(engine) as session:
        member = _member(session, member_id, active=not active)
        if not active:
            _not_self(member, actor)
        if not confirmed:
            return Confirm("reactivate" if active else "deactivate", members.view(session, member))
        audit = _audit_name(actor)
        if active:
            return _apply(session, member, "reactivated",
                          lambda: members.reactivate(session, member_id=member_id, actor=audit))
        return _apply(session, member, "deactivated",
                      lambda: members.deactivate(session, member_id=member_id, actor=audit))


def agency_name(engine: Engine, actor: Actor) -> str:
    """The member's agency as /start names it ("-" when they have none)."""
    if actor.agency_id is None:
        return "-"
    with session_scope(engine) as session:
        agency = session.get(Agency, actor.agency_id)
        return agency.name if agency is not None else "-"
