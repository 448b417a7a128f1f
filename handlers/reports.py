"""The reporting conversation (see reports.mmd): /report, the rp: buttons of reminders and /tasks,
the draft's buttons, and the typed text and files that fill it.

No conversation state in memory: every step reads the member's draft from the database, so a
restart or another instance continues where the user was. Each handler: read the update, call
models.reports in one transaction, show the resulting Screen.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session
from telegram import Update
from telegram.error import Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import onboarding, review
from handlers.common import answer, fail, ints, is_private, private_only, show, timeout, today
from models import reports as svc
from models.db import run_sync, session_scope
from models.items import item_row, reportable_items
from models.members import active_member
from models.tables import Member, ReportDraft, ReviewState
from models.types import utcnow
from scheduler.context import BotContext
from views import reports as report_views
from views.i18n import gettext as _
from views.screen import Screen

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
# Everything a user may send that is not a document, a photo or text.
UNSUPPORTED = (filters.Sticker.ALL | filters.VOICE | filters.VIDEO | filters.AUDIO | filters.ANIMATION
               | filters.VIDEO_NOTE | filters.LOCATION | filters.CONTACT | filters.POLL | filters.Dice.ALL
               | filters.VENUE | filters.GAME | filters.STORY)


# --------------------------------------------------------------------------- work (threads)


def _screen_for_draft(session: Session, draft: ReportDraft, context: BotContext) -> Screen:
    row = item_row(session, draft.item_id)
    if row is None:
        return Screen(_("This has changed since the button was shown. Nothing was done."))
    return report_views.draft_screen(draft, row, today(context))


def _begin(context: BotContext, user_id: int, item_id: int, *, force: bool) -> Screen:
    """rp:/rn: buttons: start a report on ``item_id`` (or offer to keep the one in progress)."""
    now = utcnow()
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return Screen(report_views.not_registered_text(), toast=report_views.not_registered_text())
        try:
            draft, _expired = svc.active_draft(session, member, now=now, timeout=timeout(context))
            if draft is not None and draft.step != svc.STEP_RETURN and not force:
                row = item_row(session, draft.item_id)
                if draft.item_id == item_id:
                    return _screen_for_draft(session, draft, context)
                if row is not None:
                    return report_views.draft_elsewhere_screen(draft, row, item_id)
            draft = svc.start_draft(session, member, item_id, now=now)
            return _screen_for_draft(session, draft, context)
        except svc.ReportError as error:
            session.rollback()
            return fail(error, context)


def _report_command(context: BotContext, user_id: int) -> Screen:
    now = utcnow()
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return Screen(report_views.not_registered_text())
        draft, expired = svc.active_draft(session, member, now=now, timeout=timeout(context))
        if draft is not None and draft.step != svc.STEP_RETURN:
            row = item_row(session, draft.item_id)
            if row is not None:
                return report_views.draft_elsewhere_screen(draft, row, None)
        if member.role not in svc.REPORTER_ROLES or member.agency_id is None:
            return Screen(_("Only the focal points of an agency report on its tasks."))
        screen = report_views.pick_item_screen(reportable_items(session, member.agency_id, today(context)),
                                        today(context))
        if expired:
            expired_note = report_views.expired_text(context.config.draft_timeout_minutes)
            screen.text = expired_note + "\n\n" + screen.text
        return screen


def _draft_button(context: BotContext, user_id: int, draft_id: int, step: str, action: str) -> Screen:
    """A button of the draft's prompt; the step in its data must be the draft's step."""
    now, limit = utcnow(), timeout(context)
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return fail(svc.NotAllowed("member"), context)
        try:
            draft = svc.draft_for(session, member, draft_id, now=now, timeout=limit)
            if action == "cancel":
                svc.cancel_draft(session, member, draft_id)
                return Screen(_("Cancelled: nothing was sent. Send /report to start again."),
                              toast=_("Cancelled"))
            if action == "show":
                return _screen_for_draft(session, draft, context)
            if draft.step != step or step == svc.STEP_RETURN:
                raise svc.Changed("step")
            if action == "ok":
                member_id = member.id
            else:
                draft = _apply(session, member, draft, action, now, limit)
                return _screen_for_draft(session, draft, context)
        except svc.ReportError as error:
            session.rollback()
            return fail(error, context)
    assert member_id is not None
    return _submit(context, member_id, draft_id, now, limit)


def _apply(session: Session, member: Member, draft: ReportDraft, action: str, now: datetime,
           limit: timedelta) -> ReportDraft:
    assert draft.id is not None
    states = {"done": "done", "prog": "in_progress", "blk": "blocked"}
    if draft.step == svc.STEP_STATE and action in states:
        return svc.set_state(session, member, draft.id, states[action], now=now, timeout=limit)
    if draft.step == svc.STEP_PERCENT and action.isdigit():
        return svc.set_percent(session, member, draft.id, int(action), now=now, timeout=limit)
    if action == "keep":
        return svc.keep_note(session, member, draft.id, now=now, timeout=limit)
    if action == "next":
        return svc.finish_evidence(session, member, draft.id, now=now, timeout=limit)
    if action == "clear":
        return svc.clear_evidence(session, member, draft.id, now=now, timeout=limit)
    if action == "edit":
        return svc.restart_draft(session, member, draft.id, now=now, timeout=limit)
    raise svc.Changed("action")


def _submit(context: BotContext, member_id: int, draft_id: int, now: datetime,
            limit: timedelta) -> Screen:
    try:
        result = svc.submit_report(context.engine, member_id, draft_id, now=now, timeout=limit)
    except svc.ReportError as error:
        return fail(error, context)
    with session_scope(context.engine) as session:
        row = item_row(session, result.item.id or 0)
    assert row is not None
    screen = report_views.sent_screen(result, row)
    # A done report queued "new report to verify" notices for the coordinators.
    screen.queued = result.report.review_state == ReviewState.PENDING.value
    return screen


def _text(context: BotContext, user_id: int, text: str) -> Screen | None:
    """Typed text: it fills the step the draft is at (None: not a member)."""
    now, limit = utcnow(), timeout(context)
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return None
        draft, expired = svc.active_draft(session, member, now=now, timeout=limit)
        if draft is None:
            if expired:
                return Screen(report_views.expired_text(context.config.draft_timeout_minutes))
            return Screen(_("Send /tasks to see your agency's tasks, or /report to report on one."))
        draft_id = draft.id
        assert draft_id is not None
        try:
            if draft.step == svc.STEP_RETURN:
                return _typed_return(session, member, text, now, context)
            if draft.step == svc.STEP_PERCENT:
                draft = svc.set_percent(session, member, draft_id, svc.parse_percent(text), now=now,
                                        timeout=limit)
            elif draft.step in (svc.STEP_NOTE, svc.STEP_REASON):
                draft = svc.set_note(session, member, draft_id, text, now=now, timeout=limit)
            elif draft.step == svc.STEP_EVIDENCE:
                draft = svc.set_document_number(session, member, draft_id, text, now=now,
                                                timeout=limit)
            else:
                screen = _screen_for_draft(session, draft, context)
                screen.text = _("Please use the buttons below.") + "\n\n" + screen.text
                return screen
        except svc.Invalid as error:
            session.rollback()
            return Screen(report_views.invalid_text(error.detail, len(text.strip())))
        except svc.ReportError as error:
            session.rollback()
            return fail(error, context)
        return _screen_for_draft(session, draft, context)


def _typed_return(session: Session, member: Member, text: str, now: datetime,
                  context: BotContext) -> Screen:
    return review.typed_reason(session, member, text, now, context)


def _file(context: BotContext, user_id: int, file: svc.EvidenceFile) -> Screen | None:
    now, limit = utcnow(), timeout(context)
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return None
        draft, expired = svc.active_draft(session, member, now=now, timeout=limit)
        if draft is None:
            if expired:
                return Screen(report_views.expired_text(context.config.draft_timeout_minutes))
            return Screen(_("Files are evidence for a report: send /report first."))
        if draft.step != svc.STEP_EVIDENCE:
            return Screen(_("Files are taken at the evidence step of a report; first answer the "
                            "question above."))
        assert draft.id is not None
        try:
            draft = svc.add_evidence(session, member, draft.id, file, now=now, timeout=limit)
        except svc.ReportError as error:
            session.rollback()
            return fail(error, context)
        return _screen_for_draft(session, draft, context)


def _cancel(context: BotContext, user_id: int) -> Screen:
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return Screen(report_views.not_registered_text())
        if svc.cancel_draft(session, member):
            return Screen(_("Cancelled: nothing was sent. Send /report to start again."))
        return Screen(_("There is nothing to cancel."))


def _is_registered(context: BotContext, user_id: int) -> bool:
    with session_scope(context.engine) as session:
        return active_member(session, user_id) is not None


# --------------------------------------------------------------------------- handlers


async def report_command(update: Update, context: BotContext) -> None:
    """/report: continue the report in progress, or pick one of the agency's open items."""
    user = update.effective_user
    if user is None or await private_only(update, context):
        return
    await show(update, context, await run_sync(_report_command, context, user.id))


async def cancel_command(update: Update, context: BotContext) -> None:
    """/cancel: discard the report in progress."""
    user = update.effective_user
    if user is None or await private_only(update, context):
        return
    await show(update, context, await run_sync(_cancel, context, user.id))


async def report_button(update: Update, context: BotContext) -> None:
    """rp:<item> / rn:<item>: start (or continue) a report; from a group, in the private chat."""
    query = update.callback_query
    assert query is not None and query.data is not None
    kind, _sep, rest = query.data.partition(":")
    ids = ints([rest])
    if ids is None:
        await answer(query, report_views.error_text(svc.NotAllowed()))
        return
    screen = await run_sync(_begin, context, query.from_user.id, ids[0], force=kind == "rn")
    if is_private(update):
        await show(update, context, screen)
        return
    if screen.toast is not None:  # refused: say so on the button only
        await answer(query, screen.toast)
        return
    try:
        await context.bot.send_message(query.from_user.id, screen.text, reply_markup=screen.markup)
    except Forbidden:
        await answer(query, report_views.private_only_text(context.bot.username))
        return
    await answer(query, _("I have written to you in our private chat."))


async def draft_button(update: Update, context: BotContext) -> None:
    """d:<draft>:<step>:<action>: one of the draft's buttons."""
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    ids = ints(parts[1:2]) if len(parts) == 4 else None
    if ids is None or not is_private(update):
        await answer(query, report_views.error_text(svc.NotAllowed()))
        return
    await show(update, context, await run_sync(_draft_button, context, query.from_user.id, ids[0],
                                               parts[2], parts[3]))


async def _show_or_stranger(update: Update, context: BotContext, screen: Screen | None) -> None:
    """Members get the screen; others the onboarding's "ask for an invitation"."""
    if screen is None:
        await onboarding.stranger_text(update, context)
    else:
        await show(update, context, screen)


async def on_text(update: Update, context: BotContext) -> None:
    """Text in the private chat: the answer to the draft's current question."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    await _show_or_stranger(update, context, await run_sync(_text, context, user.id, message.text))


async def on_file(update: Update, context: BotContext) -> None:
    """A document or photo in the private chat: evidence for the draft."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    if message.document is not None:
        doc = message.document
        file = svc.EvidenceFile("document", doc.file_id, doc.file_unique_id, doc.file_name or "",
                                doc.mime_type or "", doc.file_size)
    elif message.photo:
        photo = message.photo[-1]
        file = svc.EvidenceFile("photo", photo.file_id, photo.file_unique_id, "", "image/jpeg",
                                photo.file_size)
    else:
        return
    await _show_or_stranger(update, context, await run_sync(_file, context, user.id, file))


async def on_unsupported(update: Update, context: BotContext) -> None:
    """Stickers, voice, video…: say what is accepted."""
    user = update.effective_user
    if user is None:
        return
    if not await run_sync(_is_registered, context, user.id):
        await onboarding.stranger_text(update, context)
        return
    await show(update, context, Screen(_(
        "I cannot use this kind of message. For a report, send documents (pdf, doc, docx, xls, xlsx, "
        "odt, jpg, png, zip; up to 20 MB) or photos, and type text.")))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Commands and buttons; the catch-all message handlers come from :func:`message_handlers`."""
    return [
        CommandHandler("report", report_command),
        CommandHandler("cancel", cancel_command),
        CallbackQueryHandler(report_button, pattern=r"^r[pn]:"),
        CallbackQueryHandler(draft_button, pattern=r"^d:"),
    ]


async def unknown_button(update: Update, context: BotContext) -> None:
    """A button no handler knows (an old version's, or forged): say so, change nothing."""
    query = update.callback_query
    if query is not None:
        await answer(query, _("This has changed since the button was shown. Nothing was done."))


def message_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """Private-chat messages that fill a draft, and buttons nobody else took; register these
    last (they catch all text and all callback data)."""
    return [
        CallbackQueryHandler(unknown_button),
        MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(PRIVATE & (filters.Document.ALL | filters.PHOTO), on_file),
        MessageHandler(PRIVATE & UNSUPPORTED, on_unsupported),
    ]
