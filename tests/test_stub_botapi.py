"""Tests of the Bot API stand-in, driven by a real ``telegram.Bot`` and raw httpx."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, RetryAfter

from tests.stub_botapi import StubBotApi, check_html
from tests.stub_botapi.html_check import HtmlParseError, parse_html

TOKEN = "123:ABC"
ALICE = 1001


@pytest.fixture
def stub() -> Iterator[StubBotApi]:
    with StubBotApi(token=TOKEN, bot_username="dondoc_test_bot") as server:
        yield server


@pytest.fixture
async def bot(stub: StubBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        TOKEN, base_url=stub.url + "/bot", base_file_url=stub.url + "/file/bot"
    ) as client:
        yield client


def api(stub: StubBotApi, method: str, **params: object) -> httpx.Response:
    return httpx.post(f"{stub.url}/bot{TOKEN}/{method}", json=params, timeout=15)


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=data)]])


# -- basics ---------------------------------------------------------------------------------
async def test_get_me(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123
    assert me.username == "dondoc_test_bot"
    assert me.is_bot


def test_raw_errors_have_telegram_shape(stub: StubBotApi) -> None:
    assert httpx.get(f"{stub.url}/bot{TOKEN}/getMe").json()["ok"] is True
    wrong = httpx.post(f"{stub.url}/bot999:XYZ/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = api(stub, "sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


def test_form_encoded_params_and_records(stub: StubBotApi) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]})
    response = httpx.post(
        f"{stub.url}/bot{TOKEN}/sendMessage",
        data={"chat_id": str(ALICE), "text": "hello", "reply_markup": markup},
    )
    assert response.json()["result"]["message_id"] == 1
    (call,) = stub.calls("sendMessage")
    assert call.params["chat_id"] == ALICE
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    assert call.response_status == 200
    assert stub.last_message(ALICE).button_datas() == ["b"]  # type: ignore[union-attr]


# -- updates ---------------------------------------------------------------------------------
def test_long_poll_returns_promptly_when_update_arrives(stub: StubBotApi) -> None:
    alice = stub.user(ALICE, "Alice")
    timer = threading.Timer(0.3, stub.send_text, args=(alice, "/start"))
    timer.start()
    started = time.monotonic()
    result = api(stub, "getUpdates", timeout=10).json()["result"]
    elapsed = time.monotonic() - started
    timer.join()
    assert 0.2 < elapsed < 2
    (update,) = result
    assert update["message"]["text"] == "/start"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


def test_long_poll_times_out_empty(stub: StubBotApi) -> None:
    started = time.monotonic()
    assert api(stub, "getUpdates", timeout=1).json()["result"] == []
    assert time.monotonic() - started >= 0.9


def test_offsets_confirm_updates(stub: StubBotApi) -> None:
    alice = stub.user(ALICE, "Alice")
    ids = [stub.send_text(alice, f"m{i}")["update_id"] for i in range(3)]
    assert ids == sorted(ids)
    everything = api(stub, "getUpdates").json()["result"]
    assert [u["update_id"] for u in everything] == ids
    assert [u["update_id"] for u in api(stub, "getUpdates", limit=1).json()["result"]] == ids[:1]
    rest = api(stub, "getUpdates", offset=ids[1]).json()["result"]
    assert [u["update_id"] for u in rest] == ids[1:]
    assert api(stub, "getUpdates", offset=ids[2] + 1).json()["result"] == []
    assert stub.pending_updates() == []


async def test_bot_get_updates_and_group_command(stub: StubBotApi, bot: telegram.Bot) -> None:
    alice = stub.user(ALICE, "Alice", username="alice")
    group = stub.group(-500, "Sở Nội vụ")
    stub.add_bot_to_group(alice, group)
    stub.send_text(alice, "/report@dondoc_test_bot now", chat=group)
    updates = await bot.get_updates(timeout=1, allowed_updates=["message", "my_chat_member"])
    kinds = [u.my_chat_member is not None for u in updates]
    assert kinds == [True, False, False]
    command = updates[-1].message
    assert command is not None
    assert command.parse_entities(["bot_command"]).popitem()[1] == "/report@dondoc_test_bot"
    assert command.chat.type == "group"


async def test_concurrent_get_updates_conflict(stub: StubBotApi) -> None:
    async with httpx.AsyncClient(base_url=f"{stub.url}/bot{TOKEN}", timeout=10) as client:
        first = asyncio.create_task(client.post("/getUpdates", json={"timeout": 5}))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(client.post("/getUpdates", json={"timeout": 0}))
        assert (await first).status_code == 409
        assert (await second).status_code == 200


# -- sending ---------------------------------------------------------------------------------
async def test_send_message_recorded(stub: StubBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(ALICE, "Xin chào", reply_markup=keyboard("menu:1"))
    assert sent.message_id == 1
    assert (await bot.send_message(ALICE, "again")).message_id == 2
    assert (await bot.send_message(ALICE + 1, "other chat")).message_id == 1
    message = await stub.await_message(ALICE, contains="chào")
    assert message.text == "Xin chào"
    assert message.reply_markup == {"inline_keyboard": [[{"text": "x", "callback_data": "menu:1"}]]}
    assert [m.text for m in stub.sent_messages(ALICE)] == ["Xin chào", "again"]


async def test_message_length_limit(bot: telegram.Bot) -> None:
    await bot.send_message(ALICE, "a" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALICE, "a" * 4097)
    await bot.send_message(ALICE, "😀" * 2048)  # 4096 UTF-16 units
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALICE, "😀" * 2048 + "a")
    # The limit applies to the text after entity parsing.
    await bot.send_message(ALICE, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALICE, "<b></b>", parse_mode="HTML")


async def test_caption_limit(bot: telegram.Bot) -> None:
    await bot.send_document(ALICE, b"x", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_document(ALICE, b"x", filename="a.txt", caption="c" * 1025)


async def test_callback_data_limit(bot: telegram.Bot) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=keyboard("d" * 64))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALICE, "too long", reply_markup=keyboard("d" * 65))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALICE, "multibyte", reply_markup=keyboard("đ" * 33))  # 66 bytes


def test_button_without_action_rejected(stub: StubBotApi) -> None:
    markup = {"inline_keyboard": [[{"text": "nothing"}]]}
    response = api(stub, "sendMessage", chat_id=ALICE, text="x", reply_markup=markup)
    assert response.status_code == 400
    assert "text buttons are unallowed" in response.json()["description"]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<b>a &amp; b</b>", "a & b"),
        ('<a href="x">y</a>', "y"),
        ("x &lt; y &gt; z &quot;q&quot; &#65;&#x42;", 'x < y > z "q" AB'),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ("<blockquote expandable>q</blockquote>", "q"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("a > b", "a > b"),
    ],
)
async def test_html_accepted(bot: telegram.Bot, text: str, plain: str) -> None:
    sent = await bot.send_message(ALICE, text, parse_mode="HTML")
    assert sent.text == plain
    assert check_html(text) == plain


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("&nbsp;", "Unsupported HTML entity"),
        ("Tom & Jerry", "Unsupported HTML entity at byte offset 4"),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag"),
        ("<a>y</a>", 'Tag "a" must have'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_html_refused(stub: StubBotApi, text: str, reason: str) -> None:
    with pytest.raises(HtmlParseError) as info:
        check_html(text)
    assert reason in str(info.value)
    response = api(stub, "sendMessage", chat_id=ALICE, text=text, parse_mode="HTML")
    assert response.status_code == 400
    assert response.json()["description"].startswith("Bad Request: can't parse entities: ")
    assert reason in response.json()["description"]
    # Without parse_mode anything goes.
    assert api(stub, "sendMessage", chat_id=ALICE, text=text).status_code == 200


def test_html_entities_use_utf16_offsets() -> None:
    parsed = parse_html("😀 <b>đậm</b>")
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 3}]


async def test_edit_message(stub: StubBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(ALICE, "v1", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("v1", ALICE, sent.message_id, reply_markup=keyboard("a"))
    await bot.edit_message_text("<i>v2</i>", ALICE, sent.message_id, parse_mode="HTML")
    current = stub.last_message(ALICE)
    assert current is not None
    assert (current.text, current.raw_text, current.reply_markup) == ("v2", "<i>v2</i>", None)
    await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=keyboard("b"))
    assert stub.sent_messages(ALICE)[0].button_datas() == ["b"]
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALICE, 999)
    assert await bot.delete_message(ALICE, sent.message_id)
    assert stub.sent_messages(ALICE) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)


async def test_press_button_and_answer(stub: StubBotApi, bot: telegram.Bot) -> None:
    alice = stub.user(ALICE, "Alice")
    await bot.send_message(ALICE, "menu", reply_markup=keyboard("open:7"))
    message = stub.wait_for_message(ALICE, contains="menu")
    update = stub.press_button(alice, message, "open:7")
    query = update["callback_query"]
    assert query["data"] == "open:7"
    assert query["message"]["message_id"] == message.message_id
    with pytest.raises(ValueError, match="no button"):
        stub.press_button(alice, message, "admin:drop")
    forged = stub.press_button(alice, message, "admin:drop", forged=True)
    assert forged["callback_query"]["data"] == "admin:drop"
    assert await bot.answer_callback_query(query["id"], text="ok")
    assert stub.callback_answer(query["id"]) == {"text": "ok"}
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("nonexistent")


# -- faults ----------------------------------------------------------------------------------
async def test_retry_after_and_forbidden(
    stub: StubBotApi, bot: telegram.Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22.2+ warns while building RetryAfter unless timedelta mode is opted in.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    stub.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(ALICE, "x")
    assert info.value.retry_after == dt.timedelta(seconds=7)
    assert stub.calls("sendMessage")[-1].description == "Too Many Requests: retry after 7"
    await bot.send_message(ALICE, "x")  # only once

    stub.fail("sendMessage", 403, chat_id=ALICE + 1, times=2)
    for _ in range(2):
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(ALICE + 1, "x")
    await bot.send_message(ALICE, "unaffected")
    await bot.send_message(ALICE + 1, "recovered")
    assert [c.response_status for c in stub.calls("sendMessage")] == [429, 200, 403, 403, 200, 200]


async def test_block_kick_migrate(stub: StubBotApi, bot: telegram.Bot) -> None:
    stub.block(ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "x")
    stub.unblock(ALICE)
    await bot.send_message(ALICE, "x")
    stub.remove_from_chat(-1)
    with pytest.raises(Forbidden, match="kicked from the group chat"):
        await bot.send_message(-1, "x")
    stub.migrate_chat(-2, -1002)
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-2, "x")
    assert info.value.new_chat_id == -1002


def test_fail_ratio_is_seeded(stub: StubBotApi) -> None:
    stub.fail_ratio({429: 0.5}, seed=42)
    first = [api(stub, "sendMessage", chat_id=ALICE, text="x").status_code for _ in range(20)]
    stub.fail_ratio({429: 0.5}, seed=42)
    second = [api(stub, "sendMessage", chat_id=ALICE, text="x").status_code for _ in range(20)]
    assert first == second
    assert set(first) == {200, 429}
    stub.fail_ratio({})
    assert api(stub, "sendMessage", chat_id=ALICE, text="x").status_code == 200


def test_enforce_limits_and_rate_stats(stub: StubBotApi) -> None:
    stub.enforce_limits(global_per_sec=30, per_group_per_min=3)
    codes = [api(stub, "sendMessage", chat_id=-7, text="x").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    body = api(stub, "sendMessage", chat_id=-7, text="x").json()
    assert body["parameters"]["retry_after"] >= 1
    stats = stub.rate_stats()
    assert stats.total == 3
    assert stats.peak_per_chat_per_minute[-7] == 3
    assert stats.peak_per_second == 3


# -- files -----------------------------------------------------------------------------------
async def test_document_round_trip(stub: StubBotApi, bot: telegram.Bot) -> None:
    content = "Báo cáo quý".encode() * 100
    sent = await bot.send_document(ALICE, content, filename="bao-cao.pdf", caption="<b>Q1</b>",
                                   parse_mode="HTML")  # fmt: skip
    assert sent.document is not None
    assert sent.document.file_name == "bao-cao.pdf"
    assert sent.caption == "Q1"
    record = stub.last_message(ALICE)
    assert record is not None and record.document is not None
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    assert stub.file_content(sent.document.file_id) == content

    photo = await bot.send_photo(ALICE, b"\x89PNG fake", filename="p.png")
    assert photo.photo and photo.photo[-1].file_id


async def test_user_document_is_downloadable(stub: StubBotApi, bot: telegram.Bot) -> None:
    alice = stub.user(ALICE, "Alice")
    update = stub.send_document(alice, "kehoach.xlsx", b"PK\x03\x04data", "application/zip")
    file_id = update["message"]["document"]["file_id"]
    file = await bot.get_file(file_id)
    assert bytes(await file.download_as_bytearray()) == b"PK\x03\x04data"
    # The bot can resend a known file_id.
    resent = await bot.send_document(ALICE + 1, file_id)
    assert resent.document is not None and resent.document.file_id == file_id


def test_document_too_large(stub: StubBotApi) -> None:
    big = b"\0" * (50 * 1024 * 1024 + 1)
    response = httpx.post(
        f"{stub.url}/bot{TOKEN}/sendDocument",
        data={"chat_id": str(ALICE)},
        files={"document": ("big.bin", big)},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["description"] == "Request Entity Too Large"


# -- commands, chats -----------------------------------------------------------------------
async def test_commands_per_scope_and_language(stub: StubBotApi, bot: telegram.Bot) -> None:
    await bot.set_my_commands([("start", "Bắt đầu")], language_code="vi")
    await bot.set_my_commands([("start", "Start")])
    assert [c.description for c in await bot.get_my_commands(language_code="vi")] == ["Bắt đầu"]
    assert stub.commands()[0]["description"] == "Start"
    await bot.delete_my_commands(language_code="vi")
    assert await bot.get_my_commands(language_code="vi") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad Command", "x")])


async def test_chat_info(stub: StubBotApi, bot: telegram.Bot) -> None:
    stub.group(-300, "UBND")
    stub.set_member_status(-300, 1, "creator")
    stub.set_member_status(-300, 123, "administrator")
    chat = await bot.get_chat(-300)
    assert chat.title == "UBND"
    admins = await bot.get_chat_administrators(-300)
    assert {a.status for a in admins} == {"creator", "administrator"}
    member = await bot.get_chat_member(-300, 2)
    assert member.status == "member"
    assert await bot.send_chat_action(ALICE, "typing")
    assert await bot.set_chat_menu_button()


# -- webhook ---------------------------------------------------------------------------------
async def test_webhook_delivery_with_secret(stub: StubBotApi, bot: telegram.Bot) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    failures = {"left": 1}

    async def receive(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Conflict):
            await bot.get_updates()
        update = stub.send_text(stub.user(ALICE, "Alice"), "hello")
        await stub.await_for(lambda: received, timeout=5)
        assert received == [("s3cret", update)]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message is not None  # the first attempt got a 500
        await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()


# -- standalone ------------------------------------------------------------------------------
def test_reset_clears_everything(stub: StubBotApi) -> None:
    stub.send_text(stub.user(ALICE, "A"), "hi")
    api(stub, "sendMessage", chat_id=ALICE, text="x")
    stub.fail("getMe", 500)
    stub.reset()
    assert (stub.calls(), stub.sent_messages(), stub.pending_updates()) == ([], [], [])
    assert api(stub, "getMe").status_code == 200


def test_wait_for_message_timeout_explains(stub: StubBotApi) -> None:
    with pytest.raises(TimeoutError, match="last calls"):
        stub.wait_for_message(ALICE, contains="never", timeout=0.1)


# -- control endpoints (a driver in another process) ----------------------------------------
async def test_control_ask_times_the_first_answer_on_the_stand_ins_clock() -> None:
    with StubBotApi(token=TOKEN, control=True) as stub:
        async with telegram.Bot(TOKEN, base_url=stub.url + "/bot") as driven, httpx.AsyncClient() as http:
            control = f"{stub.url}/control/{TOKEN}"
            ask = asyncio.create_task(http.post(f"{control}/ask", json={
                "user_id": ALICE, "text": "/help", "skip": "wave", "timeout": 10}, timeout=20))
            updates = await driven.get_updates(timeout=5)
            assert updates[0].message is not None and updates[0].message.text == "/help"
            await driven.send_message(ALICE, "a wave message")  # skipped
            await driven.send_message(ALICE + 1, "another chat")  # not this person's answer
            await asyncio.sleep(0.05)
            assert not ask.done()
            await driven.send_message(ALICE, "the answer")
            answered = (await ask).json()
            answer = next(c for c in stub.calls("sendMessage") if c.params["text"] == "the answer")
            assert answered["answered_at"] == answer.time
            assert answered["seconds"] == pytest.approx(answer.time - answered["queued_at"])
            assert 0.05 < answered["seconds"] < 10

            calls = (await http.get(f"{control}/calls", params={
                "method": "sendMessage", "chat_id": ALICE, "contains": "wave"})).json()["calls"]
            assert [c["chat_id"] for c in calls] == [ALICE]
            late = (await http.post(f"{control}/ask", json={"user_id": ALICE, "text": "/x", "timeout": 0.1},
                                    timeout=5))
            assert late.status_code == 504
            sent = (await http.post(f"{control}/send_texts", json={
                "user_id": 9001, "texts": ["a", "b", "c"], "spread": 0.2}, timeout=5)).json()
            assert 0.1 < sent["last_queued"] - sent["first_queued"] < 1
            assert [m["text"] for m in stub.user_messages(9001)] == ["a", "b", "c"]
            assert (await http.get(f"{stub.url}/control/999:XYZ/clock")).status_code == 401


async def test_control_ask_all_waits_for_as_many_answers_as_texts() -> None:
    with StubBotApi(token=TOKEN, control=True) as stub:
        async with telegram.Bot(TOKEN, base_url=stub.url + "/bot") as driven, httpx.AsyncClient() as http:
            control = f"{stub.url}/control/{TOKEN}"
            await driven.send_message(ALICE, "before the texts")  # not an answer: too early
            ask = asyncio.create_task(http.post(f"{control}/ask_all", json={
                "user_id": ALICE, "texts": ["/tasks"] * 3, "skip": "wave", "timeout": 10}, timeout=20))
            updates: list[telegram.Update] = []
            while len(updates) < 3:
                updates += await driven.get_updates(offset=updates[-1].update_id + 1 if updates else None,
                                                    timeout=5)
            assert [u.message.text for u in updates if u.message] == ["/tasks"] * 3
            await driven.send_message(ALICE, "answer 1")
            await driven.send_message(ALICE, "a wave message")  # skipped
            await driven.send_message(ALICE + 1, "another chat")
            await driven.send_message(ALICE, "answer 2")
            await asyncio.sleep(0.05)
            assert not ask.done()
            await driven.send_message(ALICE, "answer 3")
            answered = (await ask).json()
            last = next(c for c in stub.calls("sendMessage") if c.params["text"] == "answer 3")
            assert answered["answers"] == 3
            assert answered["answered_at"] == last.time > answered["queued_at"]

            late = asyncio.create_task(http.post(f"{control}/ask_all", json={
                "user_id": ALICE, "texts": ["/a", "/b"], "timeout": 0.5}, timeout=5))
            await asyncio.sleep(0.1)
            await driven.send_message(ALICE, "only one")
            timed_out = await late
            assert timed_out.status_code == 504
            assert "got 1 answers to 2 texts" in timed_out.text
            none = (await http.post(f"{control}/ask_all", json={"user_id": ALICE, "texts": []},
                                    timeout=5)).json()
            assert none["answers"] == 0


def test_control_endpoints_only_when_asked_for(stub: StubBotApi) -> None:
    assert httpx.get(f"{stub.url}/control/{TOKEN}/clock").status_code == 404
