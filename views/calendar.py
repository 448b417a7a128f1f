"""/calendar: the member's private calendar link (shown once, when made), and its buttons."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from views.callbacks import CalendarNew, CalendarRevoke
from views.html import esc, esc_attr
from views.i18n import format_datetime
from views.i18n import gettext as _
from views.screen import Screen


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}/ical/{token}.ics"


def _buttons(revoke: bool) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(_("🔄 New link"), callback_data=CalendarNew().pack())]]
    if revoke:
        rows.append([InlineKeyboardButton(_("🚫 Revoke the link"), callback_data=CalendarRevoke().pack())])
    return InlineKeyboardMarkup(rows)


def new_link(url: str) -> Screen:
    text = "\n".join([
        _("📅 <b>Your deadlines in your calendar</b>"),
        _("Subscribe to this private link in your calendar app (Google Calendar: Other calendars → "
          "From URL; iPhone: Settings → Calendar → Accounts → Add subscribed calendar):"),
        f'<a href="{esc_attr(url)}">{esc(url)}</a>',
        "",
        _("It shows your agency's due dates (your scope's, for leaders and coordinators) with "
          "alarms on the reminder days. Keep it to yourself: anyone with the link sees them. "
          "It is shown only now; a new link stops this one.")])
    return Screen(text, _buttons(revoke=True), toast=_("New link made."))


def existing_link(created_at: datetime) -> Screen:
    text = "\n".join([
        _("📅 <b>Your deadlines in your calendar</b>"),
        _("You have a calendar link since {when}. For safety it is shown only when it is made: "
          "press “New link” to get one (the old one stops working), or revoke it.").format(
            when=format_datetime(created_at))])
    return Screen(text, _buttons(revoke=True))


def revoked(count: int) -> Screen:
    text = (_("🚫 Your calendar link no longer works.") if count else
            _("You have no calendar link."))
    return Screen(text, _buttons(revoke=False), toast=text)


def not_offered() -> Screen:
    return Screen(_("Calendar links are not set up on this bot (the administrator sets "
                    "DONDOC_WEB_BASE_URL)."))


def members_only() -> Screen:
    return Screen(_("Only registered members can have a calendar link. "
                    "Ask your coordinator for an invitation."), toast=_("Not allowed."), alert=True)
