"""What a reminder says: one message per person per slot, most urgent item first, a button per
item that opens its report. Everything goes through the catalogs and fits Telegram's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from views.html import clip, esc
from views.i18n import format_date, ngettext, use_locale
from views.i18n import gettext as _

MAX_TEXT = 4096
MAX_LINES = 25  # beyond this the message says how many more there are
MAX_BUTTONS = 10
REPORT_CALLBACK = "rp:{item_id}"  # handled by the reporting flow


@dataclass(frozen=True)
class ReminderLine:
    item_id: int
    code: str
    task: str
    agency: str
    due_on: date


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
    mark = "❗" if line.due_on < today else "•"
    return (f"{mark} <b>{esc(line.code)}</b>{agency}: {esc(_clip(line.task, 140))}\n"
            f"   <i>{_when(line, today)}</i>")


def render_reminder(lines: list[ReminderLine], *, audience: str, language: str,
                    today: date) -> RenderedMessage:
    """The message for one recipient: ``lines`` sorted most urgent first."""
    ordered = sorted(lines, key=lambda ln: (ln.due_on, ln.code, ln.agency))
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
            parts.append(_("Tap an item below to report on it."))
            buttons = [[InlineKeyboardButton(_("Report {code}").format(code=line.code),
                                             callback_data=REPORT_CALLBACK.format(item_id=line.item_id))]
                       for line in ordered[:MAX_BUTTONS]]
            return RenderedMessage("\n\n".join(parts), InlineKeyboardMarkup(buttons))
        parts.append(_("Send /status to see where everyone stands."))
        return RenderedMessage("\n\n".join(parts), None)


def render_unreachable_notice(*, member_name: str, agency: str, language: str) -> str:
    with use_locale(language):
        return _("⚠️ {name} ({agency}) can no longer be reached: they blocked the bot or left "
                 "Telegram. Reminders for their agency need another focal point.").format(
            name=esc(clip(member_name, 100)), agency=esc(clip(agency, 200)))


def render_review_notice(*, code: str, agency: str, language: str) -> str:
    with use_locale(language):
        return _("📝 New report to verify: <b>{code}</b> from {agency}. Send /review to open the "
                 "queue.").format(code=esc(clip(code, 20)), agency=esc(clip(agency, 200)))
