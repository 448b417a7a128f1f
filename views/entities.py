"""A user's formatted message (text + entities) as HTML that Telegram accepts back.

PTB's ``Message.text_html`` puts entity attributes in unescaped (a ``text_link`` URL or a ``pre``
language containing ``"`` breaks out of the attribute) and assumes entities nest. Here every
attribute goes through :func:`views.html.esc_attr`, every text run through :func:`views.html.esc`,
and tags are closed and reopened at each boundary, so overlapping entities still give balanced
markup. Entities Telegram finds again by itself (URLs, mentions, hashtags, commands…) and those
without an HTML form are kept as plain text.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

from telegram import MessageEntity

from views.html import esc, esc_attr

_SIMPLE = {
    MessageEntity.BOLD: "b",
    MessageEntity.ITALIC: "i",
    MessageEntity.UNDERLINE: "u",
    MessageEntity.STRIKETHROUGH: "s",
    MessageEntity.SPOILER: "tg-spoiler",
    MessageEntity.CODE: "code",
    MessageEntity.BLOCKQUOTE: "blockquote",
}
_VERBATIM = (MessageEntity.CODE, MessageEntity.PRE)  # nothing else is formatted inside these


@dataclass(frozen=True)
class _Span:
    start: int  # characters of the text (Telegram's UTF-16 offsets converted)
    end: int
    order: int  # position in the message's entity list (ties: the earlier one is outer)
    opening: str
    closing: str
    verbatim: bool


def _tags(entity: MessageEntity) -> tuple[str, str] | None:
    """The opening and closing markup of an entity; None: shown as plain text."""
    kind = entity.type
    if kind in _SIMPLE:
        name = _SIMPLE[kind]
        return f"<{name}>", f"</{name}>"
    if kind == MessageEntity.EXPANDABLE_BLOCKQUOTE:
        return "<blockquote expandable>", "</blockquote>"
    if kind == MessageEntity.PRE:
        if entity.language:
            return f'<pre><code class="language-{esc_attr(entity.language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == MessageEntity.TEXT_LINK and entity.url:
        return f'<a href="{esc_attr(entity.url)}">', "</a>"
    if kind == MessageEntity.TEXT_MENTION and entity.user is not None:
        return f'<a href="tg://user?id={int(entity.user.id)}">', "</a>"
    if kind == MessageEntity.CUSTOM_EMOJI and str(entity.custom_emoji_id or "").isdigit():
        return f'<tg-emoji emoji-id="{entity.custom_emoji_id}">', "</tg-emoji>"
    return None


def entities_html(text: str | None, entities: Sequence[MessageEntity] | None) -> str:
    """``text`` with ``entities`` as Telegram HTML (escaped, balanced, attributes quoted)."""
    if not text:
        return ""
    starts = list(accumulate((2 if ord(char) > 0xFFFF else 1 for char in text), initial=0))[:-1]

    def index(offset: int) -> int:
        """The character at a UTF-16 offset (one inside a surrogate pair: the next character)."""
        return bisect_left(starts, offset)

    spans = []
    for order, entity in enumerate(entities or ()):
        tags = _tags(entity)
        start, end = index(max(0, entity.offset)), index(entity.offset + entity.length)
        if tags is not None and start < end:
            spans.append(_Span(start, end, order, *tags, entity.type in _VERBATIM))
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out: list[str] = []
    open_spans: list[_Span] = []
    for left, right in pairwise(cuts):
        wanted = _active(spans, left)
        keep = 0
        while keep < min(len(open_spans), len(wanted)) and open_spans[keep] is wanted[keep]:
            keep += 1
        out.extend(span.closing for span in reversed(open_spans[keep:]))
        out.extend(span.opening for span in wanted[keep:])
        open_spans = wanted
        out.append(esc(text[left:right]))
    out.extend(span.closing for span in reversed(open_spans))
    return "".join(out)


def _active(spans: list[_Span], at: int) -> list[_Span]:
    """The spans covering the run starting at ``at``, outermost first; inside code or pre only
    that span itself (Telegram formats nothing within them)."""
    covering = sorted((s for s in spans if s.start <= at < s.end), key=lambda s: (s.start, -s.end, s.order))
    for index, span in enumerate(covering):
        if span.verbatim:
            return covering[:index + 1]
    return covering
