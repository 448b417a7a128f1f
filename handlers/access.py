"""What the admin screens share: who may use them, refusals of stale or forged buttons, the
private-chat redirect for group chats, role names and the paginated agency picker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from handlers.common import reply
from models.db import run_sync
from models.members import is_admin
from models.tables import Agency, MemberRole
from models.types import MAX_ROW_ID
from scheduler.context import BotContext
from views.i18n import N_
from views.i18n import gettext as _

PAGE_SIZE = 8
MAX_ID = MAX_ROW_ID  # callback data ids beyond this are forged

ROLE_LABELS = {
    MemberRole.FOCAL_POINT.value: N_("focal point"),
    MemberRole.COORDINATOR.value: N_("coordinator"),
    MemberRole.LEADER.value: N_("leader"),
    MemberRole.ADMIN.value: N_("administrator"),
}


def role_label(role: str) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


class Refused(Exception):
    """A button press that must change nothing: ``not_allowed`` (not an admin, forged data) or
    ``changed`` (the target is no longer as the button assumed)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    @property
    def text(self) -> str:
        if self.kind == "changed":
            return _("This has changed in the meantime; nothing was done. Please open the list again.")
        return _("Not allowed.")


NOT_ALLOWED = "not_allowed"
CHANGED = "changed"


@dataclass(frozen=True)
class Screen:
    """What a button press shows: the message's new text and keyboard, and a short notice."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    notice: str | None = None


def require_admin(session: Session, user_id: int, configured: frozenset[int]) -> None:
    if not is_admin(session, user_id, configured):
        raise Refused(NOT_ALLOWED)


def parse_data(data: str | None, prefix: str, shape: str) -> list[str]:
    """Split callback data ``prefix:<parts>``; ``shape`` says each part's kind: ``i`` a
    non-negative id, ``w`` a word. Anything else is forged: :class:`Refused`."""
    parts = (data or "").split(":")
    if len(parts) != len(shape) + 1 or parts[0] != prefix:
        raise Refused(NOT_ALLOWED)
    for kind, part in zip(shape, parts[1:], strict=True):
        ok = (part.isascii() and part.isdigit() and int(part) <= MAX_ID) if kind == "i" else \
            (part.isascii() and part.replace("_", "").isalpha() and len(part) <= 16)
        if not ok:
            raise Refused(NOT_ALLOWED)
    return parts[1:]


def check_data_length(data: str) -> str:
    assert len(data.encode()) <= 64, data  # Telegram's limit for callback data
    return data


def agency_picker(agencies: Sequence[Agency], page: int, *, choose: Callable[[int], str],
                  turn: Callable[[int], str], back: str | None = None) -> InlineKeyboardMarkup:
    """One agency per row, ``PAGE_SIZE`` per page, ‹ › to turn pages, an optional back button."""
    pages = max(1, -(-len(agencies) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [[InlineKeyboardButton(a.name, callback_data=check_data_length(choose(a.id or 0)))]
            for a in agencies[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹", callback_data=check_data_length(turn(page - 1))))
    if pages > 1:
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=turn(page)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("›", callback_data=check_data_length(turn(page + 1))))
    if nav:
        rows.append(nav)
    if back:
        rows.append([InlineKeyboardButton(_("« Back"), callback_data=back)])
    return InlineKeyboardMarkup(rows)


async def redirect_to_private(update: Update, bot_username: str | None) -> None:
    """In a group: a personal command is answered only with a link to the private chat."""
    link = f"https://t.me/{bot_username}" if bot_username else ""
    await reply(update, _("Please use this command in a private chat with me: {link}").format(link=link))


async def show(update: Update, screen: Screen) -> None:
    """Answer the button press and put the screen in its message."""
    query = update.callback_query
    assert query is not None
    await query.answer(screen.notice)
    try:
        await query.edit_message_text(screen.text, reply_markup=screen.keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def run_button(update: Update, context: BotContext,
                     step: Callable[[BotContext, int, str], Screen]) -> None:
    """A button press: ``step`` re-checks it on the server (never trusting its data) and
    gives the next screen, which fills the message; a refusal is shown as an alert."""
    query = update.callback_query
    if query is None:
        return
    try:
        screen = await run_sync(step, context, query.from_user.id, query.data or "")
    except Refused as refusal:
        await refuse(update, refusal)
        return
    await show(update, screen)


async def refuse(update: Update, refusal: Refused) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(refusal.text, show_alert=True)
