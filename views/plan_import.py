"""What a plan document sent in chat shows: the question "a plan or evidence?", the preview (tasks
per axis, the agencies and classes named, the new ones, what would change against the current
plan, the reader's warnings with their rows), the second confirmation before tasks are retired,
and the outcome. The preview is clipped to Telegram's message limit; the whole of it then comes
as a text file beside it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from models.plan_imports import Applied, Gone, Moved, NeedsRetire, Outcome, Preview, Read, Refused
from models.registry import ImportReport
from views.callbacks import CallbackData, PlanImportApply, PlanImportAs, PlanImportCancel
from views.html import clip, esc, utf16_len
from views.i18n import gettext as _
from views.i18n import ngettext
from views.labels import field_name
from views.screen import Attachment, Screen

_SHOWN = 8  # changes, names and warnings listed in the message (all of them in the file)
_CELL = 60  # characters of an old or new value shown


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def _name(file_name: str) -> str:
    return esc(clip(file_name or _("the document"), 80))


def question_screen(import_id: int, file_name: str) -> Screen:
    """A member who may import sent a document outside a report: which is it?"""
    text = _("Is <b>{file}</b> a plan to import, or evidence for a report?").format(
        file=_name(file_name))
    markup = InlineKeyboardMarkup([
        [_button(_("A plan to import"), PlanImportAs(import_id, 1))],
        [_button(_("Evidence for a report"), PlanImportAs(import_id, 0))],
    ])
    return Screen(text, markup=markup)


def too_big(file_name: str, limit_mb: int) -> Screen:
    return Screen(_("<b>{file}</b> is larger than {mb} MB: a plan document may have at most {mb} "
                    "MB. Nothing was changed.").format(file=_name(file_name), mb=limit_mb))


def download_failed(file_name: str) -> Screen:
    return Screen(_("I could not download <b>{file}</b> from Telegram. Please send it again; "
                    "nothing was changed.").format(file=_name(file_name)))


def gone() -> Screen:
    text = _("This document is no longer waiting (applied, cancelled or sent again). Send it "
             "again to see a new preview.")
    return Screen(text, toast=text, alert=True)


def cancelled() -> Screen:
    return Screen(_("Import cancelled; nothing was changed."), edit=True)


def read_screen(result: Read) -> Screen:
    if isinstance(result, Gone):
        return gone()
    if isinstance(result, Refused):
        return refused_screen(result)
    return preview_screen(result)


def refused_screen(refused: Refused) -> Screen:
    if refused.reason == "no_number":
        text = _("<b>{file}</b> does not say the plan's number (\"Kế hoạch số …\") above its "
                 "table, so it cannot be imported here. Nothing was changed.").format(
            file=_name(refused.file_name))
    else:
        text = _("<b>{file}</b> cannot be read as a plan; nothing was changed. What is wrong, and "
                 "where:").format(file=_name(refused.file_name))
        text += "\n<code>" + esc(clip(refused.detail, 1500)) + "</code>"
    return Screen(text)


def outcome_screen(outcome: Outcome) -> Screen:
    if isinstance(outcome, Gone):
        return gone()
    if isinstance(outcome, Moved):
        return preview_screen(outcome.preview, note=_(
            "The registry changed since this preview was shown, so nothing was applied. Here is "
            "the preview again, against the registry as it is now:"))
    if isinstance(outcome, NeedsRetire):
        return retire_screen(outcome.preview)
    return applied_screen(outcome)


# --------------------------------------------------------------------------- the preview


def preview_screen(preview: Preview, *, note: str = "") -> Screen:
    """The preview, with Apply and Cancel when it changes anything."""
    report = preview.report
    head = [note] if note else []
    head.append(_("<b>Preview of {file}</b>: plan {number}").format(
        file=_name(preview.file_name), number=esc(clip(report.plan_number, 40))))
    if preview.title:
        head.append(f"<i>{esc(clip(preview.title, 200))}</i>")
    body = [*_axes(preview), *_names(preview), *_changes(report, limit=None),
            *_warnings(report, limit=None)]
    short = [*_axes(preview), *_names(preview, limit=_SHOWN), *_changes(report, limit=_SHOWN),
             *_warnings(report, limit=_SHOWN)]
    tail = [_next_step(report)]
    text = "\n".join([*head, "", *body, "", *tail])
    files: list[Attachment] = []
    if utf16_len(text) > MessageLimit.MAX_TEXT_LENGTH - 200:
        text = "\n".join([*head, "", *short, "", _("The whole preview is in the file above."),
                          *tail])
        files.append(Attachment("document", filename="preview.txt",
                                content=_plain([*head, "", *body]).encode("utf-8")))
    return Screen(text, markup=_preview_buttons(preview), files=files, edit=True)


def _axes(preview: Preview) -> list[str]:
    lines = [ngettext("{n} task in the document:", "{n} tasks in the document:",
                      sum(a.tasks for a in preview.axes)).format(
        n=sum(a.tasks for a in preview.axes))]
    for axis in preview.axes:
        lines.append("• " + ngettext("Axis {number} ({name}): {n} task",
                                     "Axis {number} ({name}): {n} tasks", axis.tasks).format(
            number=axis.number, name=esc(clip(axis.name, 60)), n=axis.tasks))
    return lines


def _listed(names: list[str], limit: int | None) -> str:
    shown = names if limit is None else names[:limit]
    text = "; ".join(esc(clip(n, 60)) for n in shown)
    more = len(names) - len(shown)
    return text + (" " + ngettext("and {n} more", "and {n} more", more).format(n=more)
                   if more else "")


def _names(preview: Preview, limit: int | None = None) -> list[str]:
    report = preview.report
    lines = [_("Named: {agencies} and {classes}.").format(
        agencies=ngettext("{n} agency", "{n} agencies", len(preview.agencies)).format(
            n=len(preview.agencies)),
        classes=ngettext("{n} agency class", "{n} agency classes", len(preview.classes)).format(
            n=len(preview.classes)))]
    if report.new_agencies:
        lines.append(_("New agencies: {names}").format(names=_listed(report.new_agencies, limit)))
    if report.new_classes:
        lines.append(_("New agency classes: {names}").format(
            names=_listed(report.new_classes, limit)))
    return lines


def _changes(report: ImportReport, limit: int | None) -> list[str]:
    if report.created:
        return [_("A new plan: importing it adds {tasks}.").format(
            tasks=ngettext("{n} task", "{n} tasks", len(report.added)).format(n=len(report.added)))]
    if not report.changed:
        return [_("No changes: the registry already matches this document.")]
    lines = [_("Against the current plan: {added} added, {retired} retired, {changes}.").format(
        added=len(report.added), retired=len(report.retired),
        changes=ngettext("{n} field change", "{n} field changes", len(report.changes)).format(
            n=len(report.changes)))]
    items = [f"+ {esc(code)}" for code in report.added]
    for stop in report.stopping:
        items.append("− " + _("{code} retired: {reminders} would stop; {items} without further "
                              "reminders").format(
            code=esc(stop.code),
            reminders=ngettext("{n} pending reminder", "{n} pending reminders",
                               stop.reminders).format(n=stop.reminders),
            items=ngettext("{n} open item", "{n} open items", stop.open_items).format(
                n=stop.open_items)))
    for change in report.changes:
        items.append("~ " + _("{code} {field}: «{old}» → «{new}»").format(
            code=esc(clip(change.code, 20)), field=esc(field_name(change.field)),
            old=esc(clip(change.old, _CELL)), new=esc(clip(change.new, _CELL))))
    for move in report.moved:
        items.append("! " + _("{code} takes the task text of {other} (rows removed or moved?)")
                     .format(code=esc(move.code), other=esc(move.text_of)))
    shown = items if limit is None else items[:limit]
    if len(items) > len(shown):
        shown.append(ngettext("… and {n} more", "… and {n} more", len(items) - len(shown)).format(
            n=len(items) - len(shown)))
    return lines + shown


def _warnings(report: ImportReport, limit: int | None) -> list[str]:
    if not report.warnings:
        return []
    lines = [ngettext("{n} warning (the document's rows):", "{n} warnings (the document's rows):",
                      len(report.warnings)).format(n=len(report.warnings))]
    shown = report.warnings if limit is None else report.warnings[:limit]
    lines += [f"⚠ {esc(clip(w, 200))}" for w in shown]
    if len(report.warnings) > len(shown):
        more = len(report.warnings) - len(shown)
        lines.append(ngettext("… and {n} more", "… and {n} more", more).format(n=more))
    return lines


def _next_step(report: ImportReport) -> str:
    if not report.changed:
        return _("Nothing to apply.")
    if report.needs_retire:
        return _("Nothing was changed yet. Apply asks once more before tasks are retired.")
    return _("Nothing was changed yet. Press Apply to make these changes.")


def _preview_buttons(preview: Preview) -> InlineKeyboardMarkup:
    cancel = _button(_("Cancel"), PlanImportCancel(preview.import_id))
    if not preview.report.changed:
        return InlineKeyboardMarkup([[cancel]])
    return InlineKeyboardMarkup([[_button(_("Apply"), PlanImportApply(preview.import_id, 0)),
                                  cancel]])


def _plain(lines: list[str]) -> str:
    """The preview's HTML lines as plain text, for the file."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(lines))) + "\n"


# --------------------------------------------------------------------------- confirm, outcome


def retire_screen(preview: Preview) -> Screen:
    """Apply pressed on a preview that retires (or moves) tasks: say what, ask once more."""
    report = preview.report
    n = len(report.retired)
    lines = [ngettext("Applying it retires {n} task: {codes}.", "Applying it retires {n} tasks: "
                      "{codes}.", n).format(n=n, codes=_listed(report.retired, 20))] if n else []
    if n:
        lines.append(_("{reminders} stop, and {items} get no further reminders.").format(
            reminders=ngettext("{n} pending reminder", "{n} pending reminders",
                               report.reminders_stopping).format(n=report.reminders_stopping),
            items=ngettext("{n} open item", "{n} open items", report.open_items_stopping).format(
                n=report.open_items_stopping)))
    if report.moved:
        lines.append(ngettext("{n} task code takes the text of another task: {codes}.",
                              "{n} task codes take the text of other tasks: {codes}.",
                              len(report.moved)).format(
            n=len(report.moved), codes=_listed([m.code for m in report.moved], 20)))
    lines.append(_("Reports already filed stay in the history. Apply?"))
    label = (ngettext("Retire {n} task and apply", "Retire {n} tasks and apply", n).format(n=n)
             if n else _("Apply anyway"))
    markup = InlineKeyboardMarkup([
        [_button(label, PlanImportApply(preview.import_id, 1))],
        [_button(_("Cancel"), PlanImportCancel(preview.import_id))],
    ])
    return Screen("\n".join(lines), markup=markup, edit=True)


def applied_screen(applied: Applied) -> Screen:
    report = applied.preview.report
    if not report.applied:
        text = _("Plan {number}: no changes; the registry already matches {file}.")
    elif report.created:
        text = _("Plan {number} imported from {file}: {tasks}.")
    else:
        text = _("Plan {number} updated from {file}: {added} added, {retired} retired, "
                 "{changes}.")
    text = text.format(
        number=esc(clip(report.plan_number, 40)), file=_name(applied.preview.file_name),
        tasks=ngettext("{n} task", "{n} tasks", len(report.added)).format(n=len(report.added)),
        added=len(report.added), retired=len(report.retired),
        changes=ngettext("{n} field change", "{n} field changes", len(report.changes)).format(
            n=len(report.changes)))
    if report.applied:
        text += "\n" + _("Reminders follow the new registry from the next planning round.")
    return Screen(text, edit=True)
