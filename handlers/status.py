"""/status and /chart: where the plan stands, for the member's scope.

``/status [2026-Q4 | 2026-H2 | 2026 | quarter | half | year]`` shows the period's figures with
buttons that drill down: axis -> task -> agencies and their state -> an agency's items
(``views.callbacks.Status*``), and for leaders and coordinators the ranking (league tables per
agency level). Every press is checked again on the server against the presser's
scope (``models.status``), so a forged button gets "not allowed", a malformed one "this has
changed".
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from domain.access import NotAllowed
from handlers.common import decoded, period_argument, plan_argument, show, today
from models import status
from models.db import run_sync
from models.registry import NoPlan
from models.rollup import parse_period
from scheduler.context import BotContext
from views import refusals
from views import status as views
from views.callbacks import (
    CallbackData,
    StatusAgency,
    StatusAxis,
    StatusChart,
    StatusOverdue,
    StatusOverdueAgency,
    StatusRanking,
    StatusSummary,
    StatusTask,
    family,
)
from views.screen import Screen


async def _command(update: Update, context: BotContext, *, chart: bool) -> None:
    period = await period_argument(update, context)
    if period is None:
        return
    plan_id = await plan_argument(update, context)
    if plan_id is None:
        return
    day = today(context)
    try:
        summary = await run_sync(status.summary, context.engine, context.actor, period, day, plan_id)
    except NotAllowed:
        await show(update, context, views.members_only())
        return
    except NoPlan:
        await show(update, context, views.no_plan())
        return
    except status.ChoosePlan as choice:  # several plans in force: which one, first
        await show(update, context, views.plan_choice(choice.plans, period, "chart" if chart else "status"))
        return
    # The chart is drawn off the event loop: other people's updates go on meanwhile.
    screen = (await run_sync(views.chart_screen, summary) if chart else
              views.summary_screen(summary, day, context.config.web_base_url, private=_private(update)))
    await show(update, context, screen)


async def status_command(update: Update, context: BotContext) -> None:
    """Show the current period's figures (or the period given) for the member's scope."""
    await _command(update, context, chart=False)


async def chart_command(update: Update, context: BotContext) -> None:
    """Send the completion chart as a PNG."""
    await _command(update, context, chart=True)


async def on_button(update: Update, context: BotContext) -> None:
    """A drill-down button: the next page in the same message (the chart as a photo)."""
    query = update.callback_query
    button = await decoded(update, context)
    if query is None or button is None:
        return
    try:
        screen = await _press(context, button, private=_private(update))
    except NotAllowed:
        screen = refusals.not_allowed()
    except status.Gone:
        screen = refusals.changed()
    except NoPlan:
        screen = views.no_plan()
    except status.ChoosePlan as choice:  # a button from before a second plan came
        period = parse_period(getattr(button, "period", ""), context.config.rules.due)
        screen = views.plan_choice(choice.plans, period, "status")
    await show(update, context, screen)


StatusButton = (StatusSummary | StatusChart | StatusAxis | StatusTask | StatusAgency | StatusOverdue
                | StatusOverdueAgency | StatusRanking)


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == "private"


async def _press(context: BotContext, button: CallbackData, *, private: bool) -> Screen:
    if not isinstance(button, StatusButton):
        return refusals.changed()  # some other kind under our prefix: nothing we know
    actor, engine, day = context.actor, context.engine, today(context)
    period = parse_period(button.period, context.config.rules.due)
    plan = button.plan
    if isinstance(button, StatusAxis):
        axis = await run_sync(status.axis_page, engine, actor, period, button.number, day, plan)
        return views.axis_screen(axis, button.page)
    if isinstance(button, StatusTask):
        task = await run_sync(status.task_page, engine, actor, period, button.task_id, day, plan)
        return views.task_screen(task, button.page)
    if isinstance(button, StatusOverdue):
        overdue = await run_sync(status.overdue_page, engine, actor, period, day, plan)
        return views.overdue_screen(overdue, button.page)
    if isinstance(button, StatusOverdueAgency):
        late = await run_sync(status.overdue_agency_page, engine, actor, period, button.agency_id, day,
                             context.config.tz, plan)
        return views.overdue_agency_screen(late, button.page)
    if isinstance(button, StatusRanking):
        ranks = await run_sync(status.ranking_page, engine, actor, period, day, plan)
        return views.ranking_screen(ranks, button.level, button.page)
    if isinstance(button, StatusAgency):
        agency = await run_sync(status.agency_page, engine, actor, period, button.agency_id, day,
                               context.config.tz, plan)
        return views.agency_screen(agency, button.page)
    summary = await run_sync(status.summary, engine, actor, period, day, plan)
    if isinstance(button, StatusChart):
        return await run_sync(views.chart_screen, summary)
    return views.summary_screen(summary, day, context.config.web_base_url, private=private)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("status", status_command), CommandHandler("chart", chart_command),
            CallbackQueryHandler(on_button, pattern=family("st"))]
