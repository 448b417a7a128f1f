"""Request parameter decoding and Telegram's strict checks (lengths, keyboards, HTML)."""

from __future__ import annotations

import json
from typing import Any

from .html_check import HtmlParseError, ParsedText, parse_html, utf16_len

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64

INT_FIELDS = frozenset(
    {
        "chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "user_id",
        "reply_to_message_id", "message_thread_id", "cache_time", "max_connections",
    }
)  # fmt: skip
BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "disable_web_page_preview", "allow_sending_without_reply", "disable_content_type_detection",
        "has_spoiler", "for_channels",
    }
)  # fmt: skip
JSON_FIELDS = frozenset(
    {
        "reply_markup", "allowed_updates", "commands", "scope", "menu_button", "entities",
        "caption_entities", "link_preview_options", "reply_parameters", "message_ids",
    }
)  # fmt: skip
INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
        "copy_text", "callback_game", "pay",
    }
)  # fmt: skip


class BotApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: dict[str, Any] | None = None) -> BotApiError:
    return BotApiError(400, f"Bad Request: {reason}", parameters)


def normalize_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Coerce form/multipart string values to the types a JSON body would carry."""
    return {key: _coerce(key, value) for key, value in raw.items()}


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # e.g. "@channelusername"
    if key in BOOL_FIELDS:
        return value.lower() in {"true", "1"}
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {key} JSON object") from exc
    return value


def parse_text(text: Any, parse_mode: str | None, *, caption: bool = False) -> ParsedText:
    """Parse message text or a caption; raise :class:`BotApiError` like Telegram."""
    if text is None or text == "":
        if caption:
            return ParsedText("")
        raise bad_request("message text is empty")
    text = str(text)
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            parsed = parse_html(text)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    else:
        parsed = ParsedText(text)
    if not parsed.text.strip() and not caption:
        raise bad_request("message text is empty")
    limit = MAX_CAPTION_UTF16 if caption else MAX_TEXT_UTF16
    if utf16_len(parsed.text.strip()) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return parsed


def check_reply_markup(markup: Any) -> None:
    """Validate inline and reply keyboards the way Telegram does."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup["inline_keyboard"], "inline keyboard"):
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        for row in _rows(markup["keyboard"], "keyboard"):
            for button in row:
                if isinstance(button, dict) and not button.get("text"):
                    raise bad_request("keyboard button text must be non-empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, what: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f"field \"{what}\" of the ReplyKeyboardMarkup must be an Array")
    return rows


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    actions = INLINE_BUTTON_ACTIONS & button.keys()
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request("can't parse inline keyboard button: exactly one action expected")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not data:
            raise bad_request("BUTTON_DATA_INVALID")
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).strip():
        raise bad_request("BUTTON_URL_INVALID")


def callback_datas(markup: dict[str, Any] | None) -> list[str]:
    """All callback_data values of an inline keyboard (empty for anything else)."""
    if not markup:
        return []
    return [
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if isinstance(button, dict) and "callback_data" in button
    ]
