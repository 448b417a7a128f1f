"""What a coordinator's overdue escalation says: one message, whatever the number of items.

Per agency the number of its overdue items, worst first; the agencies with no focal point
registered (nobody there was reminded) listed apart, with how to invite them; a button to the
overdue drill-down of /status. The counts are those of the items this message is about; a list
too long for one message ends with a "+N more agencies" line (the button lists them all), it is
never split into several messages or cut in the middle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from views.callbacks import StatusOverdue
from views.html import clip, clip_html, esc, utf16_len
from views.i18n import format_number, ngettext, use_locale
from views.i18n import gettext as _
from views.reminders import RenderedMessage

# Room kept for the header, the "nobody registered" block's head and foot, the "+N more" lines.
RESERVE = 900


@dataclass(frozen=True)
class EscalatedAgency:
    name: str
    code: str
    items: int
    staffed: bool  # a focal point of the agency is registered (and was reminded)


def _count(n: int) -> str:
    return ngettext("{n} item", "{n} items", n).format(n=format_number(n))


def _agencies(n: int) -> str:
    return ngettext("{n} agency", "{n} agencies", n).format(n=format_number(n))


def _fit(lines: list[str], budget: int) -> int:
    """How many of ``lines`` fit in ``budget`` UTF-16 units (at least one, when there is any)."""
    used, shown = 0, 0
    for line in lines:
        cost = utf16_len(line) + 1
        if shown and used + cost > budget:
            break
        used += cost
        shown += 1
    return shown


def _more(rest: Sequence[EscalatedAgency]) -> str:
    return _("+{agencies} more ({items}): the button below lists them all.").format(
        agencies=_agencies(len(rest)), items=_count(sum(a.items for a in rest)))


def render_escalation(agencies: Sequence[EscalatedAgency], *, language: str,
                      period_key: str) -> RenderedMessage:
    """The one message for one coordinator; ``agencies`` in any order (sorted here, worst first)."""
    ordered = sorted(agencies, key=lambda a: -a.items)
    staffed = [a for a in ordered if a.staffed]
    unstaffed = [a for a in ordered if not a.staffed]
    total = sum(a.items for a in ordered)
    with use_locale(language):
        parts = [_("⏰ <b>Overdue</b>: {items} at {agencies} are past their due day and not done.").format(
            items=_count(total), agencies=_agencies(len(ordered)))]
        budget = MessageLimit.MAX_TEXT_LENGTH - RESERVE
        if staffed:
            lines = [f"• {esc(clip(a.name, 120))}: <b>{format_number(a.items)}</b>" for a in staffed]
            shown = _fit(lines, budget // (2 if unstaffed else 1))
            budget -= sum(utf16_len(ln) + 1 for ln in lines[:shown])
            block = [_("<b>By agency, worst first</b> (their focal points were reminded):"), *lines[:shown]]
            if shown < len(lines):
                block.append(_more(staffed[shown:]))
            parts.append("\n".join(block))
        if unstaffed:
            lines = [f"• {esc(clip(a.name, 120))} (<code>{esc(clip(a.code, 32))}</code>): "
                     f"<b>{format_number(a.items)}</b>" for a in unstaffed]
            shown = _fit(lines, max(budget, 200))
            head = _("👤 <b>No focal point registered</b> ({agencies}, {items}): nobody there was "
                     "reminded to report.")
            block = [head.format(agencies=_agencies(len(unstaffed)),
                                 items=_count(sum(a.items for a in unstaffed))), *lines[:shown]]
            if shown < len(lines):
                block.append(_more(unstaffed[shown:]))
            block.append(_("To invite their focal points, an administrator sends /invite to the bot, "
                           "or runs <code>dondoc invite --agency CODE --role focal_point</code>."))
            parts.append("\n".join(block))
        parts.append(_("The button below opens every overdue item, agency by agency."))
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            _("⏰ Open the overdue list"), callback_data=StatusOverdue(period_key).pack())]])
        return RenderedMessage(clip_html("\n\n".join(parts)), markup)
