"""/tasks: what the user's agency owes in the open periods, most urgent first, a page at a time
(‹ › edit the message in place); each item's button opens it with its current report."""

from __future__ import annotations

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import fail, ints, is_private, private_only, show, today
from models import reports as svc
from models.db import run_sync, session_scope
from models.items import ItemRow, item_row, items_for_agency
from models.members import active_member, agency_of
from models.tables import Agency, Item, ItemState, Member
from scheduler.context import BotContext
from views import reports as report_views
from views.html import clip, esc
from views.i18n import gettext as _
from views.labels import state_icon, state_label
from views.reports import button, item_heading, when
from views.screen import Screen

PAGE_SIZE = 6


def _page(context: BotContext, user_id: int, page: int) -> Screen:
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        if member is None:
            return Screen(report_views.not_registered_text(), toast=report_views.not_registered_text())
        agency = agency_of(session, member)
        if agency is None or agency.id is None:
            return Screen(_("You are not attached to an agency, so there is no task list for you."))
        found = items_for_agency(session, agency.id, today(context), page=page, page_size=PAGE_SIZE)
    if not found.total:
        return Screen(_("📋 <b>{agency}</b> has no open tasks right now.").format(agency=esc(agency.name)))
    lines = [_("📋 <b>Tasks of {agency}</b> ({total}), page {page} of {pages}").format(
        agency=esc(agency.name), total=found.total, page=found.page + 1, pages=found.pages)]
    buttons = []
    for index, row in enumerate(found.rows, start=found.page * PAGE_SIZE + 1):
        icon = state_icon(row.state)
        lines.append(f"{index}. {item_heading(row)}: {esc(clip(row.task, 120))}\n"
                     f"   {icon} <i>{when(row.due_on, today(context))} — "
                     f"{state_label(row.state, row.percent)}</i>")
        buttons.append([button(f"{index}. {clip(row.code, 20)} · {clip(row.period_key, 12)}",
                               report_views.TASK_ITEM.format(item_id=row.item_id, page=found.page))])
    paging = []
    if found.page > 0:
        paging.append(button("‹", report_views.TASKS_PAGE.format(page=found.page - 1)))
    if found.page + 1 < found.pages:
        paging.append(button("›", report_views.TASKS_PAGE.format(page=found.page + 1)))
    if paging:
        buttons.append(paging)
    return Screen("\n\n".join(lines), InlineKeyboardMarkup(buttons))


def _item(context: BotContext, user_id: int, item_id: int, page: int) -> Screen:
    with session_scope(context.engine) as session:
        member = active_member(session, user_id)
        item = session.get(Item, item_id)
        if not svc.may_view(member, item) or item is None or member is None:
            return fail(svc.NotAllowed("view"), context)
        row = item_row(session, item_id)
        assert row is not None
        return _item_screen(session, member, item, row, page, context)


def _item_screen(session: Session, member: Member, item: Item, row: ItemRow, page: int,
                 context: BotContext) -> Screen:
    assert item.id is not None
    agency = session.get(Agency, item.agency_id)
    report = svc.current_report(session, item.id)
    name = agency.name if agency else "?"
    lines = [_("{item} — {agency}").format(item=item_heading(row), agency=esc(name)),
             f"<i>{esc(clip(row.task, 800))}</i>", when(row.due_on, today(context)),
             _("State: {state}").format(state=state_label(row.state, row.percent))]
    if report is not None and report.id is not None:
        author = session.get(Member, report.member_id)
        card = report_views.report_card(report, row, name, author.full_name if author else "?",
                                 svc.evidence_of(session, report.id), today(context))
        lines += ["", *card[3:]]
    else:
        lines.append(_("No report yet."))
    buttons = []
    if svc.may_report(member, item) and item.state != ItemState.VERIFIED.value:
        label = _("📝 Report") if report is None else _("📝 Update the report")
        buttons.append([button(label, report_views.REPORT.format(item_id=item.id))])
    buttons.append([button(_("‹ Back to the list"), report_views.TASKS_PAGE.format(page=page))])
    return Screen("\n".join(lines), InlineKeyboardMarkup(buttons))


async def tasks_command(update: Update, context: BotContext) -> None:
    """/tasks: the first page of the agency's list."""
    user = update.effective_user
    if user is None or await private_only(update, context):
        return
    await show(update, context, await run_sync(_page, context, user.id, 0))


async def page_button(update: Update, context: BotContext) -> None:
    """tk:<page>: another page, in place."""
    query = update.callback_query
    assert query is not None and query.data is not None
    ids = ints(query.data.split(":")[1:2])
    if ids is None or not is_private(update):
        await show(update, context, fail(svc.NotAllowed(), context))
        return
    await show(update, context, await run_sync(_page, context, query.from_user.id, ids[0]))


async def item_button(update: Update, context: BotContext) -> None:
    """ti:<item>:<page>: one item with its current report."""
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    ids = ints(parts[1:3]) if len(parts) == 3 else None
    if ids is None or not is_private(update):
        await show(update, context, fail(svc.NotAllowed(), context))
        return
    await show(update, context, await run_sync(_item, context, query.from_user.id, ids[0], ids[1]))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CommandHandler("tasks", tasks_command),
            CallbackQueryHandler(page_button, pattern=r"^tk:"),
            CallbackQueryHandler(item_button, pattern=r"^ti:")]
