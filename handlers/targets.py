"""/targets: administrators list the plan's numeric targets (``/targets 2026``: one year's) and
add one by typing it after the command (``/targets 5.2c 2026 60%``), shown for confirmation
first. The typed target waits in the admin's ``target_draft`` row, so the confirm button works
after a restart and only once; each press is checked again on the server (models.targets).

With several plans in force, the plan's number may end the line (``/targets 2027 25/KH-UBND``,
``/targets 1.1 2027 60% 25/KH-UBND``); without it the admin is asked which plan (a button each:
the list, or the typed target kept in the draft until the plan is chosen)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from domain.access import NotAllowed
from domain.targets import TargetInputError
from domain.text import normalize
from handlers.common import decoded, private_only, show
from models import status as status_service
from models import targets
from models.db import run_sync
from models.registry import ChoosePlan, NoPlan
from models.types import utcnow
from scheduler.context import BotContext
from views import refusals
from views import status as status_views
from views import targets as views
from views.callbacks import TargetConfirm, TargetDiscard, TargetDraftPlan, TargetsOfPlan, family
from views.screen import Screen

PRIVATE = filters.ChatType.PRIVATE


async def targets_command(update: Update, context: BotContext) -> None:
    """/targets [year] lists; /targets <code> <year> <value> previews a new target."""
    message = update.effective_message
    if message is None or message.text is None or await private_only(update, context):
        return
    words = normalize(message.text, single_line=True, what="target").split(maxsplit=1)
    line = words[1].strip() if len(words) > 1 else ""
    await show(update, context, await _typed(context, line))


def _plan_word(line: str) -> tuple[str, str]:
    """The line without a plan's number at its end, and that number ("" if none): the last
    word when it starts with a digit and holds a ``/`` (``25/KH-UBND``; a unit never does)."""
    words = line.split()
    if len(words) > 0 and words[-1][:1].isdigit() and "/" in words[-1]:
        return " ".join(words[:-1]), words[-1]
    return line, ""


async def _typed(context: BotContext, typed: str) -> Screen:
    engine, actor = context.engine, context.actor
    line, number = _plan_word(typed)
    plan_id = 0
    year: int | None = int(line) if line.isdigit() else None
    try:
        if number:
            plan_id = await run_sync(status_service.plan_id_of, engine, number)
        if not line or line.isdigit():
            return views.overview_screen(await run_sync(targets.overview, engine, actor, year, plan_id))
        shown = await run_sync(targets.preview, engine, actor, line, now=utcnow(), plan_id=plan_id)
        if isinstance(shown, targets.PlanAsked):
            return views.draft_plan_choice(shown)
        return views.preview_screen(shown)
    except NotAllowed:
        return views.admins_only()
    except TargetInputError as error:
        return views.input_refused(error)
    except targets.TargetError as error:
        return views.refused(error)
    except status_service.Gone:
        return status_views.no_such_plan()
    except ChoosePlan as choice:
        return views.plan_choice(choice.plans, year)
    except NoPlan:
        return views.no_plan()


async def on_button(update: Update, context: BotContext) -> None:
    """✅ Add it / ✖ Cancel under a preview."""
    button = await decoded(update, context)
    if button is None:
        return
    engine, actor = context.engine, context.actor
    try:
        if isinstance(button, TargetConfirm):
            screen = views.added_screen(await run_sync(targets.confirm, engine, actor, button.draft_id))
        elif isinstance(button, TargetsOfPlan):
            screen = views.overview_screen(await run_sync(targets.overview, engine, actor,
                                                          button.year or None, button.plan))
        elif isinstance(button, TargetDraftPlan):
            screen = views.preview_screen(await run_sync(targets.preview_in, engine, actor, button.draft_id,
                                                         button.plan, now=utcnow()))
        elif isinstance(button, TargetDiscard):
            await run_sync(targets.discard, engine, actor, button.draft_id)
            screen = views.discarded_screen()
        else:
            screen = refusals.changed()
    except NotAllowed:
        screen = refusals.not_allowed()
    except targets.TargetError as error:
        screen = views.refused(error)
    except (NoPlan, ChoosePlan):  # the plan went meanwhile (closed, or another came)
        screen = refusals.changed()
    await show(update, context, screen)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Group 0: the command and its two buttons."""
    return [CommandHandler("targets", targets_command),
            CallbackQueryHandler(on_button, pattern=family("tg"))]
