"""A plan document sent in the private chat by someone who may import plans (administrators).

Flow::

    document (no open draft) -> a member: "a plan to import, or evidence?" (pi:a:<id>:1|0)
                             -> a configured administrator with no member row: read at once
    plan -> download by file id, read and compare (models.plan_imports.read) -> the preview
         -> Apply (pi:ok:<id>:0) -> applied, or (tasks retired) "Retire N tasks and apply"
            (pi:ok:<id>:1) -> applied; the registry moved since the preview -> the new preview
         -> Cancel (pi:x:<id>)
    evidence -> the report flow's answer to a file (handlers.reports.take_file)

Every step is a ``plan_import`` row (models.plan_imports), so the buttons work after a restart;
each press is checked again on the server (Action.IMPORT_PLAN, the presser's own row).
"""

from __future__ import annotations

from telegram import Document, Update
from telegram.constants import FileSizeLimit
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from domain.access import NotAllowed
from domain.plan_parser import MAX_PLAN_BYTES
from handlers import reports as report_handlers
from handlers.common import decoded_in_private, show
from models import plan_imports
from models.db import run_sync
from models.reports import EvidenceFile
from models.types import utcnow
from scheduler.context import BotContext
from views import plan_import as views
from views import refusals
from views.callbacks import PlanImportApply, PlanImportAs, PlanImportCancel, family
from views.screen import Screen

# What is downloaded at most: the readers' limit, within what the Bot API lets a bot download.
MAX_DOWNLOAD_BYTES = min(MAX_PLAN_BYTES, int(FileSizeLimit.FILESIZE_DOWNLOAD))


async def take_document(update: Update, context: BotContext, document: Document) -> None:
    """A document outside any draft: ask a member what it is; read it for an administrator who
    has no report to file."""
    file = plan_imports.FileRef(document.file_id, document.file_unique_id, document.file_name or "",
                                document.mime_type or "", document.file_size)
    import_id = await run_sync(plan_imports.receive, context.engine, context.actor, file, now=utcnow())
    if context.actor.is_member:
        await show(update, context, views.question_screen(import_id, file.file_name))
        return
    await show(update, context, await _read(context, import_id))


async def _read(context: BotContext, import_id: int) -> Screen:
    """Download the document (within the size limit), read it and show the preview."""
    engine, actor = context.engine, context.actor
    file = await run_sync(plan_imports.file_to_read, engine, actor, import_id)
    if isinstance(file, plan_imports.Gone):
        return views.gone()
    if file.file_size is not None and file.file_size > MAX_DOWNLOAD_BYTES:
        await run_sync(plan_imports.cancel, engine, actor, import_id, now=utcnow())
        return views.too_big(file.file_name, MAX_DOWNLOAD_BYTES // 2**20)
    try:
        telegram_file = await context.bot.get_file(file.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        return views.download_failed(file.file_name)
    result = await run_sync(plan_imports.read, engine, actor, import_id, data, now=utcnow())
    return views.read_screen(result)


async def on_button(update: Update, context: BotContext) -> None:
    """Any ``pi:`` button, checked again on the server."""
    pressed = await decoded_in_private(update, context)
    if pressed is None:
        return
    engine, actor = context.engine, context.actor
    try:
        if isinstance(pressed, PlanImportAs) and not pressed.plan:
            file = await run_sync(plan_imports.evidence, engine, actor, pressed.import_id, now=utcnow())
            if isinstance(file, plan_imports.Gone):
                await show(update, context, views.gone())
                return
            await report_handlers.take_file(update, context, EvidenceFile(
                "document", file.file_id, file.file_unique_id, file.file_name, file.mime_type,
                file.file_size))
            return
        screen = await _press(context, pressed)
    except NotAllowed:
        screen = refusals.not_allowed()
    await show(update, context, screen)


async def _press(context: BotContext, pressed: object) -> Screen:
    engine, actor = context.engine, context.actor
    if isinstance(pressed, PlanImportAs):
        return await _read(context, pressed.import_id)
    if isinstance(pressed, PlanImportApply):
        outcome = await run_sync(plan_imports.apply, engine, actor, pressed.import_id,
                                 retire=bool(pressed.retire), now=utcnow())
        return views.outcome_screen(outcome)
    if isinstance(pressed, PlanImportCancel):
        done = await run_sync(plan_imports.cancel, engine, actor, pressed.import_id, now=utcnow())
        return views.cancelled() if done else views.gone()
    return refusals.changed()


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Group 0: the buttons (documents come through ``handlers.router``)."""
    return [CallbackQueryHandler(on_button, pattern=family("pi"))]
