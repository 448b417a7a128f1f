"""What broadcasts look like: composing (/broadcast's questions and refusals), the message
recipients get, the sender's preview, live progress and final report. Numbers are formatted with
Babel in the reader's language; every button through the codec (views.callbacks)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.broadcasts import MAX_CAPTION, MAX_TEXT, TYPED, Copy, Preview, Progress, Step
from models.tables import Broadcast
from views.callbacks import (
    BroadcastAudience,
    BroadcastCancel,
    BroadcastChange,
    BroadcastReceived,
    BroadcastRetry,
    BroadcastSend,
    BroadcastToggleAck,
    BroadcastWho,
    CallbackData,
)
from views.html import clip, clip_html, esc
from views.i18n import N_, format_number, ngettext, use_locale
from views.i18n import gettext as _
from views.screen import Attachment, Screen

# Labels of audiences (kind, detail) for the preview.
AUDIENCE_LABELS = {
    ("groups", ""): N_("all registered groups"),
    ("groups", "focal_points"): N_("groups of focal points"),
    ("groups", "leaders"): N_("groups of leaders"),
    ("groups", "agency"): N_("groups of single agencies"),
    ("groups", "agency_class"): N_("groups of agency classes"),
    ("role", "focal_point"): N_("all focal points"),
    ("role", "leader"): N_("all leaders"),
    ("role", "coordinator"): N_("all coordinators"),
    ("everyone", ""): N_("everyone (all members and registered groups)"),
}

REASON_LIMIT = 5


@dataclass(frozen=True)
class BroadcastMessage:
    chat_id: int
    row_id: int
    member_id: int | None
    text: str
    markup: InlineKeyboardMarkup | None
    document: str | None


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def ack_markup(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button("✅ " + _("Received"), BroadcastReceived(broadcast_id))]])


def broadcast_messages(copies: list[Copy]) -> list[BroadcastMessage]:
    """One message per copy; the "received" button speaks the recipient's language."""
    out = []
    for copy in copies:
        with use_locale(copy.language):
            markup = ack_markup(copy.broadcast_id) if copy.ack else None
        out.append(BroadcastMessage(copy.chat_id, copy.row_id, copy.member_id, copy.text, markup,
                                    copy.document_file_id))
    return out


# --- composing ----------------------------------------------------------------------------

def senders_only() -> Screen:
    text = _("Only administrators and coordinators can send announcements.")
    return Screen(text, toast=text, alert=True)


def sender_only() -> Screen:
    text = _("Only the sender can do this.")
    return Screen(text, toast=text, alert=True)


def cancel_markup(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_("Cancel"), BroadcastCancel(broadcast_id))]])


def ask_text(broadcast_id: int) -> Screen:
    return Screen(_(
        "📢 New announcement. Send its text (up to {text} characters), or one document with a "
        "caption (up to {caption} characters, file up to 50 MB).").format(
            text=format_number(MAX_TEXT), caption=format_number(MAX_CAPTION)),
        cancel_markup(broadcast_id))


def problem_text(problem: str) -> str:
    if problem == "empty":
        return _("The text is empty. Send the announcement's text.")
    if problem == "too_long":
        return _("The text is too long: at most {n} characters (formatting included). "
                 "Shorten it, or send it as a document.").format(n=format_number(MAX_TEXT))
    if problem == "caption_too_long":
        return _("A document's caption can have at most {n} characters. Shorten it, or send the "
                 "text alone.").format(n=format_number(MAX_CAPTION))
    return _("The document is over 50 MB: Telegram does not let bots send it. Send a smaller "
             "file, or a link in the text.")


def audience_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    def button(label: str, code: str) -> InlineKeyboardButton:
        return _button(label, BroadcastAudience(broadcast_id, code))

    return InlineKeyboardMarkup([
        [button(_("All groups"), "g"), button(_("Focal points' groups"), "gf"),
         button(_("Leaders' groups"), "gl")],
        [button(_("Focal points"), "rf"), button(_("Leaders"), "rl"), button(_("Coordinators"), "rc")],
        [button(_("One agency or class…"), TYPED)],
        [button(_("Everyone"), "e")],
        [_button(_("Cancel"), BroadcastCancel(broadcast_id))],
    ])


def ask_audience(broadcast_id: int) -> Screen:
    return Screen(_("Who should receive it?"), audience_keyboard(broadcast_id))


def closed() -> Screen:
    return Screen(_("This draft is closed. Send /broadcast to start again."))


def step_screens(step: Step) -> list[Screen]:
    """What a draft's step shows: one screen, or for a preview the message as recipients get it
    followed by the counts and the Send button."""
    if step.outcome == "problem":
        return [Screen(problem_text(step.problem), cancel_markup(step.broadcast_id))]
    if step.outcome == "audience":
        return [ask_audience(step.broadcast_id)]
    if step.outcome == "agency":
        return [Screen(_("Send the code or the name of the agency or agency class."))]
    if step.outcome == "unknown":
        return [Screen(_("No agency or agency class is called “{name}”. Send its code or full name.").format(
            name=esc(clip(step.name, 200))), cancel_markup(step.broadcast_id))]
    if step.outcome == "cancelled":
        return [Screen(_("Cancelled. Nothing was sent."))]
    if step.outcome == "preview" and step.preview is not None:
        return preview_screens(step.preview)
    return [closed()]


def audience_chosen(step: Step) -> list[Screen]:
    """After an audience button: the question loses its buttons, the preview follows."""
    if step.outcome == "preview" and step.preview is not None and not step.preview.empty:
        return [Screen(_("Who should receive it?")), *preview_screens(step.preview)]
    return step_screens(step)


def ack_toggled(step: Step) -> list[Screen]:
    """After the "received" switch: the counts message again, in place."""
    if step.outcome == "preview" and step.preview is not None and not step.preview.empty:
        return [control_screen(step.preview)]
    return step_screens(step)


def preview_screens(preview: Preview) -> list[Screen]:
    if preview.empty:
        return [Screen(_("Nobody would receive it: {audience} has no reachable recipient. Choose another "
                         "audience.").format(audience=audience_name(preview.kind, preview.detail)),
                       audience_keyboard(preview.broadcast_id))]
    if preview.document_file_id:
        message = Screen("", files=[Attachment("document", file_id=preview.document_file_id,
                                               caption=preview.text or None)])
    else:
        message = Screen(preview.text)
    return [message, control_screen(preview)]


def control_screen(preview: Preview) -> Screen:
    """The counts under the preview, with Send, the "received" switch, change and cancel."""
    return Screen(preview_text(preview), preview_keyboard(preview.broadcast_id, preview.ack))


def preview_keyboard(broadcast_id: int, ack: bool) -> InlineKeyboardMarkup:
    toggle = _("“Received” button: turn off") if ack else _("“Received” button: turn on")
    return InlineKeyboardMarkup([
        [_button("📤 " + _("Send"), BroadcastSend(broadcast_id))],
        [_button(toggle, BroadcastToggleAck(broadcast_id))],
        [_button(_("Change recipients"), BroadcastChange(broadcast_id)),
         _button(_("Cancel"), BroadcastCancel(broadcast_id))],
    ])


def sending(total: int) -> Screen:
    return Screen("📤 " + _("Sending the announcement…") + "\n" + _("Sent {done} / {total}").format(
        done=format_number(0), total=format_number(total)))


def confirmed_screen(outcome: str, broadcast_id: int, total: int) -> Screen:
    """After Send: progress (queued), or why nothing was queued."""
    if outcome == "already":
        text = _("Already sent: nothing was sent twice.")
        return Screen(text, toast=text, alert=True)
    if outcome == "unknown":
        text = _("This draft is closed. Send /broadcast to start again.")
        return Screen(text, toast=text, alert=True)
    if outcome == "empty":
        return Screen(_("Nobody would receive it any more. Choose another audience."),
                      audience_keyboard(broadcast_id))
    return sending(total)


def received_toast(outcome: str) -> Screen:
    text = {"new": _("Thank you: your confirmation is recorded."),
            "again": _("You had already confirmed. Thank you.")}.get(
        outcome, _("This announcement does not collect confirmations."))
    return Screen(text, toast=text)


def requeued_toast(count: int) -> Screen:
    text = _("{n} messages queued again.").format(n=format_number(count))
    return Screen(text, toast=text)


def audience_name(kind: str, detail: str) -> str:
    if kind == "agency":
        return _("agency {name} (its members and its group)").format(name=esc(clip(detail, 200)))
    if kind == "class":
        return _("agency class {name} (members of its agencies and their groups)").format(
            name=esc(clip(detail, 200)))
    label = AUDIENCE_LABELS.get((kind, detail))
    return _(label) if label else esc(clip(detail, 200))


def preview_text(preview: Preview) -> str:
    total, groups, people = preview.total, preview.groups, preview.people
    lines = [
        "📢 <b>" + _("Announcement preview") + "</b>",
        _("Recipients: {audience}").format(audience=audience_name(preview.kind, preview.detail)),
        ngettext("{n} recipient", "{n} recipients", total).format(n=format_number(total))
        + " (" + ngettext("{n} group", "{n} groups", groups).format(n=format_number(groups))
        + ", " + ngettext("{n} person", "{n} people", people).format(n=format_number(people)) + ")",
        _("“Received” button: on") if preview.ack else _("“Received” button: off"),
        "",
        _("The message above is exactly what they will get. Send it?"),
    ]
    return "\n".join(lines)


def progress_text(p: Progress) -> str:
    return ("📤 " + _("Sending the announcement…") + "\n"
            + _("Sent {done} / {total}").format(done=format_number(p.done), total=format_number(p.total)))


def final_text(p: Progress, acks: list[tuple[str, list[str]]] | None = None) -> str:
    head = ("✅ " + _("Announcement finished.") if not p.failed
            else "⚠️ " + _("Announcement finished with failures."))
    lines = [head,
             _("Sent: {n}").format(n=format_number(p.sent)) + " / " + format_number(p.total),
             _("Failed: {n}").format(n=format_number(p.failed)),
             _("Blocked: {n}").format(n=format_number(p.blocked))]
    for reason, count in p.reasons[:REASON_LIMIT]:
        lines.append(f"  • {esc(clip(reason, 120))} ({format_number(count)})")
    lines.append(_("Acknowledged: {n}").format(n=format_number(p.acks)))
    for agency, names in acks or []:
        shown = ", ".join(esc(clip(n, 60)) for n in names[:5]) + (" …" if len(names) > 5 else "")
        name = esc(clip(agency, 100)) or _("No agency")
        lines.append(f"  • {name}: {format_number(len(names))} ({shown})")
    return clip_html("\n".join(lines))


def final_markup(broadcast: Broadcast, p: Progress) -> InlineKeyboardMarkup | None:
    buttons = []
    if broadcast.id is None:
        return None
    if p.failed:
        buttons.append([_button(_("Retry the failed ({n})").format(n=format_number(p.failed)),
                                BroadcastRetry(broadcast.id))])
    if broadcast.ack_enabled:
        buttons.append([_button(_("Who received it"), BroadcastWho(broadcast.id))])
    return InlineKeyboardMarkup(buttons) if buttons else None
