"""/export [period]: the period's XLSX workbook (leaders, coordinators, admins), for the
member's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import Update
from telegram.ext import CommandHandler

from handlers.common import reply
from handlers.status import NotAllowed, choose_period, viewer
from models.db import run_sync, session_scope
from models.members import active_member
from models.tables import MemberRole
from models.types import utcnow
from scheduler.context import BotContext
from views.export import build_export, write_xlsx
from views.html import esc
from views.i18n import gettext as _
from views.rollup import period_label

ALLOWED_ROLES = (MemberRole.LEADER.value, MemberRole.COORDINATOR.value, MemberRole.ADMIN.value)


@dataclass(frozen=True)
class Workbook:
    data: bytes | None
    filename: str
    message: str


def _workbook(context: BotContext, user_id: int, arg: str | None, today: date) -> Workbook:
    try:
        period = choose_period(arg, today, context)
    except ValueError:
        return Workbook(None, "", _("I do not know that period. Use e.g. 2026-Q4, 2026-H2, 2026, "
                                    "or quarter / half / year."))
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None or member.role not in ALLOWED_ROLES:
            return Workbook(None, "", _("Exports are for leaders, coordinators and admins."))
        try:
            who = viewer(session, user_id)
        except NotAllowed:
            return Workbook(None, "", _("Exports are for leaders, coordinators and admins."))
        export = build_export(session, who.plan, period, today, who.scope, context.config.tz)
        caption = _("Plan status — {period} ({scope})").format(
            period=esc(period_label(period)), scope=esc(who.label))
        return Workbook(write_xlsx(export), f"dondoc-{period.key}.xlsx", caption)


async def export_command(update: Update, context: BotContext) -> None:
    """Send the period's workbook as a document."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    arg = context.args[0] if context.args else None
    today = utcnow().astimezone(context.config.tz).date()
    book = await run_sync(_workbook, context, user.id, arg, today)
    if book.data is None:
        await reply(update, book.message)
        return
    await chat.send_document(book.data, filename=book.filename, caption=book.message)


def handlers() -> list[CommandHandler[BotContext, None]]:
    return [CommandHandler("export", export_command)]
