"""What broadcasts look like: the message recipients get, the sender's preview, live progress
and final report. Numbers are formatted with Babel in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.broadcasts import Audience, Progress
from models.tables import Broadcast, Chat, Delivery, Member
from views.html import esc
from views.i18n import N_, format_number, ngettext, use_locale
from views.i18n import gettext as _

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


def ack_markup(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("✅ " + _("Received"),
                                                       callback_data=f"bc:ack:{broadcast_id}")]])


def broadcast_messages(session: Session, rows: list[Delivery],
                       default_language: str) -> list[BroadcastMessage]:
    """One message per ledger row; the "received" button speaks the recipient's language."""
    broadcasts = {b.id: b for b in session.exec(
        select(Broadcast).where(col(Broadcast.id).in_({r.ref_id for r in rows})))}
    members = {m.id: m for m in session.exec(
        select(Member).where(col(Member.id).in_({r.member_id for r in rows if r.member_id})))}
    chats = {c.telegram_chat_id: c for c in session.exec(
        select(Chat).where(col(Chat.telegram_chat_id).in_({r.chat_id for r in rows if r.chat_id < 0})))}
    out = []
    for row in rows:
        broadcast = broadcasts.get(row.ref_id)
        if broadcast is None or row.id is None:
            continue
        member, chat = members.get(row.member_id), chats.get(row.chat_id)
        language = (member.language if member else chat.language if chat else None) or default_language
        with use_locale(language):
            markup = ack_markup(row.ref_id) if broadcast.ack_enabled and row.ref_id else None
        out.append(BroadcastMessage(row.chat_id, row.id, row.member_id, broadcast.text, markup,
                                    broadcast.document_file_id))
    return out


def audience_name(kind: str, detail: str) -> str:
    if kind == "agency":
        return _("agency {name} (its members and its group)").format(name=esc(detail))
    if kind == "class":
        return _("agency class {name} (members of its agencies and their groups)").format(
            name=esc(detail))
    label = AUDIENCE_LABELS.get((kind, detail))
    return _(label) if label else esc(detail)


def preview_text(*, kind: str, detail: str, audience: Audience, ack: bool) -> str:
    total = len(audience.recipients)
    lines = [
        "📢 <b>" + _("Announcement preview") + "</b>",
        _("Recipients: {audience}").format(audience=audience_name(kind, detail)),
        ngettext("{n} recipient", "{n} recipients", total).format(n=format_number(total))
        + " (" + ngettext("{n} group", "{n} groups", audience.groups).format(n=format_number(audience.groups))
        + ", " + ngettext("{n} person", "{n} people", audience.people).format(
            n=format_number(audience.people)) + ")",
        _("“Received” button: on") if ack else _("“Received” button: off"),
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
        lines.append(f"  • {esc(reason[:120])} ({format_number(count)})")
    lines.append(_("Acknowledged: {n}").format(n=format_number(p.acks)))
    for agency, names in acks or []:
        shown = ", ".join(esc(n) for n in names[:5]) + (" …" if len(names) > 5 else "")
        lines.append(f"  • {esc(agency) or _('No agency')}: {format_number(len(names))} ({shown})")
    return "\n".join(lines)


def final_markup(broadcast: Broadcast, p: Progress) -> InlineKeyboardMarkup | None:
    buttons = []
    if p.failed:
        buttons.append([InlineKeyboardButton(
            _("Retry the failed ({n})").format(n=format_number(p.failed)),
            callback_data=f"bc:rt:{broadcast.id}")])
    if broadcast.ack_enabled:
        buttons.append([InlineKeyboardButton(_("Who received it"), callback_data=f"bc:who:{broadcast.id}")])
    return InlineKeyboardMarkup(buttons) if buttons else None
