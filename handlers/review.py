"""/review: coordinators verify done reports, oldest first, one at a time (the evidence files are
sent again by file id, then the card with Approve / Return). Return asks for a reason, which the
coordinator types; the agency's focal points then get it with a button to resubmit. Leaders see
their own agency's waiting reports but cannot verify them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import fail, ints, is_private, private_only, show, timeout, today
from models import reports as svc
from models.db import run_sync, session_scope
from models.items import item_row
from models.members import active_member
from models.tables import Agency, Item, Member, Report
from models.types import utcnow
from scheduler.context import BotContext
from views import reports as report_views
from views.html import esc
from views.i18n import gettext as _
from views.i18n import ngettext
from views.reports import button
from views.screen import Attachment, Screen


def _card(session: Session, report: Report, context: BotContext) -> tuple[list[str], list[Attachment]]:
    assert report.id is not None
    row = item_row(session, report.item_id)
    item = session.get(Item, report.item_id)
    agency = session.get(Agency, item.agency_id) if item else None
    author = session.get(Member, report.member_id)
    evidence = svc.evidence_of(session, report.id)
    assert row is not None
    lines = report_views.report_card(report, row, agency.name if agency else "?",
                              author.full_name if author else "?", evidence, today(context))
    return lines, [Attachment(e.kind, filename=e.file_name, file_id=e.file_id) for e in evidence]


def next_screen(session: Session, member: Member, context: BotContext) -> Screen:
    """The oldest waiting report with its files and buttons (coordinators), or the list (leaders)."""
    queue = svc.review_queue(session, member)
    if not queue:
        return Screen(_("✅ Nothing is waiting for verification."), new_message=True)
    if not svc.may_review(member):
        lines = [ngettext("{n} report of your agency is waiting for verification (you can see it, "
                          "the Department of Home Affairs verifies it):",
                          "{n} reports of your agency are waiting for verification (you can see "
                          "them, the Department of Home Affairs verifies them):",
                          len(queue)).format(n=len(queue))]
        for report in queue[:5]:
            lines.append("\n".join(_card(session, report, context)[0]))
        return Screen("\n\n".join(lines)[:4000], new_message=True)
    report = queue[0]
    lines, files = _card(session, report, context)
    head = ngettext("🔎 <b>To verify</b> ({n} waiting, oldest first)",
                    "🔎 <b>To verify</b> ({n} waiting, oldest first)", len(queue)).format(n=len(queue))
    return Screen(head + "\n\n" + "\n".join(lines), report_views.review_buttons(report), files=files,
                  new_message=True)


def _queue(context: BotContext, user_id: int) -> Screen:
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return Screen(report_views.not_registered_text(), toast=report_views.not_registered_text())
        try:
            return next_screen(session, member, context)
        except svc.NotAllowed:
            text = _("Only coordinators verify reports.")
            return Screen(text, toast=text)


def _decide(context: BotContext, user_id: int, report_id: int, version: int, action: str) -> Screen:
    now = utcnow()
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return fail(svc.NotAllowed("member"), context)
        try:
            if action == "a":
                report = svc.approve(session, member, report_id, version, now=now)
                row = item_row(session, report.item_id)
                assert row is not None
                left = len(svc.review_queue(session, member))
                return _after(_("✅ Verified: {item}, version {n}.").format(
                    item=report_views.item_heading(row), n=version), left)
            if action == "r":
                svc.start_return(session, member, report_id, version, now=now)
                return Screen(_("↩️ Why is it returned? Type the reason for the agency (up to {limit} "
                                "characters), or send /cancel.").format(limit=1000))
            raise svc.NotAllowed("action")
        except svc.ReportError as error:
            session.rollback()
            return fail(error, context)


def _after(text: str, left: int) -> Screen:
    if not left:
        return Screen(text + "\n" + _("Nothing else is waiting."))
    more = ngettext("{n} more is waiting.", "{n} more are waiting.", left).format(n=left)
    return Screen(text + "\n" + more, InlineKeyboardMarkup([[button(_("Next ▶"), report_views.REVIEW_NEXT)]]))


def typed_reason(session: Session, member: Member, text: str, now: datetime,
                 context: BotContext) -> Screen:
    """The coordinator's reason after tapping Return: send the report back. The agency's focal
    points get a notice through the ledger (in their language, retried, not in quiet hours)."""
    report = svc.return_from_draft(session, member, text, now=now, timeout=timeout(context))
    row = item_row(session, report.item_id)
    item = session.get(Item, report.item_id)
    assert row is not None and item is not None
    told = len(svc.focal_points(session, item.agency_id))
    left = len(svc.review_queue(session, member))
    screen = _after(_("↩️ Returned: {item}. Reason: <i>{reason}</i>").format(
        item=report_views.item_heading(row), reason=esc(report.review_reason)), left)
    if told:
        screen.text += "\n" + ngettext("A notice is on its way to {n} focal point of the agency.",
                                       "A notice is on its way to {n} focal points of the agency.",
                                       told).format(n=told)
    else:
        screen.text += "\n" + _("Nobody is told: the agency has no focal point who can be reached.")
    screen.queued = told > 0
    return screen


async def review_command(update: Update, context: BotContext) -> None:
    """/review: the next report to verify."""
    user = update.effective_user
    if user is None or await private_only(update, context):
        return
    screen = await run_sync(_queue, context, user.id)
    screen.toast = None
    await show(update, context, screen)


async def review_button(update: Update, context: BotContext) -> None:
    """rv:<report>:<version>:<a|r> and rq (next)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if not is_private(update):
        await show(update, context, fail(svc.NotAllowed(), context))
        return
    if query.data == report_views.REVIEW_NEXT:
        await show(update, context, await run_sync(_queue, context, query.from_user.id))
        return
    parts = query.data.split(":")
    ids = ints(parts[1:3]) if len(parts) == 4 else None
    if ids is None:
        await show(update, context, fail(svc.NotAllowed(), context))
        return
    await show(update, context, await run_sync(_decide, context, query.from_user.id, ids[0], ids[1],
                                               parts[3]))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("review", review_command),
            CallbackQueryHandler(review_button, pattern=r"^(rv:|rq$)")]
