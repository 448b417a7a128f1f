"""The page of ``make demo`` (``sandbox.demo``) that acts as a Telegram chat: the people to choose
from and the composer. The conversation itself is the bot's own messages."""

from __future__ import annotations

import json
from collections.abc import Sequence

from views.html import esc, esc_attr
from views.i18n import N_
from views.i18n import gettext as _
from views.labels import role_name

WHO = {
    "focal_point": N_("Focal point of Hạ Long"),
    "coordinator": N_("Coordinator, Department of Home Affairs"),
    "leader": N_("Leader of the province"),
    "admin": N_("Invites people, manages groups"),
}


def chat_page(language: str, people: Sequence[tuple[int, str, str, str]]) -> str:
    """``people``: (Telegram user id, name, role, a key of WHO)."""
    choices = "".join(
        f'<button type="button" class="who" data-user="{user_id}">'
        f"<b>{esc(name)}</b><span>{esc(role_name(role))} · {esc(_(WHO.get(who, who)))}</span></button>"
        for user_id, name, role, who in people)
    words = {"send": _("Send"), "file": _("📎 File"), "placeholder": _("Message")}
    title = _("dondoc — try it without Telegram")
    intro = _("A local stand-in for Telegram: choose who you are, then talk to the bot. "
              "Try /tasks, /report, /status, /calendar, /help.")
    script_words = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="{esc_attr(language)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="stylesheet" href="static/chat.css"></head>
<body>
<header><h1>{esc(title)}</h1>
<p>{esc(intro)}</p>
<nav id="people">{choices}</nav></header>
<main id="chat" hidden><div id="log" aria-live="polite"></div>
<form id="composer"><label class="file">{esc(words["file"])}<input id="upload" type="file"></label>
<input id="text" autocomplete="off" placeholder="{esc_attr(words["placeholder"])}">
<button type="submit">{esc(words["send"])}</button></form></main>
<script id="words" type="application/json">{script_words}</script>
<script src="static/chat.js"></script>
</body></html>
"""
