"""What a reminder says: one message per person per slot, most urgent item first, each with its
state, a button per item that opens its report form as a new message (the reminder stays), and
when more items are owed than buttons fit, one "all N tasks" button to the paged list. Everything
goes through the catalogs and fits Telegram's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.periods import QUARTER, period_containing
from views.callbacks import ReportItem, ReportList, StatusOverdue
from views.extensions import ask_button
from views.html import clip, esc
from views.i18n import format_date, ngettext, use_locale
from views.i18n import gettext as _
from views.labels import state_icon, state_label

MAX_TEXT = 4096
MAX_LINES = 25  # beyond this the message says how many more there are
MAX_BUTTONS = 10  # item buttons; with more items, the last place goes to "all N tasks"


@dataclass(frozen=True)
class ReminderLine:
    item_id: int
    code: str
    task: str
    agency: str
    due_on: date
    state: str = "not_started"
    percent: int | None = None
    period: str = ""  # the period key ("2026-H2"): named where a code is owed in several
    plan: str = ""  # the plan's number, when more than one plan is in force ("" otherwise)


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    markup: InlineKeyboardMarkup | None


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(line: ReminderLine, today: date) -> str:
    days = (line.due_on - today).days
    due = format_date(line.due_on, "short")
    if days < 0:
        return ngettext("overdue by {n} day (due {date})", "overdue by {n} days (due {date})",
                        -days).format(n=-days, date=due)
    if days == 0:
        return _("due today ({date})").format(date=due)
    return ngettext("{n} day left (due {date})", "{n} days left (due {date})", days).format(
        n=days, date=due)


def _header(audience: str, count: int) -> str:
    if audience == "focal_point":
        return ngettext("🔔 <b>Reminder</b>: your agency has {n} item to report.",
                        "🔔 <b>Reminder</b>: your agency has {n} items to report.", count).format(n=count)
    return ngettext("⏰ <b>Overdue</b>: {n} item is late.", "⏰ <b>Overdue</b>: {n} items are late.",
                    count).format(n=count)


def _line(index: int, line: ReminderLine, today: date, with_agency: bool) -> str:
    agency = f" — {esc(line.agency)}" if with_agency else ""
    period = f" ({esc(clip(line.period, 12))})" if line.period else ""
    plan = f"[{esc(clip(line.plan, 24))}] " if line.plan else ""
    mark = "❗" if line.due_on < today else "•"
    state = "" if line.state == "not_started" else (
        f" · {state_icon(line.state)} {state_label(line.state, line.percent)}")
    return (f"{mark} {plan}<b>{esc(line.code)}</b>{period}{agency}: {esc(_clip(line.task, 140))}\n"
            f"   <i>{_when(line, today)}</i>{state}")


def render_reminder(lines: list[ReminderLine], *, audience: str, language: str,
                    today: date) -> RenderedMessage:
    """The message for one recipient: ``lines`` sorted most urgent first."""
    ordered = sorted(lines, key=lambda ln: (ln.due_on, ln.plan, ln.code, ln.agency))
    with use_locale(language):
        parts = [_header(audience, len(ordered))]
        with_agency = audience != "focal_point"
        shown = 0
        for index, line in enumerate(ordered[:MAX_LINES]):
            candidate = _line(index, line, today, with_agency)
            if sum(len(p) + 2 for p in parts) + len(candidate) > MAX_TEXT - 300:
                break
            parts.append(candidate)
            shown += 1
        if shown < len(ordered):
            parts.append(ngettext("…and {n} more. Send /tasks to see them all.",
                                  "…and {n} more. Send /tasks to see them all.",
                                  len(ordered) - shown).format(n=len(ordered) - shown))
        if audience == "focal_point":
            parts.append(_("Tap an item below to report on it, or reply in your own words "
                           "(e.g. “{code} done”).").format(code=esc(clip(ordered[0].code, 20))))
            fits = ordered if len(ordered) <= MAX_BUTTONS else ordered[:MAX_BUTTONS - 1]
            twice = {line.code for line in ordered if sum(o.code == line.code for o in ordered) > 1}

            def label(line: ReminderLine) -> str:
                text = _("Report {code}").format(code=clip(line.code, 20))
                if line.code not in twice:
                    return text
                if line.plan and sum(o.code == line.code and o.plan != line.plan for o in ordered):
                    text = f"{text} · {clip(line.plan, 16)}"  # the same code in another plan
                return f"{text} · {clip(line.period, 12)}" if line.period else text
            buttons = [[InlineKeyboardButton(label(line), callback_data=ReportItem(line.item_id).pack())]
                       for line in fits]
            # Overdue items also offer to ask for a later date, beside their report button, as
            # far as the buttons' budget goes (the most urgent first).
            spare = MAX_BUTTONS - len(buttons) - (len(fits) < len(ordered))
            for row, line in zip(buttons, fits, strict=True):
                if line.due_on < today and spare > 0:
                    row.append(ask_button(line.item_id))
                    spare -= 1
            if len(fits) < len(ordered):
                buttons.append([InlineKeyboardButton(
                    ngettext("📋 All {n} task", "📋 All {n} tasks", len(ordered)).format(n=len(ordered)),
                    callback_data=ReportList(0, 1).pack())])
            return RenderedMessage("\n\n".join(parts), InlineKeyboardMarkup(buttons))
        parts.append(_("Send /status to see where everyone stands."))
        # Leaders: the overdue drill-down of their scope, every period (what /status's button opens).
        period = period_containing(QUARTER, today, None).key
        overdue = InlineKeyboardButton(_("⏰ Open the overdue list"),
                                       callback_data=StatusOverdue(period).pack())
        return RenderedMessage("\n\n".join(parts), InlineKeyboardMarkup([[overdue]]))


def render_unreachable_notice(*, member_name: str, agency: str, language: str) -> str:
    with use_locale(language):
        return _("⚠️ {name} ({agency}) can no longer be reached: they blocked the bot or left "
                 "Telegram. Reminders for their agency need another focal point.").format(
            name=esc(clip(member_name, 100)), agency=esc(clip(agency, 200)))


def render_review_notice(*, code: str, agency: str, language: str) -> str:
    with use_locale(language):
        return _("📝 New report to verify: <b>{code}</b> from {agency}. Send /review to open the "
                 "queue.").format(code=esc(clip(code, 20)), agency=esc(clip(agency, 200)))
