"""Validation of ``parse_mode="HTML"`` text the way Telegram's Bot API does it.

The parser follows TDLib's ``parse_html`` (tag handling, attribute syntax and the
error messages), but is deliberately *stricter* about ``&``: every ``&`` must start
one of ``&lt; &gt; &amp; &quot;`` or a numeric reference ``&#NN;`` / ``&#xNN;``.
That catches un-escaped user input before it reaches the real Telegram.

Usage::

    from tests.stub_botapi.html_check import HtmlParseError, check_html, parse_html

    check_html("<b>a &amp; b</b>")          # -> "a & b"
    parse_html('<a href="x">y</a>').entities  # -> [{"type": "text_link", ...}]
    check_html("a < b")                      # raises HtmlParseError

``str(HtmlParseError)`` is the reason Telegram puts after
``"Bad Request: can't parse entities: "``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlParseError", "ParsedText", "check_html", "parse_html", "utf16_len"]

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip

ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]{1,32}));")
_NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9.\-]*")


class HtmlParseError(ValueError):
    """Raised for text Telegram would refuse; ``str(exc)`` is Telegram's reason."""


@dataclass
class ParsedText:
    """Plain text (as shown to the user) plus Bot API ``MessageEntity`` dicts."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the plain text
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def check_html(text: str) -> str:
    """Return the plain text of ``text`` or raise :class:`HtmlParseError`."""
    return parse_html(text).text


def parse_html(text: str) -> ParsedText:
    """Parse Telegram-flavoured HTML into plain text and entities."""
    return _Parser(text).run()


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 units emitted so far
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- helpers -----------------------------------------------------------------
    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def error(self, message: str, index: int | None = None) -> HtmlParseError:
        if index is not None:
            message = f"{message} at byte offset {self.byte_offset(index)}"
        return HtmlParseError(message)

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out_len += utf16_len(chunk)

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.src[index] if index < len(self.src) else ""

    def skip_spaces(self) -> None:
        while self.peek() and self.peek().isspace():
            self.pos += 1

    # -- main loop -----------------------------------------------------------------
    def run(self) -> ParsedText:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                self.emit(self.read_entity())
            elif char == "<":
                if self.peek(1) == "/":
                    self.read_end_tag()
                else:
                    self.read_start_tag()
            else:
                end = self.pos
                while end < len(self.src) and self.src[end] not in "&<":
                    end += 1
                self.emit(self.src[self.pos : end])
                self.pos = end
        if self.stack:
            raise self.error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def read_entity(self) -> str:
        match = _ENTITY_RE.match(self.src, self.pos)
        if match is None:
            raise self.error("Unsupported HTML entity", self.pos)
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in NAMED_ENTITIES:
                raise self.error(f'Unsupported HTML entity "&{name};"', self.pos)
            value = NAMED_ENTITIES[name]
        else:
            code = int(decimal, 10) if decimal is not None else int(hexadecimal, 16)
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self.error("Invalid numeric HTML entity", self.pos)
            value = chr(code)
        self.pos = match.end()
        return value

    # -- tags ------------------------------------------------------------------------
    def read_start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        name_begin = self.pos
        while self.peek() and not self.peek().isspace() and self.peek() != ">":
            self.pos += 1
        if not self.peek():
            raise self.error("Unclosed start tag", begin)
        name = self.src[name_begin : self.pos].lower()
        if name not in ALLOWED_TAGS:
            raise self.error(f'Unsupported start tag "{name}"', begin)
        attrs = self.read_attributes(name, begin)
        self.pos += 1  # '>'
        self.validate_start_tag(name, attrs, begin)
        self.stack.append(_OpenTag(name, self.out_len, attrs))

    def read_attributes(self, tag: str, begin: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while True:
            self.skip_spaces()
            if not self.peek():
                raise self.error("Unclosed start tag", begin)
            if self.peek() == ">":
                return attrs
            name_begin = self.pos
            while self.peek() and not self.peek().isspace() and self.peek() not in "=>":
                self.pos += 1
            attr = self.src[name_begin : self.pos].lower()
            if not attr:
                raise self.error(f'Empty attribute name in the tag "{tag}"', begin)
            self.skip_spaces()
            if self.peek() != "=":
                if tag == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise self.error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}"',
                    begin,
                )
            self.pos += 1
            self.skip_spaces()
            attrs[attr] = self.read_attribute_value(begin)

    def read_attribute_value(self, begin: int) -> str:
        quote = self.peek()
        if not quote:
            raise self.error("Unclosed start tag", begin)
        if quote not in "'\"":
            token_begin = self.pos
            match = _NAME_TOKEN_RE.match(self.src, self.pos)
            self.pos = match.end() if match else self.pos
            if self.peek() and not self.peek().isspace() and self.peek() != ">":
                raise self.error("Unexpected end of name token", token_begin)
            return self.src[token_begin : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.peek() and self.peek() != quote:
            if self.peek() == "&":
                value.append(self.read_entity())
            else:
                value.append(self.peek())
                self.pos += 1
        if not self.peek():
            raise self.error("Unclosed start tag", begin)
        self.pos += 1
        return "".join(value)

    def validate_start_tag(self, name: str, attrs: dict[str, str], begin: int) -> None:
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.error('Tag "span" must have class "tg-spoiler"', begin)
        if name == "a" and not attrs.get("href"):
            raise self.error('Tag "a" must have non-empty attribute "href"', begin)
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise self.error('Tag "tg-emoji" must have a numeric attribute "emoji-id"', begin)

    def read_end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise self.error("Unexpected end tag", begin)
        self.pos += 2
        name_begin = self.pos
        while self.peek() and self.peek() != ">":
            self.pos += 1
        if not self.peek():
            raise self.error("Unclosed end tag", begin)
        name = self.src[name_begin : self.pos].strip().lower()
        expected = self.stack[-1].name
        if name and name != expected:
            raise self.error(
                f'Unmatched end tag at byte offset {self.byte_offset(begin)}, '
                f'expected "</{expected}>", found "</{name}>"'
            )
        self.pos += 1
        self.close_entity(self.stack.pop())

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.start
        if length == 0:
            return
        entity: dict[str, Any] = {
            "type": ENTITY_TYPES[tag.name],
            "offset": tag.start,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.attrs["href"]
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        elif tag.name == "pre" and "language" in tag.attrs:
            entity["language"] = tag.attrs["language"]
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and self.merge_code_into_pre(tag, length):
            return
        self.entities.append(entity)

    def merge_code_into_pre(self, tag: _OpenTag, length: int) -> bool:
        """``<pre><code class="language-x">`` becomes one ``pre`` entity with a language."""
        language = tag.attrs.get("class", "")
        if not (self.stack and self.stack[-1].name == "pre"):
            return False
        if language.startswith("language-") and tag.start == self.stack[-1].start:
            self.stack[-1].attrs["language"] = language.removeprefix("language-")
        return True
