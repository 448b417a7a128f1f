"""Joining by invitation (``/start <token>``) and creating invitations (``/invite``).

``/invite`` (admins, private chat) is stateless: each choice travels in the next button's data,
and every press is checked again on the server (an admin? the agency still there?)::

    /invite -> agency (iv:a:<agency>, pages iv:p:<page>) -> role (iv:r:<agency>:<role>)
            -> uses (iv:u:<agency>:<role>:<n>) -> the invitation link

In groups, ``/invite`` and ``/start <token>`` answer only with a link to the private chat.
"""

from __future__ import annotations

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.access import (
    CHANGED,
    NOT_ALLOWED,
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
from models import invitations, members
from models.db import run_sync, session_scope
from models.invitations import RedeemStatus
from models.tables import Agency
from scheduler.context import BotContext
from views.html import esc
from views.i18n import format_datetime, negotiate, ngettext
from views.i18n import gettext as _

USES_CHOICES = (1, 2, 5, 10, 20, 50)
EXPIRES_DAYS = 7
PRIVATE = filters.ChatType.PRIVATE


# --- /start <token> -----------------------------------------------------------------------

def _redeem(context: BotContext, update: Update, token: str) -> str:
    user = update.effective_user
    assert user is not None
    language = negotiate(chosen=None, telegram_language_code=user.language_code,
                         default=context.config.default_language)
    with session_scope(context.engine) as session:
        result = invitations.redeem(session, token=token, telegram_user_id=user.id,
                                    full_name=user.full_name, username=user.username, language=language)
        agency = esc(result.agency.name) if result.agency else "-"
        role = role_label(result.member.role) if result.member else ""
    if result.status is RedeemStatus.OK:
        return _("Welcome, {name}! You are now registered for <b>{agency}</b> as {role}.\n"
                 "I will remind you here of your agency's deadlines. Send /help to see what I can do."
                 ).format(name=esc(user.full_name), agency=agency, role=role)
    if result.status is RedeemStatus.ALREADY_MEMBER:
        return _("You are already registered for <b>{agency}</b> as {role}; the link was not used."
                 ).format(agency=agency, role=role)
    return _REFUSALS[result.status]()


_REFUSALS = {
    RedeemStatus.DEACTIVATED: lambda: _(
        "Your membership has been deactivated. Ask an administrator if you need it back."),
    RedeemStatus.UNKNOWN: lambda: _(
        "This invitation link is not valid. Check that you opened the whole link, or ask the "
        "Department of Home Affairs for a new one."),
    RedeemStatus.EXPIRED: lambda: _(
        "This invitation link has expired. Ask the person who sent it for a new one."),
    RedeemStatus.USED_UP: lambda: _(
        "This invitation link has already been used as many times as allowed. Ask the person "
        "who sent it for a new one."),
    RedeemStatus.REVOKED: lambda: _(
        "This invitation link has been withdrawn. Ask the person who sent it for a new one."),
}


async def start_with_token(update: Update, context: BotContext) -> None:
    """Register the user with the invitation in the /start parameter."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        await redirect_to_private(update, context.bot.username)
        return
    token = (context.args or [""])[0]
    await reply(update, await run_sync(_redeem, context, update, token))


# --- /invite ------------------------------------------------------------------------------

def _agency_screen(context: BotContext, user_id: int, page: int) -> Screen:
    with session_scope(context.engine) as session:
        require_admin(session, user_id, context.config.admin_user_ids)
        agencies = members.active_agencies(session)
    keyboard = agency_picker(agencies, page, choose=lambda a: f"iv:a:{a}", turn=lambda p: f"iv:p:{p}")
    return Screen(_("New invitation. Which agency is it for?"), keyboard)


def _active_agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise Refused(CHANGED)
    return agency


def _role_screen(context: BotContext, user_id: int, agency_id: int) -> Screen:
    with session_scope(context.engine) as session:
        require_admin(session, user_id, context.config.admin_user_ids)
        agency = _active_agency(session, agency_id)
    rows = [[InlineKeyboardButton(role_label(role), callback_data=f"iv:r:{agency_id}:{role}")]
            for role in members.ROLES]
    rows.append([InlineKeyboardButton(_("« Back"), callback_data="iv:p:0")])
    return Screen(_("Invitation to <b>{agency}</b>. Which role?").format(agency=esc(agency.name)),
                  InlineKeyboardMarkup(rows))


def _checked_role(role: str) -> str:
    if role not in members.ROLES:
        raise Refused(NOT_ALLOWED)
    return role


def _uses_screen(context: BotContext, user_id: int, agency_id: int, role: str) -> Screen:
    role = _checked_role(role)
    with session_scope(context.engine) as session:
        require_admin(session, user_id, context.config.admin_user_ids)
        agency = _active_agency(session, agency_id)
    buttons = [InlineKeyboardButton(str(n), callback_data=f"iv:u:{agency_id}:{role}:{n}")
               for n in USES_CHOICES]
    rows = [buttons[:3], buttons[3:], [InlineKeyboardButton(_("« Back"), callback_data=f"iv:a:{agency_id}")]]
    return Screen(_("Invitation to <b>{agency}</b> as {role}. How many people may use the link?").format(
        agency=esc(agency.name), role=role_label(role)), InlineKeyboardMarkup(rows))


def _create(context: BotContext, user_id: int, agency_id: int, role: str, uses: int) -> Screen:
    role = _checked_role(role)
    if uses not in USES_CHOICES:
        raise Refused(NOT_ALLOWED)
    with session_scope(context.engine) as session:
        require_admin(session, user_id, context.config.admin_user_ids)
        agency = _active_agency(session, agency_id)
        invitation = invitations.create_invitation(
            session, agency_id=agency_id, role=role, max_uses=uses, expires_days=EXPIRES_DAYS,
            created_by=members.actor_for(session, user_id))
    assert invitation.expires_at is not None
    link = f"https://t.me/{context.bot.username}?start={invitation.token}"
    text = ngettext(
        "Invitation to <b>{agency}</b> as {role}, for {n} person, valid until {until}:\n\n{link}\n\n"
        "Send this link to the person you invite; opening it registers them.",
        "Invitation to <b>{agency}</b> as {role}, for up to {n} people, valid until {until}:\n\n{link}\n\n"
        "Send this link to the people you invite; opening it registers them.",
        uses).format(agency=esc(agency.name), role=role_label(role), n=uses, link=esc(link),
                     until=format_datetime(invitation.expires_at, context.config.tz, "short"))
    return Screen(text, None, _("Invitation created."))


async def invite(update: Update, context: BotContext) -> None:
    """Start a new invitation (admins, private chat): show the agencies."""
    user = update.effective_user
    if update.effective_chat is None or update.effective_chat.type != "private":
        await redirect_to_private(update, context.bot.username)
        return
    if user is None:
        return
    try:
        screen = await run_sync(_agency_screen, context, user.id, 0)
    except Refused:
        await reply(update, _("Only administrators can invite people."))
        return
    await reply_screen(update, screen)


async def reply_screen(update: Update, screen: Screen) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(screen.text, reply_markup=screen.keyboard)


def _invite_step(context: BotContext, user_id: int, data: str) -> Screen:
    kind = data.split(":")[1] if data.count(":") >= 1 else ""
    if kind == "p":
        (page,) = parse_data(data, "iv", "wi")[1:]
        return _agency_screen(context, user_id, int(page))
    if kind == "a":
        (agency,) = parse_data(data, "iv", "wi")[1:]
        return _role_screen(context, user_id, int(agency))
    if kind == "r":
        agency, role = parse_data(data, "iv", "wiw")[1:]
        return _uses_screen(context, user_id, int(agency), role)
    if kind == "u":
        agency, role, uses = parse_data(data, "iv", "wiwi")[1:]
        return _create(context, user_id, int(agency), role, int(uses))
    raise Refused(NOT_ALLOWED)


async def on_invite_button(update: Update, context: BotContext) -> None:
    """Any ``iv:`` button: checked again on the server, then the next step."""
    await run_button(update, context, _invite_step)


# --- strangers ----------------------------------------------------------------------------

async def stranger_text(update: Update, context: BotContext) -> None:
    """Text from someone not registered: say how to get invited (members get no answer here)."""
    if context.actor.is_member:
        return
    await reply(update, _("I can only help registered members. Ask the Department of Home Affairs "
                          "(your coordinator) for an invitation link, then open it here."))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Register before ``start.handlers()``: ``/start <token>`` must win over plain ``/start``."""
    return [
        CommandHandler("start", start_with_token, has_args=True),
        CommandHandler("invite", invite),
        CallbackQueryHandler(on_invite_button, pattern=r"^iv:"),
    ]

