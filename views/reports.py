"""What the reporting screens say: state labels, item lines, the draft's prompts, report cards and
the callback data of their buttons. Everything user-supplied is escaped; everything fits 4,096."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models import reports as svc
from models.items import ItemRow
from models.tables import Evidence, Report, ReportDraft, ReportState
from views.html import clip, esc
from views.i18n import format_date, format_number, ngettext
from views.i18n import gettext as _
from views.labels import report_name, state_label
from views.screen import Screen

# Callback data (all well under Telegram's 64 bytes). Each carries what the button assumes,
# so the server can tell a stale or forged one.
REPORT = "rp:{item_id}"  # start (or continue) a report on an item; also sent by reminders
REPORT_NEW = "rn:{item_id}"  # start over on this item, discarding another draft
TASKS_PAGE = "tk:{page}"
TASK_ITEM = "ti:{item_id}:{page}"
DRAFT = "d:{draft_id}:{step}:{action}"
REVIEW = "rv:{report_id}:{version}:{action}"  # action: a(pprove) | r(eturn)
REVIEW_NEXT = "rq"

def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def when(due_on: date, today: date) -> str:
    days = (due_on - today).days
    due = format_date(due_on)
    if days < 0:
        return ngettext("due {date}, overdue by {n} day", "due {date}, overdue by {n} days",
                        -days).format(n=-days, date=due)
    if days == 0:
        return _("due today, {date}").format(date=due)
    return ngettext("due {date}, {n} day left", "due {date}, {n} days left", days).format(
        n=days, date=due)


def item_heading(row: ItemRow) -> str:
    return _("<b>{code}</b> · period {period}").format(code=esc(row.code), period=esc(row.period_key))


# --------------------------------------------------------------------------- messages


def error_text(error: svc.ReportError, *, timeout_minutes: int = 120) -> str:
    """The answer to a refused action."""
    if isinstance(error, svc.NotAllowed):
        return _("Not allowed: this is not yours to do.")
    if isinstance(error, svc.AlreadySent):
        return _("Already sent: this report was submitted before.")
    if isinstance(error, svc.AlreadyVerified):
        return _("This item is already verified; its report can no longer be changed.")
    if isinstance(error, svc.Changed):
        if error.detail == "expired":
            return expired_text(timeout_minutes)
        return _("This has changed since the button was shown. Nothing was done.")
    return invalid_text(error.detail)


def expired_text(minutes: int) -> str:
    return ngettext(
        "Your unfinished report was discarded after {n} minute without activity. "
        "Send /report to start again.",
        "Your unfinished report was discarded after {n} minutes without activity. "
        "Send /report to start again.", minutes).format(n=minutes)


def invalid_text(detail: str, length: int | None = None) -> str:
    limit = format_number(svc.MAX_NOTE)
    if detail == "note_too_long":
        return _("That text has {n} characters; the limit is {limit}. Please shorten it and "
                 "send it again.").format(n=format_number(length or 0), limit=limit)
    messages = {
        "note_empty": _("Please type the reason (it cannot be empty)."),
        "percent": _("Please send a whole number from 0 to 99, e.g. 40."),
        "document_number": _("That does not look like a document number. Send it like "
                             "123/BC-UBND (at most 64 characters), or send a file."),
        "file_type": _("This file type is not accepted. Send documents (pdf, doc, docx, xls, xlsx, "
                       "odt, jpg, png, zip) or photos."),
        "file_size": _("This file is larger than 20 MB. Please send a smaller one."),
        "too_many_files": _("A report can carry at most {n} files.").format(n=svc.MAX_FILES),
        "no_evidence": _("A finished task needs evidence: send at least one file or the number of "
                         "the document that records the work."),
        "state": _("Please choose one of the buttons."),
    }
    return messages.get(detail, _("That was not accepted. Please try again."))


def not_registered_text() -> str:
    return _("You are not registered yet. Ask the Department of Home Affairs (your coordinator) for "
             "an invitation link, then open it here.")


def private_only_text(username: str | None) -> str:
    link = f"https://t.me/{username}" if username else "https://t.me/"
    return _("Personal work is done in a private chat with me: {link}").format(link=esc(link))


# --------------------------------------------------------------------------- the draft


def _cancel(draft: ReportDraft) -> InlineKeyboardButton:
    return button(_("✖ Cancel"), DRAFT.format(draft_id=draft.id, step=draft.step, action="cancel"))


def _action(draft: ReportDraft, text: str, action: str) -> InlineKeyboardButton:
    return button(text, DRAFT.format(draft_id=draft.id, step=draft.step, action=action))


def draft_summary(draft: ReportDraft) -> list[str]:
    lines = []
    if draft.state:
        label = report_name(draft.state)
        if draft.state == ReportState.IN_PROGRESS.value and draft.percent is not None:
            label = _("In progress {percent}%").format(percent=draft.percent)
        lines.append(_("State: {state}").format(state=label))
    if draft.note:
        title = _("Reason") if draft.state == ReportState.BLOCKED.value else _("Note")
        lines.append(f"{title}: <i>{esc(draft.note)}</i>")
    files = svc.draft_files(draft)
    if files:
        names = ", ".join(esc(clip(f.file_name or _("photo"), 40)) for f in files)
        lines.append(ngettext("{n} file: {names}", "{n} files: {names}", len(files)).format(
            n=len(files), names=names))
    if draft.document_number:
        lines.append(_("Document number: {number}").format(number=esc(draft.document_number)))
    return lines


def draft_screen(draft: ReportDraft, row: ItemRow, today: date) -> Screen:
    """The prompt of the draft's current step, with its buttons."""
    head = [_("📝 <b>Report</b> on {item}").format(item=item_heading(row)),
            f"<i>{esc(clip(row.task, 300))}</i>", when(row.due_on, today)]
    if draft.base_version and draft.step == svc.STEP_STATE:
        head.append(_("Starting from version {n} of your agency's report; what you keep is "
                      "sent again.").format(n=draft.base_version))
    cancel = _cancel(draft)
    step = draft.step
    rows: list[list[InlineKeyboardButton]]
    if step == svc.STEP_STATE:
        ask = _("What is the state of this task?")
        rows = [[_action(draft, _("✅ Done"), "done"), _action(draft, _("⏳ In progress"), "prog")],
                [_action(draft, _("⚠️ Blocked"), "blk")], [cancel]]
    elif step == svc.STEP_PERCENT:
        ask = _("How far along is it? Tap a value or type a percentage from 0 to 99.")
        rows = [[_action(draft, f"{p}%", str(p)) for p in (10, 25, 50, 75, 90)], [cancel]]
    elif step in (svc.STEP_NOTE, svc.STEP_REASON):
        if step == svc.STEP_REASON:
            ask = _("What is blocking the task? Type the reason (up to {limit} characters).")
        else:
            ask = _("Type a short note on what was done (up to {limit} characters), or skip.")
        ask = ask.format(limit=format_number(svc.MAX_NOTE))
        keep = None
        if draft.note:
            ask += "\n" + _("Current text: <i>{note}</i>").format(note=esc(draft.note))
            keep = _action(draft, _("Keep this text"), "keep")
        elif step == svc.STEP_NOTE:
            keep = _action(draft, _("Skip"), "keep")
        rows = [[keep], [cancel]] if keep else [[cancel]]
    elif step == svc.STEP_EVIDENCE:
        ask = _("Send the evidence: documents (pdf, doc, docx, xls, xlsx, odt, jpg, png, zip; up to "
                "20 MB each) or photos, as many as needed, and type the number of the official "
                "document that records the work (e.g. 123/BC-UBND). Then tap Continue.")
        summary = draft_summary(draft)
        ask += "\n\n" + ("\n".join(summary[1:]) if len(summary) > 1 else _("Nothing attached yet."))
        rows = [[_action(draft, _("Continue ➡️"), "next")]]
        if draft.document_number or svc.draft_files(draft):
            rows.append([_action(draft, _("Remove files and number"), "clear")])
        rows.append([cancel])
    elif step == svc.STEP_REVIEW:
        ask = _("<b>Check your report</b> and send it:") + "\n" + "\n".join(draft_summary(draft))
        rows = [[_action(draft, _("📤 Send"), "ok"), _action(draft, _("✏️ Change"), "edit")], [cancel]]
    else:
        ask, rows = _("This has changed since the button was shown. Nothing was done."), []
    tail = _("Send /cancel to stop; other commands keep this report for later.")
    text = "\n".join(head) + "\n\n" + ask + "\n\n" + f"<i>{tail}</i>"
    return Screen(text, InlineKeyboardMarkup(rows) if rows else None)


def draft_elsewhere_screen(draft: ReportDraft, row: ItemRow, wanted_item: int | None) -> Screen:
    """/report (or another item's button) while a report is in progress."""
    text = _("You have a report in progress on {item}. Continue it, or discard it?").format(
        item=item_heading(row))
    rows = [[_action(draft, _("Continue"), "show")], [_action(draft, _("Discard it"), "cancel")]]
    if wanted_item is not None and wanted_item != draft.item_id:
        rows.append([button(_("Discard it and report on the other item"),
                            REPORT_NEW.format(item_id=wanted_item))])
    return Screen(text, InlineKeyboardMarkup(rows))


def sent_screen(result: svc.SubmitResult, row: ItemRow) -> Screen:
    lines = [_("✅ Sent: version {n} of the report on {item}.").format(
        n=result.report.version, item=item_heading(row)),
        _("State: {state}").format(state=state_label(result.item.state, result.report.percent))]
    if result.report.state == ReportState.DONE.value:
        lines.append(_("The Department of Home Affairs will verify it; you will hear if it is "
                       "returned."))
    if result.overtook:
        lines.append(_("Someone else from your agency sent a report on this item meanwhile. Both are "
                       "kept; yours, the latest, is now the current one."))
    return Screen("\n".join(lines))


def pick_item_screen(rows: list[ItemRow], today: date, limit: int = 10) -> Screen:
    if not rows:
        return Screen(_("Your agency has nothing to report right now."))
    lines = [_("Which item do you report on? The most urgent first:")]
    buttons = []
    for index, row in enumerate(rows[:limit], start=1):
        lines.append(f"{index}. {item_heading(row)}: {esc(clip(row.task, 90))}\n"
                     f"   <i>{when(row.due_on, today)} — {state_label(row.state, row.percent)}</i>")
        buttons.append([button(f"{index}. {clip(row.code, 20)} · {clip(row.period_key, 12)}",
                               REPORT.format(item_id=row.item_id))])
    if len(rows) > limit:
        more = len(rows) - limit
        lines.append(ngettext("…and {n} more: see /tasks.", "…and {n} more: see /tasks.",
                              more).format(n=more))
    return Screen("\n\n".join(lines), InlineKeyboardMarkup(buttons))


# --------------------------------------------------------------------------- reports


def report_card(report: Report, row: ItemRow, agency: str, author: str,
                evidence: list[Evidence], today: date) -> list[str]:
    label = report_name(report.state)
    if report.state == ReportState.IN_PROGRESS.value and report.percent is not None:
        label = _("In progress {percent}%").format(percent=report.percent)
    lines = [_("{item} — {agency}").format(item=item_heading(row), agency=esc(agency)),
             f"<i>{esc(clip(row.task, 300))}</i>", when(row.due_on, today),
             _("Version {n} by {name}: {state}").format(n=report.version, name=esc(clip(author, 60)),
                                                       state=label)]
    if report.note:
        lines.append(_("Note: <i>{note}</i>").format(note=esc(report.note)))
    lines.append(_("Document number: {number}").format(number=esc(report.document_number or "—")))
    names = ", ".join(esc(clip(e.file_name or _("photo"), 40)) for e in evidence[:svc.MAX_FILES])
    lines.append(ngettext("{n} file: {names}", "{n} files: {names}", len(evidence)).format(
        n=len(evidence), names=names or "—"))
    if report.review_reason:
        lines.append(_("Returned because: <i>{reason}</i>").format(reason=esc(report.review_reason)))
    return lines


def review_buttons(report: Report) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        button(_("✅ Approve"), REVIEW.format(report_id=report.id, version=report.version, action="a")),
        button(_("↩️ Return"), REVIEW.format(report_id=report.id, version=report.version, action="r")),
    ]])


def returned_notice(row: ItemRow, reason: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _("↩️ The report on {item} was returned by the Department of Home Affairs.\n"
             "Reason: <i>{reason}</i>\n\nPlease correct it and send it again.").format(
        item=item_heading(row), reason=esc(reason))
    return text, InlineKeyboardMarkup([[button(_("📝 Resubmit"), REPORT.format(item_id=row.item_id))]])
