"""/export [period] [plan]: the period's XLSX workbook, and /report_doc [period] [plan]: its
official report as a Word document (Decree 30/2020's format) — leaders, coordinators, admins,
for the member's scope. With several plans in force and none named, the plan is chosen first
(``views.callbacks.PlanPick``; the press is checked again like the command)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import Actor, NotAllowed
from domain.docnumber import Issuer
from domain.periods import Period
from handlers.common import decoded, period_argument, plan_argument, show, today
from models import export, report_doc
from models.db import EngineRef, run_sync
from models.registry import NoPlan
from models.rollup import parse_period
from models.status import ChoosePlan, Viewer
from scheduler.context import BotContext
from views import export as views
from views import refusals, render_pool
from views import report_doc as report_views
from views import status as status_views
from views.callbacks import PlanPick, any_of
from views.screen import Screen


async def _export(context: BotContext, period: Period, day: date, plan_id: int) -> Screen:
    try:
        # Read and written off the event loop, in the render worker when the bot runs one:
        # other people's updates go on meanwhile.
        content, viewer = await run_sync(render_pool.run, workbook, EngineRef(context.engine),
                                         context.actor, period, day, context.config.tz, plan_id)
    except NotAllowed:
        return views.export_not_allowed()
    except NoPlan:
        return status_views.no_plan()
    except ChoosePlan as choice:
        return status_views.plan_choice(choice.plans, period, "export")
    return views.export_screen(period, viewer, content)


def workbook(engine: EngineRef, actor: Actor, period: Period, day: date, tz: ZoneInfo,
             plan_id: int) -> tuple[bytes, Viewer]:
    """/export's workbook for ``actor``, and who it was made for. The whole of it runs in the
    render worker (views/render_pool.py): reading the period's 4,000 rows into objects holds
    the GIL for a few hundred milliseconds, which in the bot's process would be taken from
    everyone else's replies."""
    data, viewer = export.for_actor(engine.get(), actor, period, day, tz, plan_id)
    return views.write_xlsx(data), viewer


async def _report_doc(context: BotContext, period: Period, day: date, plan_id: int) -> Screen:
    try:
        # Read and written in the render worker too, like /export's workbook.
        content, viewer = await run_sync(render_pool.run, document, EngineRef(context.engine),
                                         context.actor, period, day, context.config.report_issuer,
                                         context.config.tz, plan_id)
    except NotAllowed:
        return report_views.report_doc_not_allowed()
    except NoPlan:
        return status_views.no_plan()
    except ChoosePlan as choice:
        return status_views.plan_choice(choice.plans, period, "report_doc")
    return report_views.report_doc_screen(period, viewer, content)


def document(engine: EngineRef, actor: Actor, period: Period, day: date, issuer: Issuer,
             tz: ZoneInfo, plan_id: int) -> tuple[bytes, Viewer]:
    """/report_doc's Word document for ``actor``, and who it was made for; run whole in the
    render worker, like :func:`workbook`: the roll-up, the ranking, the late agencies, the
    extensions and explanations read into objects, then python-docx, all hold the GIL."""
    data, viewer = report_doc.for_actor(engine.get(), actor, period, day, issuer, tz, plan_id)
    return report_views.write_docx(data), viewer


async def _command(update: Update, context: BotContext, what: str) -> None:
    period = await period_argument(update, context)
    if period is None:
        return
    plan_id = await plan_argument(update, context)
    if plan_id is None:
        return
    make = _export if what == "export" else _report_doc
    await show(update, context, await make(context, period, today(context), plan_id))


async def export_command(update: Update, context: BotContext) -> None:
    """Send the period's workbook as a document."""
    await _command(update, context, "export")


async def report_doc_command(update: Update, context: BotContext) -> None:
    """Send the period's official report as a Word document."""
    await _command(update, context, "report_doc")


async def on_plan_pick(update: Update, context: BotContext) -> None:
    """The plan chosen: the workbook or the report of that plan (permission checked again)."""
    button = await decoded(update, context)
    if update.callback_query is None or button is None:
        return
    if not isinstance(button, PlanPick):
        await show(update, context, refusals.changed())
        return
    period = parse_period(button.period, context.config.rules.due)
    make = _export if button.what == "export" else _report_doc
    await show(update, context, await make(context, period, today(context), button.plan))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("export", export_command), CommandHandler("report_doc", report_doc_command),
            CallbackQueryHandler(on_plan_pick, pattern=any_of(PlanPick))]
