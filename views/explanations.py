"""What explanation requests show: the drill-down's ❗ button and line, the requester's and the
answerer's screens, and the notices the dispatcher sends (the request with its "answer" button,
reminders, the escalation to the requester, the answer). Views take the plain data of
``models.explanations`` and return a Screen (notices: text and buttons)."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from models.explanations import (
    AlreadyAsked,
    AnswerDraft,
    Answered,
    AskDraft,
    Asked,
    ExplanationNote,
    NoticeSubject,
    Subject,
)
from views.callbacks import CallbackData, ExplainAsk, ExplainCancel, ExplainReply, ExplainSend, ExplainSubmit
from views.history import history_button
from views.html import clip, clip_html, esc
from views.i18n import format_date, ngettext, use_locale
from views.i18n import gettext as _
from views.screen import Screen


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def ask_button(item_id: int, code: str) -> InlineKeyboardButton:
    """The drill-down's button on an overdue item without an open request."""
    return _button(_("❗ Ask to explain {code}").format(code=clip(code, 20)), ExplainAsk(item_id))


def _day(d: date) -> str:
    return format_date(d, "short")


def note_line(note: ExplanationNote) -> str:
    """One line under an item of the drill-down: asked when, answered or not (and what)."""
    asked = _day(note.asked_on)
    if note.state == "answered":
        text = _("❗ Explanation requested {date} — answered: {answer}").format(
            date=asked, answer=esc(clip(note.answer_text, 200)))
        if note.file_name:
            text += " 📎 " + esc(clip(note.file_name, 60))
        return text
    if note.state == "withdrawn":
        return _("❗ Explanation requested {date} — withdrawn").format(date=asked)
    return _("❗ Explanation requested {date} — not answered yet (due {due})").format(
        date=asked, due=_day(note.due_on))


def _about(subject: Subject) -> str:
    return _("{agency} · <b>{code}</b> {task} (due {due})").format(
        agency=esc(clip(subject.agency_name, 200)), code=esc(clip(subject.task_code, 20)),
        task=esc(clip(subject.task_text, 200)), due=_day(subject.due_on))


# --- the requester ----------------------------------------------------------------------------

def ask_screen(draft: AskDraft) -> Screen:
    """The request being written: what it is about, the question typed so far, send / cancel."""
    lines = [_("❗ <b>Request an explanation</b>"), _about(draft.subject), ""]
    if draft.question:
        lines.append(_("Question: {text}").format(text=esc(clip(draft.question, 1000))))
        lines.append(_("Type again to change it, or send the request."))
    else:
        lines.append(_("If you like, type the question or the reason for the request, then press "
                       "Send. It can also be sent without one."))
    markup = InlineKeyboardMarkup([[_button(_("📨 Send request"), ExplainSend(draft.draft_id)),
                                    _button(_("✖ Cancel"), ExplainCancel(draft.draft_id))]])
    return Screen(clip_html("\n".join(lines)), markup, new_message=False)


def already_screen(already: AlreadyAsked) -> Screen:
    text = _("{agency} was already asked on {date} to explain {code}; the answer is due {due}.").format(
        agency=esc(clip(already.subject.agency_name, 200)), date=_day(already.asked_on),
        code=esc(clip(already.subject.task_code, 20)), due=_day(already.due_on))
    return Screen(clip_html(text), toast=clip(text, 200), edit=True,
                  markup=InlineKeyboardMarkup([[history_button(already.subject.item_id)]]))


def asked_screen(asked: Asked) -> Screen:
    agency = esc(clip(asked.subject.agency_name, 200))
    if not asked.new:
        text = _("{agency} had already been asked to explain {code}; the answer is due {due}.").format(
            agency=agency, code=esc(clip(asked.subject.task_code, 20)), due=_day(asked.due_on))
    elif asked.told:
        text = ngettext("📨 Request sent to {agency} ({n} person). The answer is due {due}.",
                        "📨 Request sent to {agency} ({n} people). The answer is due {due}.",
                        asked.told).format(agency=agency, n=asked.told, due=_day(asked.due_on))
    else:
        text = _("📨 Request recorded. Nobody of {agency} is registered to receive it yet; the "
                 "answer is due {due}.").format(agency=agency, due=_day(asked.due_on))
    return Screen(clip_html(text), InlineKeyboardMarkup([[history_button(asked.subject.item_id)]]),
                  queued=asked.told > 0)


# --- the agency -------------------------------------------------------------------------------

def answer_screen(draft: AnswerDraft) -> Screen:
    """The answer being written: the request, what is typed and attached so far, send / cancel."""
    lines = [_("✍️ <b>Answer the request for an explanation</b>"), _about(draft.subject),
             _("Asked by {name}; answer due {due}.").format(name=esc(clip(draft.requester, 100)),
                                                           due=_day(draft.due_on))]
    if draft.question:
        lines.append(_("Question: {text}").format(text=esc(clip(draft.question, 1000))))
    lines.append("")
    if draft.text:
        lines.append(_("Your answer: {text}").format(text=esc(clip(draft.text, 1500))))
    if draft.has_file:
        lines.append(_("Document: {name}").format(name=esc(clip(draft.file_name or "-", 100))))
    lines.append(_("Type the explanation; you may also send a document with it.") if not draft.text else
                 _("Type again to change the text, send a document, or send the answer."))
    buttons = [_button(_("📨 Send answer"), ExplainSubmit(draft.draft_id))] if draft.text else []
    buttons.append(_button(_("✖ Cancel"), ExplainCancel(draft.draft_id)))
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup([buttons]))


def answered_screen(done: Answered) -> Screen:
    text = _("✅ Your explanation of {code} was sent to {name}.").format(
        code=esc(clip(done.subject.task_code, 20)), name=esc(clip(done.requester, 100)))
    return Screen(clip_html(text), InlineKeyboardMarkup([[history_button(done.subject.item_id)]]),
                  queued=True)


def cancelled_screen() -> Screen:
    text = _("Cancelled. Nothing was sent.")
    return Screen(text, toast=text, edit=True)


def refused_screen(code: str) -> Screen:
    texts = {
        "not_overdue": _("This item is not overdue (or no longer open): no explanation can be asked."),
        "closed": _("This request was already answered."),
        "empty": _("Type the explanation first, then send it."),
        "too_long": _("That is too long: at most 1000 characters."),
        "file_type": _("That file cannot be attached. Send a PDF, Word, Excel or image document."),
    }
    text = texts.get(code, _("This has changed since the button was shown. Nothing was done."))
    return Screen(text, toast=text)


# --- notices (sent by the dispatcher, in the recipient's language) ---------------------------

def request_notice(found: NoticeSubject, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """To the agency's focal points and leaders: the request, with the "answer" button."""
    with use_locale(language):
        lines = [_("❗ <b>Request for an explanation</b>: {name} asks {agency} to explain the delay "
                   "of <b>{code}</b> {task} (due {due}).").format(
            name=esc(clip(found.requester, 100)), agency=esc(clip(found.subject.agency_name, 200)),
            code=esc(clip(found.subject.task_code, 20)), task=esc(clip(found.subject.task_text, 200)),
            due=_day(found.subject.due_on))]
        if found.request.question:
            lines.append(_("Question: {text}").format(text=esc(clip(found.request.question, 1000))))
        lines.append(_("Please answer by {due}.").format(due=_day(found.request.due_on)))
        return clip_html("\n".join(lines)), _reply_markup(found)


def _reply_markup(found: NoticeSubject) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_("✍️ Answer"), ExplainReply(found.request.id or 0)),
                                  history_button(found.subject.item_id)]])


def reminder_notice(found: NoticeSubject, language: str, today: date) -> tuple[str, InlineKeyboardMarkup]:
    """To the agency: the answer is due soon, today, or late."""
    with use_locale(language):
        due, code = found.request.due_on, esc(clip(found.subject.task_code, 20))
        if today > due:
            text = _("🔴 <b>Explanation overdue</b>: the answer about {code} asked by {name} was due "
                     "{due}. Please answer now.")
        elif today == due:
            text = _("⏰ The explanation about {code} asked by {name} is due <b>today</b> ({due}).")
        else:
            text = _("⏰ Reminder: the explanation about {code} asked by {name} is due {due}.")
        return clip_html(text.format(code=code, name=esc(clip(found.requester, 100)), due=_day(due))), \
            _reply_markup(found)


def escalation_notice(found: NoticeSubject, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """To the requester: the agency has not answered by the due day."""
    with use_locale(language):
        text = _("🔴 {agency} has not answered your request to explain {code}; the answer was due "
                 "{due}.").format(agency=esc(clip(found.subject.agency_name, 200)),
                                  code=esc(clip(found.subject.task_code, 20)), due=_day(found.request.due_on))
        return clip_html(text), InlineKeyboardMarkup([[history_button(found.subject.item_id)]])


def answered_notice(found: NoticeSubject, language: str, *,
                    caption: bool) -> tuple[str, InlineKeyboardMarkup]:
    """To the requester: the answer (with the document attached when there is one: then the text
    is its caption, clipped to a caption's length)."""
    with use_locale(language):
        request = found.request
        lines = [_("✅ {agency} answered your request to explain <b>{code}</b> ({name}):").format(
            agency=esc(clip(found.subject.agency_name, 200)), code=esc(clip(found.subject.task_code, 20)),
            name=esc(clip(found.answerer, 100))), esc(clip(request.answer_text, 1500))]
        if request.answer_file_name:
            lines.append(_("Document: {name}").format(name=esc(clip(request.answer_file_name, 100))))
        limit = MessageLimit.CAPTION_LENGTH if caption else MessageLimit.MAX_TEXT_LENGTH
        markup = InlineKeyboardMarkup([[history_button(found.subject.item_id)]])
        return clip_html("\n".join(lines), limit), markup
