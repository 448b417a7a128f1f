"""What the reporting screens say: state labels, item lines, the draft's prompts, report cards and
the callback data of their buttons. Everything user-supplied is escaped; everything fits 4,096."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from domain.access import NotAllowed
from models import reports as svc
from models.items import ItemRow
from models.reporting import (
    Cancelled,
    Card,
    ContribView,
    Decided,
    DraftView,
    Elsewhere,
    Form,
    Menu,
    NoDraft,
    Refused,
    Returned,
    ReviewScreen,
    Sent,
    TaskCard,
    TasksList,
)
from models.tables import Evidence, Report, ReportState
from models.targets import TargetRow
from views import contributions as contribution_views
from views.callbacks import (
    CallbackData,
    DraftStep,
    ReportAnew,
    ReportItem,
    ReportList,
    ReviewAction,
    ReviewNext,
    ReviewPage,
    TaskItem,
    TasksPage,
)
from views.contributions import contribution_lines
from views.extension_lines import extended_text
from views.extensions import ask_button
from views.history import history_button
from views.html import clip, clip_html, esc
from views.i18n import format_date, format_number, ngettext
from views.i18n import gettext as _
from views.labels import report_name, state_icon, state_label
from views.screen import Attachment, Screen
from views.targets import target_text, value_text


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(clip(text, 60).strip() or "…", callback_data=data.pack())


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


def expected_output_line(row: ItemRow) -> list[str]:
    """The task's expected output (the plan's "Sản phẩm" column), when the plan gives one."""
    if not row.expected_output:
        return []
    return [_("📦 Expected output: {output}").format(output=esc(clip(row.expected_output, 300)))]


def item_heading(row: ItemRow) -> str:
    """The task's code and period (and its plan's number, when several plans are in force)."""
    heading = _("<b>{code}</b> · period {period}").format(code=esc(clip(row.code, 20)),
                                                          period=esc(clip(row.period_key, 12)))
    return f"[{esc(clip(row.plan, 24))}] {heading}" if row.plan else heading


def item_label(row: ItemRow) -> str:
    """A button's words for an item: its code and period, and its plan's number when several
    plans are in force (the same code may be owed in two of them)."""
    label = f"{clip(row.code, 20)} · {clip(row.period_key, 12)}"
    return f"[{clip(row.plan, 16)}] {label}" if row.plan else label


# --------------------------------------------------------------------------- messages


def error_text(error: svc.ReportError | NotAllowed, *, timeout_minutes: int = 120) -> str:
    """The answer to a refused action."""
    if isinstance(error, NotAllowed):
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
        "value_number": _("Please send the value reached as a number, e.g. 75 or 75.5."),
        "value_percent_range": _("A value in % must be between 0 and 100."),
        "value_negative": _("The value cannot be negative."),
        "value_too_large": _("That value is too large."),
        "value_unit": _("Please send the value in the target's unit, e.g. 75."),
        "value_needed": _("A finished task with a numeric target needs the value reached: type it, "
                          "e.g. 75."),
        "contribution_empty": _("Please type your agency's contribution (it cannot be empty)."),
    }
    return messages.get(detail, _("That was not accepted. Please try again."))


def not_registered_text() -> str:
    return _("You are not registered yet. Ask the Department of Home Affairs (your coordinator) for "
             "an invitation link, then open it here.")


def private_only_text(username: str | None) -> str:
    link = f"https://t.me/{username}" if username else "https://t.me/"
    return _("Personal work is done in a private chat with me: {link}").format(link=esc(link))


# --------------------------------------------------------------------------- the draft


def _cancel(draft: DraftView) -> InlineKeyboardButton:
    return button(_("✖ Cancel"), DraftStep(draft.draft_id, draft.step, "cancel"))


def _action(draft: DraftView, text: str, action: str) -> InlineKeyboardButton:
    return button(text, DraftStep(draft.draft_id, draft.step, action))


def draft_summary(draft: DraftView, target: TargetRow | None = None) -> list[str]:
    lines = []
    if draft.state:
        label = report_name(draft.state)
        if draft.state == ReportState.IN_PROGRESS.value and draft.percent is not None:
            label = _("In progress {percent}%").format(percent=draft.percent)
        lines.append(_("State: {state}").format(state=label))
    if draft.note:
        title = _("Reason") if draft.state == ReportState.BLOCKED.value else _("Note")
        lines.append(f"{title}: <i>{esc(draft.note)}</i>")
    if target is not None and draft.target_value is not None and draft.state != ReportState.BLOCKED.value:
        lines.append(_value_line(draft.target_value, target))
    files = draft.files
    if files:
        names = ", ".join(esc(clip(f.file_name or _("photo"), 40)) for f in files)
        lines.append(ngettext("{n} file: {names}", "{n} files: {names}", len(files)).format(
            n=len(files), names=names))
    if draft.document_number:
        lines.append(document_line(draft.document_number, draft.document_date))
    return lines


def _value_line(value: float, target: TargetRow) -> str:
    return _("🎯 Value reached: {value} (target {target} in {year})").format(
        value=value_text(value, target.unit), target=esc(target_text(target)), year=target.year)


def document_line(number: str, dated: date | None) -> str:
    """The cited document: its number, and its date when one followed it."""
    if dated is None:
        return _("Document number: {number}").format(number=esc(clip(number, 64) or "—"))
    return _("Document number: {number}, dated {date}").format(number=esc(clip(number, 64)),
                                                               date=format_date(dated))


def draft_screen(draft: DraftView, row: ItemRow, today: date, choices: tuple[ItemRow, ...] = (),
                 target: TargetRow | None = None) -> Screen:
    """The prompt of the draft's current step, with its buttons."""
    if draft.step == svc.STEP_PICK_ITEM:
        return _pick_item_screen(draft, choices, today)
    head = [_("📝 <b>Report</b> on {item}").format(item=item_heading(row)),
            f"<i>{esc(clip(row.task, 300))}</i>", *expected_output_line(row),
            when(row.due_on, today)]
    if draft.base_version and draft.step == svc.STEP_STATE:
        head.append(_("Starting from version {n} of your agency's report; what you keep is "
                      "sent again.").format(n=draft.base_version))
    cancel = _cancel(draft)
    step = draft.step
    rows: list[list[InlineKeyboardButton]]
    # Where the state is asked, an open item also offers to ask for a later date.
    extend = [[ask_button(row.item_id)]] if row.is_open else []
    if step == svc.STEP_PICK_STATE:
        ask = "\n".join([*draft_summary(draft), _("What is the state of this task?")])
        rows = [[_action(draft, _("✅ Done"), "done"), _action(draft, _("⏳ In progress"), "prog")],
                [_action(draft, _("⚠️ Blocked"), "blk")], *extend, [cancel]]
    elif step == svc.STEP_STATE:
        ask = _("What is the state of this task?")
        rows = [[_action(draft, _("✅ Done"), "done"), _action(draft, _("⏳ In progress"), "prog")],
                [_action(draft, _("⚠️ Blocked"), "blk")], *extend, [cancel]]
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
    elif step == svc.STEP_VALUE and target is not None:
        ask, rows = _value_question(draft, target), _value_buttons(draft, target)
        rows.append([cancel])
    elif step == svc.STEP_EVIDENCE:
        ask = _("Send the evidence: documents (pdf, doc, docx, xls, xlsx, odt, jpg, png, zip; up to "
                "20 MB each) or photos, as many as needed, and type the number of the official "
                "document that records the work (e.g. 123/BC-UBND). Then tap Continue.")
        summary = draft_summary(draft)
        ask += "\n\n" + ("\n".join(summary[1:]) if len(summary) > 1 else _("Nothing attached yet."))
        rows = [[_action(draft, _("Continue ➡️"), "next")]]
        if draft.document_number or draft.files:
            rows.append([_action(draft, _("Remove files and number"), "clear")])
        rows.append([cancel])
    elif step == svc.STEP_REVIEW:
        ask = _("<b>Check your report</b> and send it:") + "\n" + "\n".join(draft_summary(draft, target))
        rows = [[_action(draft, _("📤 Send"), "ok"), _action(draft, _("✏️ Change"), "edit")], [cancel]]
    else:
        ask, rows = _("This has changed since the button was shown. Nothing was done."), []
    tail = _("Send /cancel to stop; other commands keep this report for later.")
    text = "\n".join(head) + "\n\n" + ask + "\n\n" + f"<i>{tail}</i>"
    return Screen(clip_html(text), InlineKeyboardMarkup(rows) if rows else None)


def _value_question(draft: DraftView, target: TargetRow) -> str:
    """The value step: what the target is, and what to type."""
    ask = _("🎯 This task's target for {year} is {target}. What value has your agency reached? "
            "Type it, e.g. {example}; the evidence you send next backs it.").format(
        year=target.year, target=esc(target_text(target)), example=esc(value_text(75, target.unit)))
    if draft.target_value is not None:
        ask += "\n" + _("Last reported: {value}").format(value=value_text(draft.target_value, target.unit))
    return ask


def _value_buttons(draft: DraftView, target: TargetRow) -> list[list[InlineKeyboardButton]]:
    rows = []
    if draft.target_value is not None:
        rows.append([_action(draft, _("Keep {value}").format(
            value=value_text(draft.target_value, target.unit)), "vkeep")])
    if draft.state != ReportState.DONE.value:
        rows.append([_action(draft, _("Skip (no value yet)"), "vskip")])
    return rows


def _pick_item_screen(draft: DraftView, choices: tuple[ItemRow, ...], today: date) -> Screen:
    """A message in the officer's words that could mean several items: which one?"""
    lines = [_("📝 Which task is this report about? Tap it:")]
    lines += draft_summary(draft)
    for row in choices:
        lines.append(f"• {item_heading(row)}: {esc(clip(row.task, 80))}\n"
                     f"   <i>{when(row.due_on, today)} — {state_label(row.state, row.percent)}</i>")
    buttons = [button(item_label(row), DraftStep(draft.draft_id, draft.step, f"i{row.item_id}"))
               for row in choices]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_cancel(draft)])
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(rows))


def draft_elsewhere_screen(draft: DraftView, row: ItemRow, wanted_item: int | None) -> Screen:
    """/report (or another item's button) while a report is in progress."""
    text = _("You have a report in progress on {item}. Continue it, or discard it?").format(
        item=item_heading(row))
    rows = [[_action(draft, _("Continue"), "show")], [_action(draft, _("Discard it"), "cancel")]]
    if wanted_item is not None and wanted_item != draft.item_id:
        rows.append([button(_("Discard it and report on the other item"),
                            ReportAnew(wanted_item))])
    return Screen(text, InlineKeyboardMarkup(rows))


def sent_screen(sent: Sent) -> Screen:
    lines = [_("✅ Sent: version {n} of the report on {item}.").format(
        n=sent.version, item=item_heading(sent.row)),
        _("State: {state}").format(state=state_label(sent.item_state, sent.percent))]
    if sent.report_state == ReportState.DONE.value:
        lines.append(_("The Department of Home Affairs will verify it; you will hear if it is "
                       "returned."))
    if sent.overtook:
        lines.append(_("Someone else from your agency sent a report on this item meanwhile. Both are "
                       "kept; yours, the latest, is now the current one."))
    return Screen(clip_html("\n".join(lines)), queued=sent.queued)


PICK_PAGE = 8


def pick_item_screen(rows: list[ItemRow], today: date, page: int = 0) -> Screen:
    """The items to report on, the most urgent first, a page at a time (‹ › in place)."""
    if not rows:
        return Screen(_("Your agency has nothing to report right now."))
    pages = max(1, -(-len(rows) // PICK_PAGE))
    page = min(max(page, 0), pages - 1)
    first = page * PICK_PAGE
    head = _("Which item do you report on? The most urgent first:")
    if pages > 1:
        head += " " + _("({total} items, page {page} of {pages})").format(
            total=len(rows), page=page + 1, pages=pages)
    lines = [head]
    buttons = []
    for index, row in enumerate(rows[first:first + PICK_PAGE], start=first + 1):
        lines.append(f"{index}. {item_heading(row)}: {esc(clip(row.task, 90))}\n"
                     f"   {state_icon(row.state)} <i>{when(row.due_on, today)} — "
                     f"{state_label(row.state, row.percent)}</i>")
        buttons.append([button(f"{index}. {item_label(row)}", ReportItem(row.item_id))])
    nav = []
    if page > 0:
        nav.append(button("‹", ReportList(page - 1)))
    if pages > 1:
        nav.append(button(f"{page + 1}/{pages}", ReportList(page)))
    if page + 1 < pages:
        nav.append(button("›", ReportList(page + 1)))
    if nav:
        buttons.append(nav)
    lines.append(_("Or write it in your own words, e.g. “{code} done, report 12/BC-UBND” or "
                   "“{code} in progress 60%”.").format(code=esc(rows[0].code)))
    return Screen(clip_html("\n\n".join(lines)), InlineKeyboardMarkup(buttons))


# --------------------------------------------------------------------------- reports


def report_card(report: Report, row: ItemRow, agency: str, author: str,
                evidence: list[Evidence], today: date,
                value: tuple[float, TargetRow] | None = None) -> list[str]:
    label = report_name(report.state)
    if report.state == ReportState.IN_PROGRESS.value and report.percent is not None:
        label = _("In progress {percent}%").format(percent=report.percent)
    lines = [_("{item} — {agency}").format(item=item_heading(row), agency=esc(agency)),
             f"<i>{esc(clip(row.task, 300))}</i>", when(row.due_on, today),
             _("Version {n} by {name}: {state}").format(n=report.version, name=esc(clip(author, 60)),
                                                       state=label)]
    if report.note:
        lines.append(_("Note: <i>{note}</i>").format(note=esc(report.note)))
    if value is not None:
        lines.append(_value_line(*value))
    lines.append(document_line(report.document_number, report.document_date))
    names = ", ".join(esc(clip(e.file_name or _("photo"), 40)) for e in evidence[:svc.MAX_FILES])
    lines.append(ngettext("{n} file: {names}", "{n} files: {names}", len(evidence)).format(
        n=len(evidence), names=names or "—"))
    if report.review_reason:
        lines.append(_("Returned because: <i>{reason}</i>").format(reason=esc(report.review_reason)))
    return lines


def review_buttons(report: Report) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        button(_("✅ Approve"), ReviewAction(report.id or 0, report.version, "a")),
        button(_("↩️ Return"), ReviewAction(report.id or 0, report.version, "r")),
    ]])


def returned_notice(row: ItemRow, reason: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _("↩️ The report on {item} was returned by the Department of Home Affairs.\n"
             "Reason: <i>{reason}</i>\n\nPlease correct it and send it again.").format(
        item=item_heading(row), reason=esc(reason))
    return text, InlineKeyboardMarkup([[button(_("📝 Resubmit"), ReportItem(row.item_id))]])


# --------------------------------------------------------------------------- outcomes


def not_allowed_screen(error: NotAllowed) -> Screen:
    """A refusal by the access policy: strangers are told how to join; others "not allowed"."""
    if error.reason in ("not_member", "inactive"):
        return Screen(not_registered_text(), toast=not_registered_text())
    if error.reason == "no_agency":
        text = _("You are not attached to an agency, so there is no task list for you.")
        return Screen(text, toast=text)
    text = error_text(error)
    return Screen(text, toast=text)


def reporters_only() -> Screen:
    return Screen(_("Only the focal points of an agency report on its tasks."))


def refused_screen(error: svc.ReportError | NotAllowed, timeout_minutes: int) -> Screen:
    text = error_text(error, timeout_minutes=timeout_minutes)
    return Screen(text, toast=text)


def menu_screen(menu: Menu, today: date, timeout_minutes: int) -> Screen:
    screen = pick_item_screen(menu.rows, today, menu.page)
    if menu.code and len({row.plan for row in menu.rows}) > 1:
        screen.text = _("Your agency owes {code} in several plans. Which one?").format(
            code=f"<b>{esc(clip(menu.code, 20))}</b>") + "\n\n" + screen.text
    elif menu.code:
        screen.text = _("Your agency owes {code} in several periods. Which one?").format(
            code=f"<b>{esc(clip(menu.code, 20))}</b>") + "\n\n" + screen.text
    elif menu.unknown:
        screen.text = _("Your agency has no open task {code}.").format(
            code=f"<b>{esc(clip(menu.unknown, 20))}</b>") + "\n\n" + screen.text
    if menu.expired:
        screen.text = expired_text(timeout_minutes) + "\n\n" + screen.text
    screen.text = clip_html(screen.text)
    return screen


def outcome_screen(outcome: object, today: date, timeout_minutes: int) -> Screen:
    """The screen for what a reporting step came to (models.reporting)."""
    if isinstance(outcome, Form):
        screen = draft_screen(outcome.draft, outcome.row, today, outcome.choices, outcome.target)
        if outcome.hint == "use_buttons":
            screen.text = clip_html(_("Please use the buttons below.") + "\n\n" + screen.text)
        return screen
    if isinstance(outcome, Elsewhere):
        return draft_elsewhere_screen(outcome.draft, outcome.row, outcome.wanted_item)
    if isinstance(outcome, Menu):
        return menu_screen(outcome, today, timeout_minutes)
    if isinstance(outcome, Sent):
        return sent_screen(outcome)
    if isinstance(outcome, Cancelled):
        if outcome.button:
            return Screen(_("Cancelled: nothing was sent. Send /report to start again."),
                          toast=_("Cancelled"))
        if outcome.done:
            return Screen(_("Cancelled: nothing was sent. Send /report to start again."))
        return Screen(_("There is nothing to cancel."))
    if isinstance(outcome, Refused):
        if isinstance(outcome.error, svc.Invalid):
            return Screen(invalid_text(outcome.error.detail, outcome.length))
        return refused_screen(outcome.error, timeout_minutes)
    if isinstance(outcome, NoDraft):
        return no_draft_screen(outcome, timeout_minutes)
    if isinstance(outcome, Returned):
        return returned_screen(outcome)
    if isinstance(outcome, ContribView):
        return contribution_views.draft_screen(outcome)
    raise TypeError(outcome)


def no_draft_screen(outcome: NoDraft, timeout_minutes: int) -> Screen:
    if outcome.expired:
        return Screen(expired_text(timeout_minutes))
    if outcome.wrong_step:
        return Screen(_("Files are taken at the evidence step of a report; first answer the "
                        "question above."))
    if outcome.file:
        return Screen(_("Files are evidence for a report: send /report first."))
    return Screen(_("Send /tasks to see your agency's tasks, or /report to report on one."))


def unsupported_screen() -> Screen:
    return Screen(_("I cannot use this kind of message. For a report, send documents (pdf, doc, docx, "
                    "xls, xlsx, odt, jpg, png, zip; up to 20 MB) or photos, and type text."))


def opened_in_private() -> str:
    return _("I have written to you in our private chat.")


# --------------------------------------------------------------------------- /tasks


def tasks_screen(listing: TasksList, today: date) -> Screen:
    """A page of the agency's list, a button per item; ‹ › turn the page in place."""
    found, agency = listing.page, esc(clip(listing.agency, 200))
    if not found.total:
        return Screen(_("📋 <b>{agency}</b> has no open tasks right now.").format(agency=agency))
    lines = [_("📋 <b>Tasks of {agency}</b> ({total}), page {page} of {pages}").format(
        agency=agency, total=found.total, page=found.page + 1, pages=found.pages)]
    buttons = []
    for index, row in enumerate(found.rows, start=found.page * listing.page_size + 1):
        lines.append(f"{index}. {item_heading(row)}: {esc(clip(row.task, 120))}\n"
                     f"   {state_icon(row.state)} <i>{when(row.due_on, today)} — "
                     f"{state_label(row.state, row.percent)}</i>")
        buttons.append([button(f"{index}. {clip(row.code, 20)} · {clip(row.period_key, 12)}",
                               TaskItem(row.item_id, found.page))])
    paging = []
    if found.page > 0:
        paging.append(button("‹", TasksPage(found.page - 1)))
    if found.page + 1 < found.pages:
        paging.append(button("›", TasksPage(found.page + 1)))
    if paging:
        buttons.append(paging)
    return Screen(clip_html("\n\n".join(lines)), InlineKeyboardMarkup(buttons))


def task_card_screen(task: TaskCard, today: date) -> Screen:
    """One item with its current report, a button to report (its agency's focal points)."""
    row = task.row
    lines = [_("{item} — {agency}").format(item=item_heading(row), agency=esc(clip(task.agency, 200))),
             f"<i>{esc(clip(row.task, 800))}</i>", *expected_output_line(row),
             when(row.due_on, today),
             *filter(None, [extended_text(row.due_on, row.original_due_on)]),
             _("State: {state}").format(state=state_label(row.state, row.percent))]
    if task.card is not None:
        lines += ["", *card_lines(task.card, today)[3:]]
    else:
        lines.append(_("No report yet."))
    buttons = []
    if task.can_report:
        label = _("📝 Report") if task.card is None else _("📝 Update the report")
        buttons.append([button(label, ReportItem(row.item_id))])
        if row.is_open:
            buttons.append([ask_button(row.item_id)])
    if task.card is not None:  # every version, who verified or returned it, why
        buttons.append([history_button(row.item_id)])
    buttons.append([button(_("‹ Back to the list"), TasksPage(task.page))])
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(buttons))


# --------------------------------------------------------------------------- /review


def card_lines(card: Card, today: date) -> list[str]:
    lines = report_card(card.report, card.row, card.agency, card.author, card.evidence, today, card.value)
    return lines + contribution_lines(card.contributions)


def review_screen(review: ReviewScreen, today: date) -> Screen:
    """A verifier: the oldest waiting card with its files and buttons. Someone who looks only:
    a page of the waiting cards in their scope (‹ › in place)."""
    if not review.total:
        return Screen(_("✅ Nothing is waiting for verification."), new_message=True)
    if review.verifier:
        card = review.cards[0]
        head = ngettext("🔎 <b>To verify</b> ({n} waiting, oldest first)",
                        "🔎 <b>To verify</b> ({n} waiting, oldest first)",
                        review.total).format(n=review.total)
        files = [Attachment(e.kind, filename=e.file_name, file_id=e.file_id) for e in card.evidence]
        # The coordinating agencies' documents after the lead's own.
        files += [Attachment("photo" if c.mime_type == "image/jpeg" and not c.file_name else "document",
                             filename=c.file_name, file_id=c.file_id)
                  for c in card.contributions if c.file_id]
        text = clip_html(head + "\n\n" + "\n".join(card_lines(card, today)))
        return Screen(text, review_buttons(card.report), files=files, new_message=True)
    head = ngettext("{n} report of your agency is waiting for verification (you can see it, "
                    "the Department of Home Affairs verifies it):",
                    "{n} reports of your agency are waiting for verification (you can see "
                    "them, the Department of Home Affairs verifies them):",
                    review.total).format(n=review.total)
    # Each card is finished HTML, clipped on its own (never sliced) so a page of them fits.
    budget = (MessageLimit.MAX_TEXT_LENGTH - 400) // max(len(review.cards), 1)
    cards = [clip_html("\n".join(card_lines(c, today)), budget) for c in review.cards]
    text = clip_html("\n\n".join([head, *cards]))
    rows = []
    if review.pages > 1:
        nav = []
        if review.page > 0:
            nav.append(button("‹", ReviewPage(review.page - 1)))
        nav.append(button(f"{review.page + 1}/{review.pages}", ReviewPage(review.page)))
        if review.page + 1 < review.pages:
            nav.append(button("›", ReviewPage(review.page + 1)))
        rows.append(nav)
    return Screen(text, InlineKeyboardMarkup(rows) if rows else None, new_message=not rows)


def _after(text: str, left: int) -> Screen:
    if not left:
        return Screen(clip_html(text + "\n" + _("Nothing else is waiting.")))
    more = ngettext("{n} more is waiting.", "{n} more are waiting.", left).format(n=left)
    return Screen(clip_html(text + "\n" + more), InlineKeyboardMarkup([[button(_("Next ▶"), ReviewNext())]]))


def decided_screen(decided: Decided) -> Screen:
    if decided.action == "asking":
        return Screen(_("↩️ Why is it returned? Type the reason for the agency (up to {limit} "
                        "characters), or send /cancel.").format(limit=format_number(svc.MAX_NOTE)))
    assert decided.row is not None
    return _after(_("✅ Verified: {item}, version {n}.").format(
        item=item_heading(decided.row), n=decided.version), decided.left)


def returned_screen(returned: Returned) -> Screen:
    screen = _after(_("↩️ Returned: {item}. Reason: <i>{reason}</i>").format(
        item=item_heading(returned.row), reason=esc(clip(returned.reason, 1500))), returned.left)
    if returned.told:
        screen.text += "\n" + ngettext("A notice is on its way to {n} focal point of the agency.",
                                       "A notice is on its way to {n} focal points of the agency.",
                                       returned.told).format(n=returned.told)
    else:
        screen.text += "\n" + _("Nobody is told: the agency has no focal point who can be reached.")
    screen.queued = returned.told > 0
    return screen


def verifiers_only() -> Screen:
    text = _("Only coordinators verify reports.")
    return Screen(text, toast=text)
