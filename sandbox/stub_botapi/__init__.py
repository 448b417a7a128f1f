"""A local, strict stand-in of the Telegram Bot API for tests and benchmarks.

Start it, point python-telegram-bot at it, act as users, inspect what the bot sent::

    from sandbox.stub_botapi import StubBotApi

    with StubBotApi(token="123:ABC", bot_username="dondoc_test_bot") as stub:
        bot = telegram.Bot(stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url)
        # or ApplicationBuilder().base_url(f"{stub.url}/bot").base_file_url(f"{stub.url}/file/bot")
        alice = stub.user(1001, "Alice")
        stub.send_text(alice, "/start")
        msg = stub.wait_for_message(1001, contains="Xin chào")      # sync
        msg = await stub.await_message(1001, contains="Xin chào")   # async, never blocks the loop

Standalone (e.g. for a bot running in another process)::

    python -m sandbox.stub_botapi --port 8081 --token 123:ABC

Pieces:

* :mod:`.server` – ``StubBotApi`` (HTTP server, Bot API methods, test API)
* :mod:`.actors` – user actions that queue updates (``send_text``, ``press_button`` ...)
* :mod:`.faults` – ``fail``/``fail_ratio``/``block``/``enforce_limits`` machinery
* :mod:`.validation` – Telegram's 400 checks (lengths, keyboards, parse modes)
* :mod:`.html_check` – the ``parse_mode="HTML"`` parser (``check_html``)
* :mod:`.records` – ``Call``, ``SentMessage``, ``RateStats``
* :mod:`.fixtures` – pytest fixtures ``stub_botapi`` and ``stub_bot``
* :mod:`.control` – ``/control/<token>/`` endpoints (``--control``) for a driver in another process
"""

from .html_check import HtmlParseError, ParsedText, check_html, parse_html, utf16_len
from .records import SEND_METHODS, Call, RateStats, SentMessage
from .server import StoredFile, StubBotApi, UploadedFile
from .validation import BotApiError

__all__ = [
    "SEND_METHODS",
    "BotApiError",
    "Call",
    "HtmlParseError",
    "ParsedText",
    "RateStats",
    "SentMessage",
    "StoredFile",
    "StubBotApi",
    "UploadedFile",
    "check_html",
    "parse_html",
    "utf16_len",
]
