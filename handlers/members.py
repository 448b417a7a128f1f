"""``/members``: admins list members and move one to another agency, change a role, deactivate
or reactivate one. Every change has a confirm step.

The buttons carry what the admin saw (``mb:mo:<member>:<agency seen>:<new agency>``); the
server checks again that the presser is an admin and that the member is still in that state,
else "this has changed" and nothing is done::

    /members -> list (mb:p:<page>) -> member (mb:v:<id>)
        -> move:  mb:m:<id>:<cur>:<page> -> mb:ma:<id>:<cur>:<new> -> mb:mo:<id>:<cur>:<new>
        -> role:  mb:r:<id>:<cur>        -> mb:ra:<id>:<cur>:<new> -> mb:ro:<id>:<cur>:<new>
        -> deactivate: mb:d:<id> -> mb:do:<id>;  reactivate: mb:e:<id> -> mb:eo:<id>
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.access import (
    CHANGED,
    NOT_ALLOWED,
    PAGE_SIZE,
    Refused,
    Screen,
    agency_picker,
    parse_data,
    redirect_to_private,
    require_admin,
    role_label,
    run_button,
)
from handlers.common import reply
from models import members
from models.db import run_sync, session_scope
from models.members import MemberChangeError, MemberView
from models.tables import Agency, Member
from scheduler.context import BotContext
from views.html import esc
from views.i18n import gettext as _

Button = InlineKeyboardButton


def _who(view: MemberView) -> str:
    handle = f" @{esc(view.username)}" if view.username else ""
    return f"{esc(view.full_name) or view.telegram_user_id}{handle}"


def _line(view: MemberView) -> str:
    state = "" if view.active else _(" (deactivated)")
    return _("{who} — {role}, {agency}{state}").format(
        who=_who(view), role=role_label(view.role), agency=esc(view.agency or "-"), state=state)


# --- screens ------------------------------------------------------------------------------

def _list_screen(session: Session, page: int) -> Screen:
    views = members.list_members(session, include_inactive=True)
    if not views:
        return Screen(_("No members yet. Create an invitation with /invite."))
    pages = -(-len(views) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = views[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    lines = [_("<b>Members</b> ({n}), page {page} of {pages}:").format(n=len(views), page=page + 1,
                                                                       pages=pages)]
    lines += [f"{page * PAGE_SIZE + i}. {_line(v)}" for i, v in enumerate(shown, 1)]
    rows = [[Button(f"{page * PAGE_SIZE + i}. {v.full_name or v.telegram_user_id}"[:60],
                    callback_data=f"mb:v:{v.id}")] for i, v in enumerate(shown, 1)]
    nav = [Button("‹", callback_data=f"mb:p:{page - 1}")] if page > 0 else []
    if page < pages - 1:
        nav.append(Button("›", callback_data=f"mb:p:{page + 1}"))
    return Screen("\n".join(lines), InlineKeyboardMarkup([*rows, nav] if nav else rows))


def _member_screen(session: Session, member: Member, notice: str | None = None) -> Screen:
    view = members.view(session, member)
    text = _("<b>{name}</b>\nTelegram: {handle} (id {id})\nAgency: {agency}\nRole: {role}\n"
             "Status: {status}").format(
        name=esc(view.full_name or "-"), handle=f"@{esc(view.username)}" if view.username else "-",
        id=view.telegram_user_id, agency=esc(view.agency or "-"), role=role_label(view.role),
        status=_("active") if view.active else _("deactivated"))
    if view.active:
        move = f"mb:m:{view.id}:{view.agency_id or 0}:0"
        rows = [[Button(_("Move to another agency"), callback_data=move)],
                [Button(_("Change role"), callback_data=f"mb:r:{view.id}:{view.role}")],
                [Button(_("Deactivate"), callback_data=f"mb:d:{view.id}")]]
    else:
        rows = [[Button(_("Reactivate"), callback_data=f"mb:e:{view.id}")]]
    rows.append([Button(_("« Back to the list"), callback_data="mb:p:0")])
    return Screen(text, InlineKeyboardMarkup(rows), notice)


def _confirm(text: str, yes: str, member_id: int) -> Screen:
    return Screen(text, InlineKeyboardMarkup([[Button(_("Confirm"), callback_data=yes),
                                               Button(_("Cancel"), callback_data=f"mb:v:{member_id}")]]))


# --- checks -------------------------------------------------------------------------------

def _member(session: Session, member_id: int, *, active: bool | None = None,
            agency_id: int | None = None, role: str | None = None) -> Member:
    """The member, still as the button assumed; otherwise :class:`Refused` (changed)."""
    member = session.get(Member, member_id)
    if member is None or (active is not None and member.active != active):
        raise Refused(CHANGED)
    if (agency_id is not None and (member.agency_id or 0) != agency_id) or \
            (role is not None and member.role != role):
        raise Refused(CHANGED)
    return member


def _not_self(member: Member, user_id: int) -> None:
    """Admins do not demote or deactivate themselves here (no locking oneself out)."""
    if member.telegram_user_id == user_id:
        raise Refused(NOT_ALLOWED)


def _agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise Refused(CHANGED)
    return agency


def _role(role: str) -> str:
    if role not in members.ROLES:
        raise Refused(NOT_ALLOWED)
    return role


def _apply(session: Session, member: Member, change: Callable[[], object], notice: str) -> Screen:
    try:
        change()
    except MemberChangeError as exc:
        raise Refused(CHANGED if exc.reason in ("stale", "unknown") else NOT_ALLOWED) from None
    return _member_screen(session, member, notice)


# --- steps --------------------------------------------------------------------------------

def _move_step(session: Session, kind: str, data: str, actor: str) -> Screen:
    mid, cur, last = (int(p) for p in parse_data(data, "mb", "wiii")[1:])
    member = _member(session, mid, active=True, agency_id=cur)
    if kind == "m":
        keyboard = agency_picker(members.active_agencies(session), last,
                                 choose=lambda a: f"mb:ma:{mid}:{cur}:{a}",
                                 turn=lambda p: f"mb:m:{mid}:{cur}:{p}", back=f"mb:v:{mid}")
        return Screen(_("Move <b>{name}</b> to which agency?").format(name=esc(member.full_name)), keyboard)
    agency = _agency(session, last)
    if kind == "ma":
        return _confirm(_("Move <b>{name}</b> to <b>{agency}</b>?").format(
            name=esc(member.full_name), agency=esc(agency.name)), f"mb:mo:{mid}:{cur}:{last}", mid)
    return _apply(session, member, lambda: members.move_member(
        session, member_id=mid, agency_id=last, actor=actor, expected_agency_id=cur), _("Moved."))


def _role_step(session: Session, kind: str, data: str, actor: str, user_id: int) -> Screen:
    shape = "wiw" if kind == "r" else "wiww"
    mid_s, cur, *new_role = parse_data(data, "mb", shape)[1:]
    mid, new_role = int(mid_s), [_role(r) for r in new_role]  # forged data first: not allowed
    member = _member(session, mid, active=True, role=_role(cur))
    _not_self(member, user_id)
    if kind == "r":
        rows = [[Button(role_label(r), callback_data=f"mb:ra:{mid}:{cur}:{r}")]
                for r in members.ROLES if r != cur]
        rows.append([Button(_("« Back"), callback_data=f"mb:v:{mid}")])
        return Screen(_("New role for <b>{name}</b>?").format(name=esc(member.full_name)),
                      InlineKeyboardMarkup(rows))
    new = new_role[0]
    if kind == "ra":
        text = _("Make <b>{name}</b> {role}?").format(name=esc(member.full_name), role=role_label(new))
        return _confirm(text, f"mb:ro:{mid}:{cur}:{new}", mid)
    return _apply(session, member, lambda: members.change_role(
        session, member_id=mid, role=new, actor=actor, expected_role=cur), _("Role changed."))


def _activation_step(session: Session, kind: str, data: str, actor: str, user_id: int) -> Screen:
    mid = int(parse_data(data, "mb", "wi")[1])
    deactivating = kind in ("d", "do")
    member = _member(session, mid, active=deactivating)
    name = esc(member.full_name)
    if deactivating:
        _not_self(member, user_id)
    if kind == "d":
        return _confirm(_("Deactivate <b>{name}</b>? They will get no more reminders and cannot report."
                          ).format(name=name), f"mb:do:{mid}", mid)
    if kind == "e":
        return _confirm(_("Reactivate <b>{name}</b>?").format(name=name), f"mb:eo:{mid}", mid)
    if deactivating:
        return _apply(session, member, lambda: members.deactivate(session, member_id=mid, actor=actor),
                      _("Deactivated."))
    return _apply(session, member, lambda: members.reactivate(session, member_id=mid, actor=actor),
                  _("Reactivated."))


def _step(session: Session, user_id: int, actor: str, data: str) -> Screen:
    kind = data.split(":")[1] if data.count(":") >= 1 else ""
    if kind == "p":
        return _list_screen(session, int(parse_data(data, "mb", "wi")[1]))
    if kind == "v":
        return _member_screen(session, _member(session, int(parse_data(data, "mb", "wi")[1])))
    if kind in ("m", "ma", "mo"):
        return _move_step(session, kind, data, actor)
    if kind in ("r", "ra", "ro"):
        return _role_step(session, kind, data, actor, user_id)
    if kind in ("d", "do", "e", "eo"):
        return _activation_step(session, kind, data, actor, user_id)
    raise Refused(NOT_ALLOWED)


def _handle(context: BotContext, user_id: int, data: str) -> Screen:
    with session_scope(context.engine) as session:
        require_admin(session, user_id, context.config.admin_user_ids)
        return _step(session, user_id, members.actor_for(session, user_id), data)


def _first_page(context: BotContext, user_id: int) -> Screen:
    return _handle(context, user_id, "mb:p:0")


async def members_command(update: Update, context: BotContext) -> None:
    """The member list (admins, private chat)."""
    user, chat = update.effective_user, update.effective_chat
    if chat is None or user is None:
        return
    if chat.type != "private":
        await redirect_to_private(update, context.bot.username)
        return
    try:
        screen = await run_sync(_first_page, context, user.id)
    except Refused:
        await reply(update, _("Only administrators can manage members."))
        return
    await chat.send_message(screen.text, reply_markup=screen.keyboard)


async def on_member_button(update: Update, context: BotContext) -> None:
    """Any ``mb:`` button: checked again on the server, then the next step."""
    await run_button(update, context, _handle)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("members", members_command),
            CallbackQueryHandler(on_member_button, pattern=r"^mb:")]
