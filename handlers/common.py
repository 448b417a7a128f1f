"""Small helpers every handler uses: escaping and replying."""

from __future__ import annotations

import html

from telegram import Message, Update


def esc(text: object) -> str:
    """Escape a user-supplied value for an HTML message."""
    return html.escape(str(text), quote=False)


async def reply(update: Update, text: str) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text)
