"""Explanation requests ("yêu cầu giải trình"): the ❗ button of the /status drill-down, the
requester's optional question and "send", the agency's "answer" button under the request, its
typed text and document (through ``handlers.router``), and "send answer". Each step is one call
of ``models.explanations``; every press is checked there again (role, scope, state).

```mermaid
stateDiagram-v2
    [*] --> asking: ❗ on an overdue item (coordinator, leader in scope)
    asking --> asking: typed question
    asking --> open: 📨 send (focal points and leaders told, ledger)
    open --> answering: ✍️ answer (the agency's focal point or leader)
    answering --> answering: typed text / a document
    answering --> answered: 📨 send answer (requester told, ledger)
    open --> open: reminders, then late (planner)
```
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from domain.access import NotAllowed
from handlers.common import decoded, show
from models import explanations as svc
from models.db import run_sync
from models.reports import EvidenceFile
from models.types import utcnow
from scheduler.context import BotContext
from views import explanations as views
from views import refusals
from views.callbacks import (
    CallbackData,
    ExplainAsk,
    ExplainCancel,
    ExplainReply,
    ExplainSend,
    ExplainSubmit,
    any_of,
)
from views.screen import Screen


async def on_button(update: Update, context: BotContext) -> None:
    """One of the explanation buttons: the next screen in the same message."""
    button = await decoded(update, context)
    if button is None:
        return
    try:
        screen = await _press(context, button)
    except NotAllowed:
        screen = refusals.not_allowed()
    except svc.Refused as refused:
        screen = views.refused_screen(refused.code)
    await show(update, context, screen)


async def _press(context: BotContext, button: CallbackData) -> Screen:
    actor, engine, now, tz = context.actor, context.engine, utcnow(), context.config.tz
    if isinstance(button, ExplainAsk):
        started = await run_sync(svc.start_request, engine, actor, button.item_id, now, tz)
        if isinstance(started, svc.AlreadyAsked):
            return views.already_screen(started)
        screen = views.ask_screen(started)
        screen.new_message = True  # the drill-down stays where it was
        return screen
    if isinstance(button, ExplainSend):
        asked = await run_sync(svc.send_request, engine, actor, button.draft_id, now, tz,
                               context.config.explanation_days)
        return views.asked_screen(asked)
    if isinstance(button, ExplainCancel):
        await run_sync(svc.cancel_draft, engine, actor)
        return views.cancelled_screen()
    if isinstance(button, ExplainReply):
        draft = await run_sync(svc.start_answer, engine, actor, button.request_id, now)
        screen = views.answer_screen(draft)
        screen.new_message = True  # the request stays readable above
        return screen
    if isinstance(button, ExplainSubmit):
        done = await run_sync(svc.submit_answer, engine, actor, button.draft_id, now)
        return views.answered_screen(done)
    return refusals.changed()


async def take_text(update: Update, context: BotContext, text: str, *, answering: bool) -> None:
    """Typed text for the open explanation draft: the requester's question or the answer."""
    actor, engine, now = context.actor, context.engine, utcnow()
    try:
        if answering:
            screen = views.answer_screen(await run_sync(svc.set_answer_text, engine, actor, text, now))
        else:
            screen = views.ask_screen(await run_sync(svc.set_question, engine, actor, text, now,
                                                     context.config.tz))
    except NotAllowed:
        screen = refusals.not_allowed()
    except svc.Refused as refused:
        screen = views.refused_screen(refused.code)
    await show(update, context, screen)


async def take_file(update: Update, context: BotContext, file: EvidenceFile, caption: str | None) -> None:
    """A document (or photo) for the answer being written; its caption, if any, is the text."""
    actor, engine, now = context.actor, context.engine, utcnow()
    try:
        draft = await run_sync(svc.set_answer_file, engine, actor, file, now)
        if caption:
            draft = await run_sync(svc.set_answer_text, engine, actor, caption, now)
        screen = views.answer_screen(draft)
    except NotAllowed:
        screen = refusals.not_allowed()
    except svc.Refused as refused:
        screen = views.refused_screen(refused.code)
    await show(update, context, screen)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Buttons only; typed text and files come through ``handlers.router``."""
    return [CallbackQueryHandler(on_button, pattern=any_of(ExplainAsk, ExplainSend, ExplainCancel,
                                                           ExplainReply, ExplainSubmit))]
