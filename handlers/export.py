"""/export [period]: the period's XLSX workbook, and /report_doc [period]: its official report
as a Word document (Decree 30/2020's format) — leaders, coordinators, admins, for the member's
scope."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import period_argument, show, today
from models import export, report_doc
from models.db import run_sync
from models.registry import NoPlan
from scheduler.context import BotContext
from views import export as views
from views import report_doc as report_views
from views import status as status_views


async def export_command(update: Update, context: BotContext) -> None:
    """Send the period's workbook as a document."""
    period = await period_argument(update, context)
    if period is None:
        return
    day = today(context)
    try:
        data, viewer = await run_sync(export.for_actor, context.engine, context.actor, period, day,
                                      context.config.tz)
    except NotAllowed:
        await show(update, context, views.export_not_allowed())
        return
    except NoPlan:
        await show(update, context, status_views.no_plan())
        return
    # The workbook is written off the event loop: other people's updates go on meanwhile.
    content = await run_sync(views.write_xlsx, data)
    await show(update, context, views.export_screen(data, viewer, content))


async def report_doc_command(update: Update, context: BotContext) -> None:
    """Send the period's official report as a Word document."""
    period = await period_argument(update, context)
    if period is None:
        return
    day = today(context)
    try:
        data, viewer = await run_sync(report_doc.for_actor, context.engine, context.actor, period,
                                      day, context.config.report_issuer, context.config.tz)
    except NotAllowed:
        await show(update, context, report_views.report_doc_not_allowed())
        return
    except NoPlan:
        await show(update, context, status_views.no_plan())
        return
    content = await run_sync(report_views.write_docx, data)  # off the event loop, as /export
    await show(update, context, report_views.report_doc_screen(data, viewer, content))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("export", export_command), CommandHandler("report_doc", report_doc_command)]
