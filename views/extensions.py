"""What extension requests look like: the focal point's questions (the new date, the reason, the
check before sending), the coordinator's notice with Approve / Shorten / Refuse and their typed
questions, the decision as the agency hears it, the refusals, and the lines the history and the
drill-down show ("extended to …, first due …"). Every user string is clipped, then escaped."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.extensions import MAX_REASON, ExtensionRefused
from models import extensions as ext
from models.extensions import Asking, ExtensionRow, ItemInfo, Typed
from models.tables import ExtensionState
from views.callbacks import CallbackData, ExtensionAsk, ExtensionCancel, ExtensionDecide, ExtensionSend
from views.extension_lines import decision_line, extended_text
from views.history import history_button
from views.html import clip, clip_html, esc
from views.i18n import format_date, format_number, use_locale
from views.i18n import gettext as _
from views.labels import extension_name
from views.screen import Screen

EXAMPLE = "30/6/2027"


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def ask_button(item_id: int) -> InlineKeyboardButton:
    """The "ask for an extension" button of a task card or an overdue reminder."""
    return _button(_("⏳ Ask for an extension"), ExtensionAsk(item_id))


def _heading(item: ItemInfo) -> list[str]:
    lines = [_("⏳ <b>Extension</b> of <b>{code}</b> · period {period} — {agency}").format(
        code=esc(clip(item.code, 20)), period=esc(clip(item.period_key, 12)),
        agency=esc(clip(item.agency, 200))),
        f"<i>{esc(clip(item.task, 300))}</i>",
        _("Due date in force: {date}").format(date=format_date(item.due_on))]
    extended = extended_text(item.due_on, item.original_due_on)
    if extended:
        lines.append(extended)
    return lines


def _cancel() -> list[InlineKeyboardButton]:
    return [_button(_("✖️ Cancel"), ExtensionCancel())]


def _request_lines(row: ExtensionRow) -> list[str]:
    return [_("Asked: from {before} to {requested}").format(before=format_date(row.due_on_before),
                                                          requested=format_date(row.requested_due_on)),
            _("Reason: {reason}").format(reason=esc(clip(row.reason, MAX_REASON))),
            _("Asked by {name}.").format(name=esc(clip(row.requested_by, 100)))]


def asking_screen(asking: Asking) -> Screen:
    """The draft's open question, with its buttons."""
    lines = _heading(asking.item)
    rows = [_cancel()]
    if asking.step == ext.STEP_DATE:
        lines += ["", _("Type the new due date you ask for (e.g. {example}).").format(example=EXAMPLE)]
    elif asking.step == ext.STEP_REASON and asking.requested_due_on is not None:
        lines += [_("New date asked: {date}").format(date=format_date(asking.requested_due_on)), "",
                  _("Type the reason (up to {limit} characters).").format(limit=format_number(MAX_REASON))]
    elif asking.step == ext.STEP_CONFIRM and asking.requested_due_on is not None:
        lines += [_("New date asked: {date}").format(date=format_date(asking.requested_due_on)),
                  _("Reason: {reason}").format(reason=esc(clip(asking.reason, MAX_REASON))), "",
                  _("Send the request to the coordinators?")]
        rows = [[_button(_("📤 Send the request"), ExtensionSend(asking.draft_id))], _cancel()]
    elif asking.step == ext.STEP_SHORTEN and asking.request is not None:
        request = asking.request
        lines += [*_request_lines(request), "",
                  _("Type the date you grant instead: after {before} and before {requested} "
                    "(e.g. {example}).").format(before=format_date(asking.item.due_on),
                                                requested=format_date(request.requested_due_on),
                                                example=EXAMPLE)]
    elif asking.step == ext.STEP_REFUSE and asking.request is not None:
        lines += [*_request_lines(asking.request), "",
                  _("Type the reason for refusing (up to {limit} characters); the agency will read it.")
                  .format(limit=format_number(MAX_REASON))]
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(rows))


def refusal_text(error: ExtensionRefused) -> str:
    n = error.params.get("n", 0)
    texts = {
        "past": _("That date has already passed. Type a date from today on."),
        "not_later": _("The new date must be later than the due date in force."),
        "too_far": _("That is too far ahead: at most {n} days from today.").format(n=n),
        "not_date": _("That is not a date. Type it as day/month/year, e.g. {example}.")
        .format(example=EXAMPLE),
        "pending": _("A request for this task is already waiting for a decision."),
        "limit": _("This task already had {n} extension requests; no more can be made.").format(n=n),
        "too_late": _("It is too late to ask: requests may come at most {n} days after the due date.")
        .format(n=n),
        "closed": _("This task needs no more work, so its date cannot be moved."),
        "not_shorter": _("The date granted must lie after the date in force and before the date asked."),
        "reason": _("Type a reason of 1 to {n} characters.").format(n=format_number(MAX_REASON)),
        "stale": _("This has changed since the button was shown. Nothing was done."),
    }
    if error.reason == "decided":
        row = error.params.get("row")
        if isinstance(row, ExtensionRow) and row.decided_by:
            return _("This request was already decided by {name}: {state}.").format(
                name=esc(clip(row.decided_by, 100)), state=extension_name(row.state))
        return _("This request was already decided.")
    return texts.get(error.reason, texts["stale"])


def retry_screen(error: ExtensionRefused, asking: Asking) -> Screen:
    """Typed text that did not fit: why, then the same question."""
    again = asking_screen(asking)
    return Screen(clip_html(f"⚠️ {refusal_text(error)}\n\n{again.text}"), again.markup)


def refused_screen(error: ExtensionRefused) -> Screen:
    """A refusal: a dialog on the button (the card, reminder or notice stays as it was), or a
    message answering typed text."""
    text = refusal_text(error)
    return Screen(text, toast=text, alert=True)


def cancelled_screen() -> Screen:
    return Screen(_("The extension request was cancelled. Nothing was sent."),
                  toast=_("Cancelled."), edit=True)


def sent_screen(row: ExtensionRow) -> Screen:
    text = _("📨 Your request to move <b>{code}</b> to {date} was sent to the coordinators. You will "
             "be told of their decision.").format(code=esc(clip(row.task_code, 20)),
                                                  date=format_date(row.requested_due_on))
    return Screen(text, toast=_("Sent."), edit=True, queued=True)


def decided_screen(row: ExtensionRow) -> Screen:
    """The coordinator, after deciding: what they decided; the agency is told."""
    text = "\n".join([_("<b>{code}</b> — {agency}").format(code=esc(clip(row.task_code, 20)),
                                                           agency=esc(clip(row.agency, 200))),
                      decision_line(row), _("The agency's focal points are told.")])
    return Screen(clip_html(text), toast=_("Decided."), edit=True, queued=True)


# --------------------------------------------------------------------------- notices


def request_notice(row: ExtensionRow, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """To the coordinators in scope: a request with Approve / Shorten / Refuse."""
    with use_locale(language):
        lines = [_("⏳ <b>Extension request</b>: {agency} asks to move <b>{code}</b> (period {period}).")
                 .format(agency=esc(clip(row.agency, 200)), code=esc(clip(row.task_code, 20)),
                         period=esc(clip(row.period_key, 12))), *_request_lines(row)]
        if row.original_due_on != row.due_on_before:
            lines.append(_("First due {date}.").format(date=format_date(row.original_due_on)))
        buttons = [[_button(_("✅ Approve"), ExtensionDecide(row.request_id, ext.APPROVE)),
                    _button(_("✂️ Shorten"), ExtensionDecide(row.request_id, ext.SHORTEN)),
                    _button(_("❌ Refuse"), ExtensionDecide(row.request_id, ext.REFUSE))],
                   [history_button(row.item_id)]]
        return clip_html("\n".join(lines)), InlineKeyboardMarkup(buttons)


def decided_notice(row: ExtensionRow, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """To the agency's focal points: what was decided on their request, by whom."""
    with use_locale(language):
        lines = [_("⏳ Your extension request on <b>{code}</b> (period {period}) was decided by {name}.")
                 .format(code=esc(clip(row.task_code, 20)), period=esc(clip(row.period_key, 12)),
                         name=esc(clip(row.decided_by or "?", 100))), decision_line(row)]
        if row.state == ExtensionState.REFUSED.value:
            lines.append(_("The due date stays {date}.").format(date=format_date(row.due_on_before)))
        else:
            lines.append(_("Reminders now follow the new date; a report done by it counts as on time."))
        return clip_html("\n".join(lines)), InlineKeyboardMarkup([[history_button(row.item_id)]])


def typed_screen(typed: Typed) -> Screen:
    """What typed text for an extension draft came to: the next question, the same one again
    with why, the decision (a coordinator's), or the refusal."""
    if typed.outcome == "asking" and typed.asking is not None:
        return asking_screen(typed.asking)
    if typed.outcome == "retry" and typed.asking is not None and typed.error is not None:
        return retry_screen(typed.error, typed.asking)
    if typed.outcome == "decided" and typed.decided is not None:
        screen = decided_screen(typed.decided)
        screen.toast = None
        return screen
    return refused_screen(typed.error or ExtensionRefused("stale"))
