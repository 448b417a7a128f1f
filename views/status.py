"""What /status and /chart show: the summary with its drill-down buttons (axis -> task ->
agencies -> an agency's items), the chart, and the refusals. Views take the plain pages of
``models.status`` and return a Screen; which buttons a page gets is decided from its data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from domain.periods import HALF, QUARTER, YEAR, Period, period_containing
from models.rollup import ItemLine
from models.status import (
    AgencyPage,
    AxisPage,
    OverdueAgencyPage,
    OverduePage,
    PlanOption,
    RankingPage,
    Summary,
    TaskPage,
    Viewer,
)
from views.callbacks import (
    BadCallbackData,
    CallbackData,
    HistoryPage,
    PlanPick,
    StatusAgency,
    StatusAxis,
    StatusChart,
    StatusOverdue,
    StatusOverdueAgency,
    StatusRanking,
    StatusSummary,
    StatusTask,
)
from views.charts import chart_data, render_chart
from views.dashboard import dashboard_button
from views.explanations import ask_button, note_line
from views.html import clip, clip_html, esc
from views.i18n import format_date, format_number, ngettext
from views.i18n import gettext as _
from views.labels import axis_name, level_name
from views.plans import plan_buttons, plan_lines
from views.rollup import (
    agency_state_lines,
    item_state_lines,
    paginate,
    period_label,
    rank_lines,
    summary_lines,
    task_lines,
)
from views.screen import Attachment, Screen
from views.targets import status_lines

ONE_DAY = timedelta(days=1)
T = TypeVar("T")


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def label(text: str, width: int) -> str:
    """A name as a button's text: one line, clipped, never empty (Telegram refuses that)."""
    return clip(text, width).strip() or "…"


def scope_label(viewer: Viewer) -> str:
    """The scope, and the plan when several are in force (plain text: the caller escapes it)."""
    if viewer.scope.everything:
        scope = _("whole province")
    elif viewer.scope.subtree:
        scope = _("{agency} and the units under it").format(agency=viewer.agency_name)
    else:
        scope = viewer.agency_name
    if viewer.plan_number:
        return _("{scope} · plan {number}").format(scope=scope, number=clip(viewer.plan_number, 64))
    return scope


# --- the summary --------------------------------------------------------------------------

def summary_screen(summary: Summary, today: date, dashboard_base: str | None = None, *,
                   private: bool = True) -> Screen:
    """The /status summary for the person's scope, with drill-down buttons (and one that opens
    the dashboard, where DONDOC_WEB_BASE_URL is set)."""
    rollup = summary.rollup
    lines = summary_lines(rollup, clip(scope_label(summary.viewer), 300))
    if summary.backlog.items:
        # Right under the period's own figures: what earlier periods still owe.
        lines.insert(_after_overdue(lines), backlog_line(summary.backlog.items))
    lines += status_lines(summary.targets)
    text = clip_html("\n".join(lines))
    key, p = rollup.period.key, summary.viewer.plan_id
    axes = [button(_("Axis {n}").format(n=a.number), StatusAxis(key, a.number, plan=p))
            for a in rollup.axes if a.counts.owed]
    rows = []
    if summary.backlog.items or rollup.totals.overdue:
        rows.append([button(_("⏰ All overdue items ({n})").format(
            n=format_number(summary.backlog.items + rollup.totals.overdue)), StatusOverdue(key, plan=p))])
    rows += _rows(axes, 3)
    rows += [[button("⏰ " + label(a.name, 40), StatusAgency(key, a.agency_id, plan=p))]
             for a in rollup.most_overdue]
    last = [button(_("📈 Chart"), StatusChart(key, plan=p))]
    if summary.ranks:
        last.append(button(_("🏆 Ranking"), StatusRanking(key, plan=p)))
    rows.append(last)
    if dashboard_base:
        rows.append([dashboard_button(dashboard_base, rollup.period, private=private, plan=p)])
    rows.append(_nav_row(rollup.period, today, p))
    return Screen(text, InlineKeyboardMarkup(rows))


def backlog_line(items: int) -> str:
    return ngettext("⏳ Earlier periods: <b>{n}</b> item still overdue",
                    "⏳ Earlier periods: <b>{n}</b> items still overdue", items).format(
        n=format_number(items))


def _after_overdue(lines: list[str]) -> int:
    """Where the backlog line goes: after the period's "Overdue" figure (the first blank line
    after the counts), else at the end."""
    seen_counts = False
    for index, line in enumerate(lines):
        if line.startswith("⏰"):
            seen_counts = True
        elif seen_counts and not line:
            return index
    return len(lines)


def _nav_row(period: Period, today: date, p: int = 0) -> list[InlineKeyboardButton]:
    """‹ the period before · the other kinds around the same time · the period after ›."""
    before = period_containing(period.kind, period.start - ONE_DAY, None)
    after = period_containing(period.kind, period.end + ONE_DAY, None)
    around = today if period.start <= today <= period.end else period.start
    choices = [("‹ " + period_label(before), before.key)]
    choices += [(label, period_containing(kind, around, None).key)
                for kind, label in ((QUARTER, _("Quarter")), (HALF, _("Half-year")), (YEAR, _("Year")))
                if kind != period.kind]
    choices.append((period_label(after) + " ›", after.key))
    row = []
    for label, key in choices:
        try:
            row.append(button(label, StatusSummary(key, plan=p)))
        except BadCallbackData:  # beyond the years a period key may name
            continue
    return row


# --- drill-down pages ---------------------------------------------------------------------

def axis_screen(page: AxisPage, page_no: int) -> Screen:
    """An axis's tasks (two lines each), a page of them, a button for each owed task shown."""
    rollup, key, p = page.rollup, page.rollup.period.key, page.viewer.plan_id
    tasks = [t for t in rollup.tasks if t.axis_number == page.number]
    pages = paginate([task_lines(t) for t in tasks], max_lines=8)
    shown, page_no, first = _pick(pages, page_no)
    head = [_("<b>Axis {n}. {name}</b> — {period}").format(
        n=page.number, name=esc(clip(axis_name(page.number, page.name), 200)),
        period=esc(period_label(rollup.period))),
        _("Scope: {scope}").format(scope=esc(clip(scope_label(page.viewer), 300))), ""]
    buttons = [button(label(t.code, 20), StatusTask(key, t.task_id, plan=p))
               for t in tasks[first:first + len(shown)] if t.counts.owed]
    rows = _rows(buttons, 4) + _page_nav(lambda n: StatusAxis(key, page.number, n, plan=p), page_no,
                                         len(pages), StatusSummary(key, plan=p))
    return Screen(clip_html("\n".join(head + shown)), InlineKeyboardMarkup(rows))


def task_screen(page: TaskPage, page_no: int) -> Screen:
    """A task's owing agencies and their state, a page of them, a button for each shown."""
    key, p = page.period.key, page.viewer.plan_id
    pages = paginate(agency_state_lines(page.agencies))
    shown, page_no, first = _pick(pages, page_no)
    done = sum(1 for a in page.agencies if a.counts.owed and a.counts.done == a.counts.owed)
    head = [f"<b>{esc(clip(page.code, 20))}</b> {esc(clip(page.text, 300))}",
            _("{period} · {done}/{owed} agencies done").format(
                period=esc(period_label(page.period)), done=done, owed=len(page.agencies)), ""]
    if not page.agencies:
        shown = [_("Nothing is due in this period for your scope.")]
    buttons = [button(label(a.name, 30), StatusAgency(key, a.agency_id, plan=p))
               for a in page.agencies[first:first + len(shown)]]
    back = StatusAxis(key, page.axis_number, plan=p)
    rows = _rows(buttons, 2) + _page_nav(lambda n: StatusTask(key, page.task_id, n, plan=p), page_no,
                                         len(pages), back)
    return Screen(clip_html("\n".join(head + shown)), InlineKeyboardMarkup(rows))


def agency_screen(page: AgencyPage, page_no: int) -> Screen:
    """An agency's items of the period: task, state, due day."""
    key, p = page.period.key, page.viewer.plan_id
    pages = paginate(_item_lines(page), max_lines=10)
    shown, page_no, _first = _pick(pages, page_no)
    head = [f"<b>{esc(clip(page.name, 200))}</b> — {esc(period_label(page.period))}", ""]
    if not page.items:
        shown = [_("Nothing is due in this period.")]
    rows = _history_rows(page.items[_first:_first + len(shown)])
    rows += _ask_rows(page, page.items[_first:_first + len(shown)])
    rows += _page_nav(lambda n: StatusAgency(key, page.agency_id, n, plan=p), page_no, len(pages),
                      StatusSummary(key, plan=p))
    return Screen(clip_html("\n".join(head + shown)), InlineKeyboardMarkup(rows))


# --- the ranking ----------------------------------------------------------------------------

RANK_PAGE_LINES = 15


def ranking_screen(page: RankingPage, level: str, page_no: int) -> Screen:
    """One agency level's league table (like with like), a page of it; a button per level."""
    key, p = page.period.key, page.viewer.plan_id
    levels = list(page.tables)
    level = level if level in page.tables else (levels[0] if levels else "")
    table = page.tables.get(level, [])
    pages = paginate(rank_lines(table), max_lines=RANK_PAGE_LINES)
    shown, page_no, _first = _pick(pages, page_no)
    head = [_("🏆 <b>Ranking — {period}</b>").format(period=esc(period_label(page.period))),
            _("Scope: {scope} · as of {date}").format(scope=esc(clip(scope_label(page.viewer), 300)),
                                                    date=format_date(page.today)),
            _("By the on-time rate: items completed on time ÷ items completed or overdue (items "
              "still within their deadline are not counted); then fewer overdue items."), ""]
    if level:
        head.insert(3, f"<b>{esc(level_name(level))}</b> · " + ngettext(
            "{n} agency", "{n} agencies", len(table)).format(n=format_number(len(table))))
    else:
        shown = [_("Nothing is due in this period for your scope.")]
    tabs = [button(("• " if other == level else "") + level_name(other), StatusRanking(key, other, plan=p))
            for other in levels]
    rows = _rows(tabs, 2) + _page_nav(lambda n: StatusRanking(key, level, n, plan=p), page_no, len(pages),
                                      StatusSummary(key, plan=p))
    return Screen(clip_html("\n".join(head + shown)), InlineKeyboardMarkup(rows))


# --- the overdue backlog (every period) ------------------------------------------------------

def overdue_lines(page: OverduePage) -> list[str]:
    lines = []
    for a in page.agencies:
        mark = "" if a.staffed else " · " + _("nobody registered")
        lines.append(ngettext("• {agency}: {n} overdue item{mark}", "• {agency}: {n} overdue items{mark}",
                              a.overdue).format(agency=esc(clip(a.name, 200)), n=format_number(a.overdue),
                                                mark=mark))
    return lines


def overdue_screen(page: OverduePage, page_no: int) -> Screen:
    """The agencies of the scope with overdue items, worst first, a button for each shown."""
    key, p = page.period.key, page.viewer.plan_id
    pages = paginate(overdue_lines(page), max_lines=10)
    shown, page_no, first = _pick(pages, page_no)
    head = [_("⏰ <b>Overdue items, every period</b> — as of {date}").format(date=format_date(page.today)),
            _("Scope: {scope}").format(scope=esc(clip(scope_label(page.viewer), 300))),
            ngettext("{n} item overdue", "{n} items overdue", page.items).format(n=format_number(page.items))
            + " · " + ngettext("{n} agency", "{n} agencies", len(page.agencies)).format(
                n=format_number(len(page.agencies))), ""]
    if not page.agencies:
        shown = [_("Nothing is overdue in your scope.")]
    buttons = [button(label(f"{a.overdue} · {a.name}", 40), StatusOverdueAgency(key, a.agency_id, plan=p))
               for a in page.agencies[first:first + len(shown)]]
    rows = _rows(buttons, 1) + _page_nav(lambda n: StatusOverdue(key, 0, n, plan=p), page_no, len(pages),
                                         StatusSummary(key, plan=p))
    return Screen(clip_html("\n".join(head + shown)), InlineKeyboardMarkup(rows))


def overdue_agency_screen(page: OverdueAgencyPage, page_no: int) -> Screen:
    """One agency's overdue items, oldest due day first."""
    key, p = page.period.key, page.viewer.plan_id
    pages = paginate(_item_lines(page), max_lines=10)
    shown, page_no, _first = _pick(pages, page_no)
    count = ngettext("{n} overdue item", "{n} overdue items", len(page.items)).format(
        n=format_number(len(page.items)))
    head = [f"⏰ <b>{esc(clip(page.name, 200))}</b> — {count}", ""]
    if not page.items:
        shown = [_("Nothing is overdue any more.")]
    rows = _history_rows(page.items[_first:_first + len(shown)])
    rows += _ask_rows(page, page.items[_first:_first + len(shown)])
    rows += _page_nav(lambda n: StatusOverdueAgency(key, page.agency_id, n, plan=p), page_no, len(pages),
                     StatusOverdue(key, plan=p))
    return Screen(clip_html("\n".join(head + shown)), InlineKeyboardMarkup(rows))


def _item_lines(page: AgencyPage | OverdueAgencyPage) -> list[str]:
    """An agency's items, each with its explanation request (asked when, answered or not)."""
    lines = item_state_lines(page.items)
    for index, item in enumerate(page.items):
        note = page.explanations.get(item.item_id)
        if note is not None:
            lines[index] += "\n   " + note_line(note)
    return lines


def _ask_rows(page: AgencyPage | OverdueAgencyPage,
              items: Sequence[ItemLine]) -> list[list[InlineKeyboardButton]]:
    """A ❗ button per overdue item shown without an open request, for those who may ask."""
    if not page.may_ask:
        return []
    open_ones = {i for i, note in page.explanations.items() if note.state == "open"}
    return _rows([ask_button(i.item_id, i.task_code) for i in items
                  if i.overdue and i.item_id not in open_ones], 2)


def _history_rows(items: Sequence[ItemLine]) -> list[list[InlineKeyboardButton]]:
    """A 📜 button per item shown: its report versions (who sent, verified, returned, why)."""
    return _rows([button("📜 " + label(i.task_code, 20), HistoryPage(i.item_id)) for i in items], 4)


def _pick(pages: list[list[str]], page_no: int) -> tuple[list[str], int, int]:
    """The page asked for (a page that no longer exists: the nearest one), its number and the
    index of its first entry."""
    page_no = max(0, min(page_no, len(pages) - 1))
    return pages[page_no], page_no, sum(len(p) for p in pages[:page_no])


def _rows(buttons: Sequence[T], width: int) -> list[list[T]]:
    return [list(buttons[i:i + width]) for i in range(0, len(buttons), width)]


def _page_nav(turn: Callable[[int], CallbackData], page_no: int, pages: int,
              back: CallbackData) -> list[list[InlineKeyboardButton]]:
    row = []
    if page_no > 0:
        row.append(button("‹", turn(page_no - 1)))
    if pages > 1:
        row.append(button(f"{page_no + 1}/{pages}", turn(page_no)))
    if page_no + 1 < pages:
        row.append(button("›", turn(page_no + 1)))
    return [r for r in (row, [button(_("« Back"), back)]) if r]


# --- the chart ----------------------------------------------------------------------------

def chart_screen(summary: Summary) -> Screen:
    """The completion chart as a photo (no message besides it)."""
    png = render_chart(chart_data(summary.rollup))
    return Screen("", files=[Attachment("photo", "status.png", png, caption=chart_caption(summary))])


def chart_caption(summary: Summary) -> str:
    caption = _("Completion by axis and by agency level — {period} ({scope})").format(
        period=esc(period_label(summary.rollup.period)), scope=esc(clip(scope_label(summary.viewer), 300)))
    return clip_html(caption, MessageLimit.CAPTION_LENGTH)


# --- refusals -----------------------------------------------------------------------------

def plan_choice(plans: Sequence[PlanOption], period: Period, what: str) -> Screen:
    """Several plans are in force: which one (``what``: "status", "chart", "export" or
    "report_doc"), a button each; the period asked for goes with the choice."""
    key = period.key
    lines = [_("Several plans are in force. Which plan, for {period}?").format(
        period=esc(period_label(period))), ""]
    lines += plan_lines(plans)
    kinds: dict[str, Callable[[int], CallbackData]] = {
        "status": lambda plan: StatusSummary(key, plan=plan),
        "chart": lambda plan: StatusChart(key, plan=plan),
        "export": lambda plan: PlanPick("export", plan, key),
        "report_doc": lambda plan: PlanPick("report_doc", plan, key)}
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(plan_buttons(plans, kinds[what])))


def no_such_plan() -> Screen:
    return Screen(_("There is no plan with that number. Send the command alone to choose one."))


def unknown_period() -> Screen:
    return Screen(_("I do not know that period. Use e.g. 2026-Q4, 2026-H2, 2026, or quarter / half / year."))


def members_only() -> Screen:
    return Screen(_("Only registered members can see the plan's status. "
                    "Ask your coordinator for an invitation."))


def no_plan() -> Screen:
    text = _("No plan is loaded yet.")
    return Screen(text, toast=text)
