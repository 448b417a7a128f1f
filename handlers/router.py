"""The one router for what people type or send in the private chat: text, documents, photos and
the kinds of message the bot cannot use, and /cancel.

It asks ``models.drafts`` which open draft the message belongs to (one query over the
draft tables) and hands the message to that flow: a broadcast waiting for its text or document,
an /event waiting for a date or a number of days, an explanation being written (a request's
question, an answer's text or document: ``handlers.explanations``), an extension request waiting
for its date or reason (or a coordinator's shorter date or reason for refusing:
``handlers.extensions``), a report draft (or a coordinator's reason for returning a report).
With no draft, a member's text is a report in their own words (``handlers.reports``); a
document from someone who may import plans (administrators) is asked about ("a plan to import,
or evidence for a report?", ``handlers.plan_import``); a stranger gets the "ask for an
invitation" answer. A focal point's typed report step costs two thread hops (who is asking,
handlers.identity; the step itself): only people who may broadcast or record events, or who have
an explanation or extension draft open (the Actor says so), are asked the draft question first.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.access import Action, allows
from domain.text import normalize
from handlers import broadcast, event, explanations, extensions, onboarding, plan_import
from handlers import reports as report_handlers
from handlers.common import is_private, show, timeout
from models.db import run_sync
from models.drafts import Draft, waiting
from models.explanations import cancel_draft
from models.types import utcnow
from scheduler.context import BotContext
from views import explanations as explanation_views
from views import help as help_views
from views import reports as report_views

PRIVATE = filters.ChatType.PRIVATE
# Everything a user may send that is not a document, a photo or text.
UNSUPPORTED = (filters.Sticker.ALL | filters.VOICE | filters.VIDEO | filters.AUDIO | filters.ANIMATION
               | filters.VIDEO_NOTE | filters.LOCATION | filters.CONTACT | filters.POLL | filters.Dice.ALL
               | filters.VENUE | filters.GAME | filters.STORY)
TEXT = filters.TEXT & ~filters.COMMAND
FILES = filters.Document.ALL | filters.PHOTO


async def _waiting(context: BotContext, *, cancelling: bool = False) -> Draft | None:
    return await run_sync(waiting, context.engine, context.actor, now=utcnow(), timeout=timeout(context),
                          cancelling=cancelling)


async def on_message(update: Update, context: BotContext) -> None:
    """Private text or a file: to the draft that waits for it, else the report in words / help."""
    message = update.effective_message
    if message is None:
        return
    actor = context.actor
    if not actor.is_member and not actor.is_admin:
        if message.text is not None:
            await onboarding.stranger_text(update, context)
        return
    # Only those who may broadcast or record events, or who are writing an explanation or an
    # extension request (known with the Actor), can have a draft other than a report's: for
    # everyone else (focal points) the report flow's own transaction is the only hop.
    others = actor.drafting or allows(actor, Action.BROADCAST) or allows(actor, Action.RECORD_EVENT)
    draft = await _waiting(context) if others else Draft.REPORT
    if draft is Draft.BROADCAST and await broadcast.take_text(update, context):
        return
    if draft is Draft.EVENT and message.text is not None and await event.take_text(update, context):
        return
    if draft is Draft.EXTENSION and message.text is not None and await extensions.take_text(update, context):
        return
    if draft is None and message.document is not None and allows(actor, Action.IMPORT_PLAN):
        await plan_import.take_document(update, context, message.document)  # a plan, or evidence?
        return
    if not actor.is_member:  # a configured admin with no member row: nothing to report
        return
    if draft in (Draft.EXPLAIN_ASK, Draft.EXPLAIN_ANSWER):
        await _explanation(update, context, message, answering=draft is Draft.EXPLAIN_ANSWER)
        return
    if message.text is not None:
        await report_handlers.take_text(update, context, message)
        return
    file = report_handlers.evidence_file(message)
    if file is not None:
        await report_handlers.take_file(update, context, file)


async def _explanation(update: Update, context: BotContext, message: Message, *, answering: bool) -> None:
    """Text or a file for the explanation draft: a file only to an answer (a request's question
    is text), its caption taken as the answer's text."""
    if message.text is not None:
        await explanations.take_text(update, context, message.text, answering=answering)
        return
    file = report_handlers.evidence_file(message)
    if file is not None and answering:
        await explanations.take_file(update, context, file, message.caption)
    elif file is not None:
        await show(update, context, explanation_views.refused_screen("file_type"))


async def on_unsupported(update: Update, context: BotContext) -> None:
    """Stickers, voice, video…: members are told what is accepted; strangers how to join."""
    if not context.actor.is_member:
        await onboarding.stranger_text(update, context)
        return
    await show(update, context, report_views.unsupported_screen())


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """A private command no handler took (a typo, an old command): say so rather than nothing.
    Text holding a NUL is refused as everywhere else (the error handler answers it)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = normalize(message.text.split(maxsplit=1)[0], single_line=True, what="command")
    await show(update, context, help_views.unknown_command_screen(command))


async def on_cancel(update: Update, context: BotContext) -> None:
    """/cancel: the open draft a typed message would go to (a broadcast, an extension request,
    an /event, an explanation); else the report's (in a group: the link to the private chat)."""
    waiting_for = await _waiting(context, cancelling=True) if is_private(update) else None
    if waiting_for is Draft.BROADCAST and await broadcast.cancel(update, context):
        return
    if waiting_for is Draft.EXTENSION and await extensions.cancel(update, context):
        return
    if waiting_for is Draft.EVENT and await event.cancel(update, context):
        return
    if waiting_for in (Draft.EXPLAIN_ASK, Draft.EXPLAIN_ANSWER):
        await run_sync(cancel_draft, context.engine, context.actor)
        await show(update, context, explanation_views.cancelled_screen())
        return
    await report_handlers.cancel_command(update, context)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Register after every command and button handler of group 0 (they take what is theirs)."""
    return [
        CommandHandler("cancel", on_cancel),
        MessageHandler(PRIVATE & (TEXT | FILES), on_message),
        MessageHandler(PRIVATE & UNSUPPORTED, on_unsupported),
        MessageHandler(PRIVATE & filters.COMMAND, on_unknown_command),
    ]
