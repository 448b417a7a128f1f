"""HTML for Telegram messages: escaping user-supplied values."""

from __future__ import annotations

import html


def esc(text: object) -> str:
    """Escape a user-supplied value for an HTML message."""
    return html.escape(str(text), quote=False)
