"""What a task's history and the audit log look like: every report version of an item with its
state, note, document number, files, who sent it, who verified or returned it, when and why
(newest first, a page of them); the audit log for admins, newest first, paged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.explanations import ExplanationRow
from models.history import AuditPage, ItemHistory, Version, details_text
from views.callbacks import AuditLogPage, CallbackData, HistoryPage
from views.extension_lines import extended_text, history_lines
from views.html import clip, clip_html, esc
from views.i18n import format_date, format_datetime, format_number, ngettext
from views.i18n import gettext as _
from views.labels import report_name, state_icon, state_label, state_name
from views.rollup import paginate
from views.screen import Screen

VERSIONS_PER_PAGE = 4


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _nav(at: Callable[[int], CallbackData], page: int, pages: int) -> list[list[InlineKeyboardButton]]:
    row = []
    if page > 0:
        row.append(_button("‹", at(page - 1)))
    if pages > 1:
        row.append(_button(f"{page + 1}/{pages}", at(page)))
    if page + 1 < pages:
        row.append(_button("›", at(page + 1)))
    return [row] if row else []


def history_button(item_id: int) -> InlineKeyboardButton:
    """The button a task view carries to open its history."""
    return _button(_("📜 History"), HistoryPage(item_id))


def _when(value: datetime | None, tz: tzinfo) -> str:
    return format_datetime(value, tz, "short") if isinstance(value, datetime) else "-"


def version_lines(v: Version, tz: tzinfo) -> str:
    state = report_name(v.state)
    if v.state == "in_progress" and v.percent is not None:
        state = state_label("in_progress", v.percent)
    lines = [_("<b>Version {n}</b> · {state} · {when}").format(n=v.version, state=esc(state),
                                                              when=_when(v.sent_at, tz)),
             _("Sent by {name}").format(name=esc(clip(v.sent_by, 100)))]
    if v.note:
        label = _("Reason: {text}") if v.state == "blocked" else _("Note: {text}")
        lines.append(label.format(text=esc(clip(v.note, 400))))
    if v.document_number:
        lines.append(_("Document number: {number}").format(number=esc(v.document_number)))
    if v.files:
        names = ", ".join(esc(clip(name, 60)) if name else _("photo") for name in v.files)
        lines.append(ngettext("{n} file: {names}", "{n} files: {names}", len(v.files)).format(
            n=len(v.files), names=names))
    if v.review_state == "approved":
        lines.append(_("🟢 Verified by {name}, {when}").format(name=esc(clip(v.reviewed_by, 100)),
                                                              when=_when(v.reviewed_at, tz)))
    elif v.review_state == "returned":
        lines.append(_("🟠 Returned by {name}, {when}: {reason}").format(
            name=esc(clip(v.reviewed_by, 100)), when=_when(v.reviewed_at, tz),
            reason=esc(clip(v.reason, 400))))
    elif v.review_state == "pending":
        lines.append(_("🔵 Waiting for verification"))
    return "\n".join(lines)


def explanation_lines(row: ExplanationRow, tz: tzinfo) -> str:
    """One explanation request of the item: who asked when (and what), and the answer."""
    lines = [_("❗ Explanation requested by {name}, {when}").format(name=esc(clip(row.requested_by, 100)),
                                                                  when=_when(row.requested_at, tz))]
    if row.question:
        lines.append(_("Question: {text}").format(text=esc(clip(row.question, 400))))
    if row.state == "answered":
        lines.append(_("✅ Answered by {name}, {when}: {text}").format(
            name=esc(clip(row.answered_by, 100)), when=_when(row.answered_at, tz),
            text=esc(clip(row.answer_text, 600))))
        if row.document_name:
            lines.append(_("Document: {name}").format(name=esc(clip(row.document_name, 100))))
    elif row.state == "open":
        lines.append(_("⏳ Not answered yet (due {date})").format(date=format_date(row.due_on, "short")))
    return "\n".join(lines)


def history_screen(history: ItemHistory, page: int, tz: tzinfo) -> Screen:
    """The item's versions, newest first; a page of them; its extensions and explanation
    requests first."""
    head = [_("📜 <b>History of {code}</b> — {agency}").format(code=esc(clip(history.code, 20)),
                                                             agency=esc(clip(history.agency, 200))),
            esc(clip(history.task, 200)),
            _("Period {period}, due {date} · now: {icon} {state}").format(
                period=esc(history.period_key), date=format_date(history.due_on, "short"),
                icon=state_icon(history.state), state=esc(state_name(history.state)))]
    extended = extended_text(history.due_on, history.original_due_on)
    head += [extended] if extended else []
    head += [*history_lines(history.extensions), ""]  # the date's history, then a blank line
    if history.explanations:  # under the heading, before the versions, a blank line after each
        head += [line for r in history.explanations for line in (explanation_lines(r, tz), "")]
    if not history.versions:
        return Screen(clip_html("\n".join([*head, _("Nothing has been reported yet.")])))
    pages = paginate([version_lines(v, tz) for v in history.versions], max_lines=VERSIONS_PER_PAGE)
    page = max(0, min(page, len(pages) - 1))
    count = ngettext("{n} version", "{n} versions", len(history.versions)).format(n=len(history.versions))
    text = "\n".join([*head[:-1], count, "", "\n\n".join(pages[page])])
    rows = _nav(lambda n: HistoryPage(history.item_id, n), page, len(pages))
    return Screen(clip_html(text), InlineKeyboardMarkup(rows) if rows else None)


def history_gone() -> Screen:
    text = _("This task is no longer there.")
    return Screen(text, toast=text)


# --- the audit log ------------------------------------------------------------------------------

def audit_screen(page: AuditPage, tz: tzinfo) -> Screen:
    """A page of the audit log (admins), newest first."""
    head = [_("🗂 <b>Audit log</b>") + " · " + ngettext("{n} entry", "{n} entries", page.total).format(
        n=format_number(page.total)), ""]
    if not page.entries:
        return Screen("\n".join([*head, _("Nothing has been recorded yet.")]))
    lines = []
    for e in page.entries:
        who = f"{esc(clip(e.actor_name, 60))} ({esc(e.actor)})" if e.actor_name else esc(e.actor)
        details = details_text(e.details)
        lines.append(f"<b>{esc(e.action)}</b> · {_when(e.at, tz)}\n   {who} → {esc(e.entity)} "
                     f"{esc(e.entity_id)}" + (f"\n   <i>{esc(clip(details, 200))}</i>" if details else ""))
    rows = _nav(AuditLogPage, page.page, page.pages)
    return Screen(clip_html("\n".join([*head, *lines])), InlineKeyboardMarkup(rows) if rows else None)
