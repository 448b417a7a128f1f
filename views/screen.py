"""The one thing a view returns: what to show a person in answer to one update."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup


@dataclass
class Attachment:
    """A file to send with the screen: bytes made now (an export, a chart) or a Telegram file id."""

    kind: str  # "document" | "photo"
    filename: str = ""
    content: bytes | None = None
    file_id: str | None = None
    caption: str | None = None


@dataclass
class Screen:
    """A message (sent, or edited in place when answering a button), files to send before it, and
    a short text for the button's spinner (``toast``; ``alert`` shows it as a dialog)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    files: list[Attachment] = field(default_factory=list)
    toast: str | None = None
    alert: bool = False
    new_message: bool = False  # send a new message even when answering a button
    edit: bool = False  # answering a button: put the text in its message even with a toast
    # Messages for other people never ride on a screen: they are delivery-ledger rows written
    # in the caller's transaction; ``queued`` says some are due now (the dispatcher is woken).
    queued: bool = False
