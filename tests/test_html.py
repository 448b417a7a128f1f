"""views/html.py: clipping counts what Telegram counts and never leaves broken markup."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from views.html import clip, clip_html, esc, utf16_len


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text += data


def visible(message: str) -> str:
    parser = _Balance()
    parser.feed(message)
    parser.close()
    assert parser.stack == []
    return parser.text


def test_short_messages_are_untouched() -> None:
    assert clip_html("<b>a &amp; b</b>", 10) == "<b>a &amp; b</b>"


@pytest.mark.parametrize("limit", [1, 2, 5, 17, 50, 99])
def test_cut_keeps_tags_balanced_and_entities_whole(limit: int) -> None:
    message = "<b>" + esc("Sở <Tài> & chính 🇻🇳 ") * 5 + "</b><i>" + esc("&&&") + "</i>"
    out = clip_html(message, limit)
    assert utf16_len(visible(out)) <= limit
    assert out.endswith("</b>") or out.endswith("</i>")
    assert "&am…" not in out and "&amp" not in out.replace("&amp;", "")


def test_an_emoji_is_never_split_in_half() -> None:
    out = clip_html("🇻🇳" * 10, 5)
    assert utf16_len(visible(out)) <= 5
    assert "\ud83c" not in out.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")[-2:]


def test_plain_clip_before_escaping() -> None:
    assert clip("a  b\tc", 10) == "a b c"
    assert clip("x" * 20, 5) == "xxxx…"
    assert esc(clip("<" * 20, 5)) == "&lt;&lt;&lt;&lt;…"
