"""Notices about one report version, rendered when the dispatcher sends them, in the recipient's
language: blocked work (to the coordinators and the agency's leaders, with the reason) and a
verified report (to the agency's focal points). Each carries a button to the task's history."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from views.history import history_button
from views.html import clip, clip_html, esc
from views.i18n import gettext as _
from views.i18n import use_locale


def blocked_notice(*, code: str, agency: str, reason: str, sender: str, item_id: int,
                   language: str) -> tuple[str, InlineKeyboardMarkup]:
    with use_locale(language):
        text = _("🔴 <b>Blocked</b>: {agency} cannot go on with <b>{code}</b>.\nReason: {reason}\n"
                 "Reported by {name}.").format(agency=esc(clip(agency, 200)), code=esc(clip(code, 20)),
                                              reason=esc(clip(reason, 1000)), name=esc(clip(sender, 100)))
        return clip_html(text), InlineKeyboardMarkup([[history_button(item_id)]])


def verified_notice(*, code: str, period: str, reviewer: str, version: int, item_id: int,
                    language: str) -> tuple[str, InlineKeyboardMarkup]:
    with use_locale(language):
        text = _("🟢 Your report on <b>{code}</b> ({period}, version {version}) was verified by "
                 "{name}. Nothing more is needed for it.").format(
            code=esc(clip(code, 20)), period=esc(clip(period, 32)), version=version,
            name=esc(clip(reviewer, 100)))
        return clip_html(text), InlineKeyboardMarkup([[history_button(item_id)]])
