"""Coordinating agencies' contributions: the "➕" button of their notices (cp:<period>:<page>
picks the lead's item, ci:<item> starts the draft on it) and the draft's Send / Cancel
(cs:<draft>:<action>). The note and the document reach the draft through ``handlers.router``
and the report flow's own transaction (``models.reporting.take_text`` / ``take_file``). Every
press is checked again on the server: the member's agency must coordinate the item's task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from domain.access import NotAllowed
from handlers.common import clock, decoded_in_private, show
from models import contributions
from models import reports as svc
from models.db import run_sync
from scheduler.context import BotContext
from views import contributions as views
from views import refusals
from views import reports as report_views
from views.callbacks import ContributeItem, ContributePick, ContributeStep, any_of
from views.screen import Screen


async def _outcome(context: BotContext, work: Callable[..., Any], *args: Any) -> Screen:
    try:
        result = await run_sync(work, *args)
    except NotAllowed as error:
        return report_views.not_allowed_screen(error)
    except svc.ReportError as error:
        return report_views.refused_screen(error, context.config.draft_timeout_minutes)
    return views.outcome_screen(result)


async def contribute_button(update: Update, context: BotContext) -> None:
    """cp / ci / cs: pick the lead's item, start the draft, send or cancel it (private chat)."""
    pressed = await decoded_in_private(update, context)
    if pressed is None:
        return
    now = clock(context)
    if isinstance(pressed, ContributePick) and pressed.page >= 0:
        screen = await _outcome(context, contributions.pick_items, context.engine, context.actor,
                                pressed.period, pressed.page, now.today)
        screen.new_message = pressed.page == 0 and screen.toast is None
    elif isinstance(pressed, ContributeItem):
        screen = await _outcome(context, contributions.begin, context.engine, context.actor,
                                pressed.item_id, now.now)
    elif isinstance(pressed, ContributeStep):
        screen = await _outcome(context, contributions.press_button, context.engine, context.actor,
                                pressed.draft_id, pressed.action, now.now, now.timeout)
    else:
        screen = refusals.changed()
    await show(update, context, screen)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CallbackQueryHandler(contribute_button, pattern=any_of(ContributePick, ContributeItem,
                                                                   ContributeStep))]
