"""The words of an extension request's state and decision, shared by the request's own screens
(views/extensions.py) and the item's history (views/history.py)."""

from __future__ import annotations

from datetime import date

from domain.extensions import MAX_REASON
from models.extensions import ExtensionRow
from models.tables import ExtensionState
from views.html import clip, esc
from views.i18n import format_date
from views.i18n import gettext as _
from views.labels import extension_name


def extended_text(due_on: date, original_due_on: date | None) -> str:
    """"extended to …, first due …" for an item whose date an extension moved; "" otherwise."""
    if original_due_on is None or original_due_on == due_on:
        return ""
    return _("extended to {date} (first due {original})").format(
        date=format_date(due_on), original=format_date(original_due_on))


def decision_line(row: ExtensionRow) -> str:
    if row.state == ExtensionState.REFUSED.value:
        return _("❌ Refused: {reason}").format(reason=esc(clip(row.decision_reason, MAX_REASON)))
    if row.decided_due_on is None:
        return extension_name(row.state)
    if row.state == ExtensionState.SHORTENED.value:
        return _("✂️ Approved with a shorter date: {date} (asked {requested})").format(
            date=format_date(row.decided_due_on), requested=format_date(row.requested_due_on))
    return _("✅ Approved: the new due date is {date}").format(date=format_date(row.decided_due_on))


def history_lines(rows: list[ExtensionRow]) -> list[str]:
    """The item's requests and decisions, oldest first, for /history."""
    lines = []
    for row in rows:
        lines.append(_("⏳ Extension asked by {name}: from {before} to {requested} — {state}").format(
            name=esc(clip(row.requested_by, 100)), before=format_date(row.due_on_before),
            requested=format_date(row.requested_due_on), state=extension_name(row.state)))
        lines.append("   " + _("Reason: {reason}").format(reason=esc(clip(row.reason, 300))))
        if row.decided_by:
            lines.append("   " + _("Decided by {name}: {decision}").format(
                name=esc(clip(row.decided_by, 100)), decision=decision_line(row)))
    return lines
