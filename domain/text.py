"""Text as it may be stored: every string a person or a file supplies passes through here.

Rules (the same on SQLite and PostgreSQL):

- Unicode NFC, so one spelling of "Hạ Long" is one string.
- Line breaks become ``\\n``: CR LF, a lone CR, U+2028/U+2029 and the vertical tab / form feed
  (what Word puts in for Shift+Enter and page breaks), U+0085.
- Other control characters are removed: C0 (U+0001-U+001F) except tab and newline, U+007F and
  C1 (U+0080-U+009F). They cannot be seen, and XML (so XLSX) cannot hold most of them.
- A lone surrogate (possible in JSON, never in real text) becomes U+FFFD: neither SQLite nor
  PostgreSQL can store it as UTF-8.
- NUL (U+0000) is refused by :func:`normalize` (:class:`NulCharacter`): PostgreSQL cannot
  store it, and where a person typed it the honest answer is "this was not accepted".
  :func:`scrub` removes it instead, for text nobody can correct in the conversation (a
  Telegram profile name, a group title, a file name).

Lengths are checked by the callers on the normalised text."""

from __future__ import annotations

import re
import unicodedata

NUL = "\x00"

# Everything that ends a line, besides "\n" itself.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# C0 except tab (09) and newline (0a), DEL, C1. NUL is handled before (refused or removed).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_HORIZONTAL = re.compile("[\t\n]+")


class NulCharacter(ValueError):
    """The text holds a NUL character: refused (nothing is stored)."""

    def __init__(self, what: str = "text") -> None:
        super().__init__(f"{what} contains a NUL character (U+0000), which cannot be stored")
        self.what = what


def _clean(text: str, *, single_line: bool) -> str:
    text = _SURROGATES.sub("\ufffd", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROLS.sub("", text)
    if single_line:
        text = _HORIZONTAL.sub(" ", text)
    # NFC last: removing a control between a letter and its accent must still compose them.
    return unicodedata.normalize("NFC", text)


def normalize(text: str, *, single_line: bool = False, what: str = "text") -> str:
    """``text`` as it is stored; raises :class:`NulCharacter` if it holds NUL.

    ``single_line``: tabs and line breaks become one space (names, titles, codes)."""
    if NUL in text:
        raise NulCharacter(what)
    return _clean(text, single_line=single_line)


def scrub(text: str, *, single_line: bool = True) -> str:
    """Like :func:`normalize`, but NUL is removed instead of refused (Telegram-supplied names,
    titles and file names: refusing them would lock the person out for something they did not
    type here)."""
    return _clean(text.replace(NUL, ""), single_line=single_line)


def has_controls(text: str) -> bool:
    """True if :func:`scrub` would change more than the Unicode form (for tests and checks)."""
    return bool(_CONTROLS.search(text) or _LINE_BREAKS.search(text) or _SURROGATES.search(text))
