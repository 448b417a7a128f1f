"""The onboarding commands of the ``dondoc`` command line: ``invite``, ``invitations`` and
``members``. ``bot.cli`` adds them with :func:`add_parsers`; a refusal raises ``ValueError``
(one readable line, exit status 1) and changes nothing."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager
from datetime import datetime

from sqlmodel import Session

from bot.settings import Settings
from models import app_state, invitations, members
from models.agencies import find_agency
from models.db import existing_session
from models.tables import Agency, Member

ACTOR = "cli"


class MembersCommandError(ValueError):
    """A refused command: printed as one line by ``bot.cli.main``."""


def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _session(settings: Settings) -> AbstractContextManager[Session]:
    return existing_session(settings.database_url)


def _agency(session: Session, ref: str) -> Agency:
    agency = find_agency(session, ref)
    if agency is None or not agency.active:
        raise MembersCommandError(f"no agency with code or name {ref!r}; see `dondoc agencies list`")
    return agency


def _member(session: Session, ref: str) -> Member:
    member = members.find_member(session, ref)
    if member is None:
        raise MembersCommandError(f"no member {ref!r} (give a Telegram user id or @username)")
    return member


def _local(settings: Settings, moment: datetime) -> str:
    """An instant as the operator reads it: local time in DONDOC_TIMEZONE, the zone named."""
    return f"{moment.astimezone(settings.tz):%Y-%m-%d %H:%M} ({settings.timezone})"


def invite_link(username: str | None, token: str) -> str | None:
    return f"https://t.me/{username}?start={token}" if username else None


# --- commands -----------------------------------------------------------------------------

def cmd_invite(settings: Settings, args: argparse.Namespace) -> None:
    """Create an invitation and print its token (and link, once the bot's username is known)."""
    with _session(settings) as session:
        agency = _agency(session, args.agency)
        assert agency.id is not None
        invitation = invitations.create_invitation(
            session, agency_id=agency.id, role=args.role, max_uses=args.uses,
            expires_days=args.expires, created_by=ACTOR)
        link = invite_link(app_state.bot_username(session), invitation.token)
    uses = "1 use" if invitation.max_uses == 1 else f"{invitation.max_uses} uses"
    expires = (f"expires {_local(settings, invitation.expires_at)}" if invitation.expires_at
               else "never expires")
    _echo(f"Invitation to {agency.name} as {invitation.role}: {uses}, {expires}.")
    _echo(f"Token: {invitation.token}")
    if link:
        _echo(f"Link: {link}")
    else:
        _echo("Start the bot once to learn its link; until then the user can send "
              f"/start {invitation.token} to the bot.")


def cmd_invitations_list(settings: Settings, args: argparse.Namespace) -> None:
    with _session(settings) as session:
        views = invitations.list_invitations(session, include_inactive=args.all)
    if args.format == "json":
        rows = [{**v.to_json(), "expires_at": v.expires_at.astimezone(settings.tz).isoformat()
                 if v.expires_at else None} for v in views]
        _echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for v in views:
        expires = _local(settings, v.expires_at) if v.expires_at else "never"
        _echo(f"{v.token}  {v.role:<11} {v.uses}/{v.max_uses} uses  expires {expires}  "
              f"{v.state:<8} {v.agency or '-'}")
    _echo(f"{len(views)} invitations.")


def cmd_invitations_revoke(settings: Settings, args: argparse.Namespace) -> None:
    with _session(settings) as session:
        invitations.revoke(session, token=args.token, actor=ACTOR)
    _echo("Invitation revoked.")


def _describe(view: members.MemberView) -> str:
    handle = f"@{view.username}" if view.username else "-"
    state = "" if view.active else "  (deactivated)"
    return (f"{view.telegram_user_id:<12} {handle:<20} {view.role:<11} "
            f"{view.agency_code or '-':<12} {view.full_name}{state}")


def cmd_members_list(settings: Settings, args: argparse.Namespace) -> None:
    with _session(settings) as session:
        agency_id = _agency(session, args.agency).id if args.agency else None
        views = members.list_members(session, agency_id=agency_id, role=args.role,
                                     include_inactive=args.all)
    if args.format == "json":
        _echo(json.dumps([v.to_json() for v in views], ensure_ascii=False, indent=2))
        return
    _echo(f"{'TELEGRAM ID':<12} {'USERNAME':<20} {'ROLE':<11} {'AGENCY':<12} NAME")
    for view in views:
        _echo(_describe(view))
    _echo(f"{len(views)} members.")


def _change(settings: Settings, ref: str, action: str, **kwargs: object) -> None:
    with _session(settings) as session:
        member = _member(session, ref)
        assert member.id is not None
        if action == "move":
            members.move_member(session, member_id=member.id, actor=ACTOR,
                                agency_id=_agency(session, str(kwargs["agency"])).id or 0)
        elif action == "role":
            members.change_role(session, member_id=member.id, role=str(kwargs["role"]), actor=ACTOR)
        elif action == "deactivate":
            members.deactivate(session, member_id=member.id, actor=ACTOR)
        else:
            members.reactivate(session, member_id=member.id, actor=ACTOR)
        line = _describe(members.view(session, member))
    _echo(line)


def cmd_members_move(settings: Settings, args: argparse.Namespace) -> None:
    _change(settings, args.member, "move", agency=args.agency)


def cmd_members_role(settings: Settings, args: argparse.Namespace) -> None:
    _change(settings, args.member, "role", role=args.role)


def cmd_members_deactivate(settings: Settings, args: argparse.Namespace) -> None:
    _change(settings, args.member, "deactivate")


def cmd_members_reactivate(settings: Settings, args: argparse.Namespace) -> None:
    _change(settings, args.member, "reactivate")


# --- parsers ------------------------------------------------------------------------------

def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("invite", help="create an invitation link for an agency and a role")
    p.add_argument("--agency", required=True, help="agency code or name (see `dondoc agencies list`)")
    p.add_argument("--role", required=True, choices=members.ROLES)
    p.add_argument("--uses", type=_positive, default=1, help="how many people may use it (default 1)")
    p.add_argument("--expires", type=_positive, default=7, metavar="DAYS",
                   help="days until it expires (default 7)")
    p.set_defaults(handler=cmd_invite)

    group = sub.add_parser("invitations", help="list or revoke invitations")
    group_sub = group.add_subparsers(dest="invitations_command", metavar="ACTION", required=True)
    p = group_sub.add_parser("list", help="usable invitations (--all: also used up, expired, revoked)")
    p.add_argument("--all", action="store_true")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_invitations_list)
    p = group_sub.add_parser("revoke", help="make an invitation unusable")
    p.add_argument("token")
    p.set_defaults(handler=cmd_invitations_revoke)

    group = sub.add_parser("members", help="list members; move, change role, deactivate")
    group_sub = group.add_subparsers(dest="members_command", metavar="ACTION", required=True)
    p = group_sub.add_parser("list", help="members (--all: deactivated ones too)")
    p.add_argument("--agency", help="only this agency (code or name)")
    p.add_argument("--role", choices=members.ROLES)
    p.add_argument("--all", action="store_true")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_members_list)
    member_help = "Telegram user id or @username"
    p = group_sub.add_parser("move", help="move a member to another agency")
    p.add_argument("member", help=member_help)
    p.add_argument("--agency", required=True, help="agency code or name")
    p.set_defaults(handler=cmd_members_move)
    p = group_sub.add_parser("role", help="change a member's role")
    p.add_argument("member", help=member_help)
    p.add_argument("role", choices=members.ROLES)
    p.set_defaults(handler=cmd_members_role)
    p = group_sub.add_parser("deactivate", help="stop reminders and access for a member")
    p.add_argument("member", help=member_help)
    p.set_defaults(handler=cmd_members_deactivate)
    p = group_sub.add_parser("reactivate", help="undo deactivate")
    p.add_argument("member", help=member_help)
    p.set_defaults(handler=cmd_members_reactivate)
