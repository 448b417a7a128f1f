"""/status and /chart: where the plan stands, for the member's scope.

``/status [2026-Q4 | 2026-H2 | 2026 | quarter | half | year]`` shows the period's figures with
buttons that drill down: axis -> task -> agencies and their state -> an agency's items. Buttons
carry ``st:<action>:<period>:<id>:<page>`` (at most 64 bytes); every press is checked again on
the server against the presser's scope, so a forged button gets "not allowed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from domain.periods import HALF, QUARTER, YEAR, Period, period_containing
from models.db import run_sync, session_scope
from models.members import active_member
from models.registry import current_plan
from models.rollup import (
    Rollup,
    Scope,
    agency_lines,
    compute_rollup,
    current_period,
    in_scope,
    item_lines,
    parse_period,
    scope_for,
)
from models.tables import Agency, Axis, Plan, Task
from models.types import utcnow
from scheduler.context import BotContext
from views.charts import chart_data, render_chart
from views.html import esc
from views.i18n import gettext as _
from views.rollup import (
    agency_state_lines,
    axis_lines,
    axis_name,
    chunk,
    clip,
    item_state_lines,
    paginate,
    period_label,
    summary_lines,
)

PREFIX = "st"
ONE_DAY = timedelta(days=1)
MAX_CALLBACK = 64
KIND_WORDS = {"quarter": QUARTER, "q": QUARTER, "quy": QUARTER, "quý": QUARTER, "half": HALF,
              "h": HALF, "year": YEAR, "y": YEAR, "nam": YEAR, "năm": YEAR}


class NotAllowed(Exception):
    """The member may not see this (not registered, or outside their scope)."""


@dataclass
class View:
    """Messages to show: each text fits one Telegram message; the markup goes on the last."""

    texts: list[str]
    markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None
    caption: str = ""
    alert: str = ""
    buttons: list[list[InlineKeyboardButton]] = field(default_factory=list)


@dataclass(frozen=True)
class Viewer:
    scope: Scope
    label: str
    plan: Plan


def callback(action: str, period: str, ident: int = 0, page: int = 0) -> str:
    data = f"{PREFIX}:{action}:{period}:{ident}:{page}"
    assert len(data.encode()) <= MAX_CALLBACK, data
    return data


def _today(context: BotContext) -> date:
    return utcnow().astimezone(context.config.tz).date()


def viewer(session: Session, user_id: int) -> Viewer:
    member = active_member(session, user_id)
    scope = scope_for(session, member)
    plan = current_plan(session)
    if scope is None or plan is None:
        raise NotAllowed
    if scope.everything:
        label = _("whole province")
    else:
        agency = session.get(Agency, scope.root_id)
        name = agency.name if agency else "?"
        label = _("{agency} and the units under it").format(agency=name) if scope.subtree else name
    return Viewer(scope, label, plan)


def choose_period(arg: str | None, today: date, context: BotContext) -> Period:
    rules = context.config.rules.due
    if not arg:
        return current_period(QUARTER, today, rules)
    word = arg.strip().lower()
    if word in KIND_WORDS:
        return current_period(KIND_WORDS[word], today, rules)
    return parse_period(word.upper(), rules)


# --- views (database work, run in a worker thread) ---------------------------------------

def _nav_row(period: Period, today: date) -> list[InlineKeyboardButton]:
    before = period_containing(period.kind, period.start - ONE_DAY, None)
    after = period_containing(period.kind, period.end + ONE_DAY, None)
    row = [InlineKeyboardButton("‹ " + period_label(before), callback_data=callback("p", before.key))]
    for kind, label in ((QUARTER, _("Quarter")), (HALF, _("Half-year")), (YEAR, _("Year"))):
        if kind != period.kind:
            row.append(InlineKeyboardButton(label, callback_data=callback(
                "p", period_containing(kind, today if period.start <= today <= period.end
                                       else period.start, None).key)))
    row.append(InlineKeyboardButton(period_label(after) + " ›", callback_data=callback("p", after.key)))
    return row


def status_view(session: Session, user_id: int, period: Period, today: date) -> View:
    """The summary for the member's scope, with drill-down buttons."""
    who = viewer(session, user_id)
    rollup = compute_rollup(session, who.plan, period, today, who.scope)
    texts = chunk(summary_lines(rollup, who.label))
    return View(texts, _status_markup(rollup, today))


def _status_markup(rollup: Rollup, today: date) -> InlineKeyboardMarkup:
    key = rollup.period.key
    axes = [InlineKeyboardButton(_("Axis {n}").format(n=a.number), callback_data=callback("a", key, a.number))
            for a in rollup.axes if a.counts.owed]
    rows = [axes[i:i + 3] for i in range(0, len(axes), 3)]
    rows += [[InlineKeyboardButton("⏰ " + clip(a.name, 40), callback_data=callback("g", key, a.agency_id))]
             for a in rollup.most_overdue]
    rows.append([InlineKeyboardButton(_("📈 Chart"), callback_data=callback("c", key))])
    rows.append(_nav_row(rollup.period, today))
    return InlineKeyboardMarkup(rows)


def _page_nav(action: str, key: str, ident: int, page: int, pages: int,
              back: str) -> list[list[InlineKeyboardButton]]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("‹", callback_data=callback(action, key, ident, page - 1)))
    if pages > 1:
        row.append(InlineKeyboardButton(f"{page + 1}/{pages}",
                                        callback_data=callback(action, key, ident, page)))
    if page + 1 < pages:
        row.append(InlineKeyboardButton("›", callback_data=callback(action, key, ident, page + 1)))
    return [r for r in (row, [InlineKeyboardButton(_("« Back"), callback_data=back)]) if r]


def _page(pages: list[list[str]], page: int) -> tuple[list[str], int]:
    page = max(0, min(page, len(pages) - 1))
    return pages[page], page


def axis_view(session: Session, user_id: int, period: Period, number: int, page: int, today: date) -> View:
    who = viewer(session, user_id)
    axis = session.exec(select(Axis).where(Axis.plan_id == who.plan.id, Axis.number == number)).first()
    if axis is None:
        raise NotAllowed
    rollup = compute_rollup(session, who.plan, period, today, who.scope)
    # Two lines per task: page over tasks, not lines.
    lines = axis_lines(rollup, number)
    pairs = ["\n".join(lines[i:i + 2]) for i in range(0, len(lines), 2)]
    pages = paginate(pairs, max_lines=8)
    shown, page = _page(pages, page)
    head = [_("<b>Axis {n}. {name}</b> — {period}").format(
        n=number, name=esc(axis_name(number, axis.name)), period=esc(period_label(period))),
        _("Scope: {scope}").format(scope=esc(who.label)), ""]
    codes = {t.code: t for t in rollup.tasks if t.axis_number == number and t.counts.owed}
    shown_tasks = [codes[c] for c in codes if any(f"<b>{esc(c)}</b> " in p for p in shown)]
    buttons = [InlineKeyboardButton(t.code, callback_data=callback("t", period.key, t.task_id))
               for t in shown_tasks]
    rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    rows += _page_nav("a", period.key, number, page, len(pages), callback("p", period.key))
    return View(["\n".join(head + shown)], InlineKeyboardMarkup(rows))


def task_view(session: Session, user_id: int, period: Period, task_id: int, page: int, today: date) -> View:
    who = viewer(session, user_id)
    task = session.get(Task, task_id)
    if task is None or task.plan_id != who.plan.id:
        raise NotAllowed
    axis = session.get(Axis, task.axis_id)
    agencies = agency_lines(session, who.plan, period, today, who.scope, task_id=task_id)
    pages = paginate(agency_state_lines(agencies))
    shown, page = _page(pages, page)
    per_page = [len(p) for p in pages]
    first = sum(per_page[:page])
    done = sum(1 for a in agencies if a.counts.owed and a.counts.done == a.counts.owed)
    head = [f"<b>{esc(task.code)}</b> {esc(clip(task.task, 300))}",
            _("{period} · {done}/{owed} agencies done").format(
                period=esc(period_label(period)), done=done, owed=len(agencies)), ""]
    if not agencies:
        shown = [_("Nothing is due in this period for your scope.")]
    buttons = [InlineKeyboardButton(clip(a.name, 30), callback_data=callback("g", period.key, a.agency_id))
               for a in agencies[first:first + len(shown)]]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    back = callback("a", period.key, axis.number if axis else 1)
    rows += _page_nav("t", period.key, task_id, page, len(pages), back)
    return View(["\n".join(head + shown)], InlineKeyboardMarkup(rows))


def agency_view(session: Session, user_id: int, period: Period, agency_id: int, page: int,
                today: date) -> View:
    who = viewer(session, user_id)
    agency = session.get(Agency, agency_id)
    if agency is None or not in_scope(session, who.scope, agency_id):
        raise NotAllowed
    items = item_lines(session, who.plan, period, today, Scope(agency_id, subtree=False))
    pages = paginate(item_state_lines(items), max_lines=10)
    shown, page = _page(pages, page)
    head = [f"<b>{esc(agency.name)}</b> — {esc(period_label(period))}", ""]
    if not items:
        shown = [_("Nothing is due in this period.")]
    rows = _page_nav("g", period.key, agency_id, page, len(pages), callback("p", period.key))
    return View(["\n".join(head + shown)], InlineKeyboardMarkup(rows))


def chart_view(session: Session, user_id: int, period: Period, today: date) -> View:
    who = viewer(session, user_id)
    rollup = compute_rollup(session, who.plan, period, today, who.scope)
    png = render_chart(chart_data(rollup))
    caption = _("Completion by axis and by agency level — {period} ({scope})").format(
        period=esc(period_label(period)), scope=esc(who.label))
    return View([], photo=png, caption=caption)


def callback_view(user_id: int, data: str, today: date, context: BotContext) -> View:
    """Decode a button press and build its view; NotAllowed for anything malformed or outside
    the presser's scope."""
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != PREFIX or not parts[3].isdigit() or not parts[4].isdigit():
        raise NotAllowed
    _prefix, action, key, ident_text, page_text = parts
    try:
        period = parse_period(key, context.config.rules.due)
    except ValueError:
        raise NotAllowed from None
    ident, page = int(ident_text), int(page_text)
    with session_scope(context.engine) as session:
        if action == "p":
            return status_view(session, user_id, period, today)
        if action == "a":
            return axis_view(session, user_id, period, ident, page, today)
        if action == "t":
            return task_view(session, user_id, period, ident, page, today)
        if action == "g":
            return agency_view(session, user_id, period, ident, page, today)
        if action == "c":
            return chart_view(session, user_id, period, today)
    raise NotAllowed


def _command_view(context: BotContext, user_id: int, arg: str | None, today: date, chart: bool) -> View:
    try:
        period = choose_period(arg, today, context)
    except ValueError:
        return View([_("I do not know that period. Use e.g. 2026-Q4, 2026-H2, 2026, "
                       "or quarter / half / year.")])
    with session_scope(context.engine) as session:
        try:
            if chart:
                return chart_view(session, user_id, period, today)
            return status_view(session, user_id, period, today)
        except NotAllowed:
            return View([_("Only registered members can see the plan's status. "
                           "Ask your coordinator for an invitation.")])


# --- Telegram -----------------------------------------------------------------------------

async def _show(update: Update, view: View) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if view.photo is not None:
        await chat.send_photo(view.photo, caption=view.caption, filename="status.png")
        return
    for index, text in enumerate(view.texts):
        last = index == len(view.texts) - 1
        await chat.send_message(text, reply_markup=view.markup if last else None)


async def status_command(update: Update, context: BotContext) -> None:
    """Show the current period's figures (or the period given) for the member's scope."""
    user = update.effective_user
    if user is None:
        return
    arg = context.args[0] if context.args else None
    await _show(update, await run_sync(_command_view, context, user.id, arg, _today(context), False))


async def chart_command(update: Update, context: BotContext) -> None:
    """Send the completion chart as a PNG."""
    user = update.effective_user
    if user is None:
        return
    arg = context.args[0] if context.args else None
    await _show(update, await run_sync(_command_view, context, user.id, arg, _today(context), True))


async def on_button(update: Update, context: BotContext) -> None:
    """A drill-down button: edit the message in place (new messages for a long summary)."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    try:
        view = await run_sync(callback_view, query.from_user.id, query.data,
                              _today(context), context)
    except NotAllowed:
        await query.answer(_("Not allowed."), show_alert=True)
        return
    await query.answer()
    if view.photo is not None or len(view.texts) != 1 or query.message is None:
        await _show(update, view)
        return
    try:
        await query.edit_message_text(view.texts[0], reply_markup=view.markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def handlers() -> list[CommandHandler[BotContext, None] | CallbackQueryHandler[BotContext, None]]:
    return [CommandHandler("status", status_command), CommandHandler("chart", chart_command),
            CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:")]

