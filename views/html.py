"""HTML for Telegram messages: escaping user-supplied values, and clipping that never breaks markup.

Rules: clip plain text *before* escaping it (:func:`clip`), or clip a finished HTML message with
:func:`clip_html`, which counts what Telegram counts (the text after entity parsing, in UTF-16 code
units) and closes the tags it leaves open. Never slice escaped HTML.
"""

from __future__ import annotations

import html
import re

from telegram.constants import MessageLimit

ELLIPSIS = "…"
_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>|&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);|[^<&]+|[<&]")


def esc(text: object) -> str:
    """Escape a user-supplied value for an HTML message."""
    return html.escape(str(text), quote=False)


def esc_attr(text: object) -> str:
    """Escape a value for an HTML attribute (an URL in ``<a href="…">``, a ``pre`` language)."""
    return html.escape(str(text), quote=True)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, width: int) -> str:
    """Plain text cut to ``width`` characters (… included), spaces of one-line text collapsed."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def clip_html(message: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> str:
    """``message`` (HTML) cut so its visible text fits ``limit`` UTF-16 units, tags kept balanced."""
    if utf16_len(html.unescape(re.sub(r"<[^>]*>", "", message))) <= limit:
        return message
    budget = limit - utf16_len(ELLIPSIS)
    out: list[str] = []
    open_tags: list[str] = []
    for match in _TOKEN.finditer(message):
        token = match.group(0)
        if match.group(2):  # a tag: costs nothing visible
            name = match.group(2).lower()
            if match.group(1):
                if name in open_tags:
                    while open_tags and open_tags.pop() != name:
                        pass
            elif not token.endswith("/>"):
                open_tags.append(name)
            out.append(token)
            continue
        visible = html.unescape(token) if token.startswith("&") else token
        cost = utf16_len(visible)
        if cost <= budget:
            out.append(token if token not in "<&" else esc(token))
            budget -= cost
            continue
        if not token.startswith("&"):  # cut inside plain text, never inside a surrogate pair
            kept = ""
            for char in visible:
                if utf16_len(char) > budget:
                    break
                kept += char
                budget -= utf16_len(char)
            out.append(esc(kept) if token in "<&" else kept)
        break
    out.append(ELLIPSIS)
    out.extend(f"</{name}>" for name in reversed(open_tags))
    return "".join(out)
