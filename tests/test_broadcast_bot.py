"""End to end: the real Application against the Bot API stand-in registers a group, broadcasts to
groups and members (preview, confirm, acknowledgements), survives a 429, a blocked member and a
restart in the middle, and never sends anything twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from bot.settings import Settings
from models.db import session_scope
from models.tables import Agency, AuditLog, Broadcast, Chat, Delivery, Member
from scheduler import clock
from scheduler.context import BotApplication
from tests.bot_harness import bot_settings, running_bot, stub  # noqa: F401
from tests.forged import BIG, CHANGED, admin_alerts, press_all
from tests.stub_botapi import SentMessage, StubBotApi

ADMIN = 1
GROUP = -500
TEXT = "Họp giao ban <thứ Hai> & chuẩn bị báo cáo quý"


def seed(engine: Engine, people: int) -> list[int]:
    """An admin (English) and ``people`` focal points of one agency; their Telegram ids."""
    with session_scope(engine) as s:
        agency = Agency(name="Sở Nội vụ", code="SNV", level="department")
        s.add(agency)
        s.flush()
        s.add(Member(telegram_user_id=ADMIN, role="admin", full_name="Admin", language="en"))
        ids = [1000 + i for i in range(people)]
        for uid in ids:
            s.add(Member(telegram_user_id=uid, role="focal_point", agency_id=agency.id,
                         full_name=f"Officer {uid}", language="en"))
    return ids


def with_jobs(app: BotApplication) -> None:
    clock.start(app)  # the harness runs without jobs; broadcasts need the dispatcher and progress


def button(message: SentMessage, prefix: str) -> str:
    return next(d for d in message.button_datas() if d.startswith(prefix))


async def compose(api: StubBotApi, audience: str, *, ack: bool = False) -> tuple[int, SentMessage]:
    """/broadcast, the text, an audience, (the received button), and Send; returns the id and
    the control message."""
    admin = api.user(ADMIN, "Admin", language_code="en")
    api.send_text(admin, "/broadcast")
    await api.await_message(ADMIN, contains="New announcement")
    api.send_text(admin, TEXT)
    choose = await api.await_message(ADMIN, contains="Who should receive it?")
    broadcast_id = int(button(choose, "bc:a:").split(":")[2])
    api.press_button(admin, choose, f"bc:a:{broadcast_id}:{audience}")
    control = await api.await_message(ADMIN, contains="Announcement preview")
    if ack:
        api.press_button(admin, control, f"bc:k:{broadcast_id}")
        control = await api.await_message(ADMIN, contains="button: on")
    api.press_button(admin, control, f"bc:ok:{broadcast_id}")
    return broadcast_id, control


async def finished(api: StubBotApi, control: SentMessage, timeout: float = 60) -> SentMessage:
    async def done() -> SentMessage:
        while True:
            current = next(m for m in api.sent_messages(ADMIN) if m.message_id == control.message_id)
            if current.contains("Announcement finished"):
                return current
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(done(), timeout)


def deliveries(api: StubBotApi, *, preview: bool = False) -> Counter[Any]:
    """How many times each chat successfully got the broadcast text (the sender's preview left
    out unless asked for)."""
    return Counter(c.chat_id for c in api.calls() if c.ok and c.method in ("sendMessage", "sendDocument")
                   and "Họp giao ban" in str(c.params.get("text") or c.params.get("caption") or "")
                   and (preview or c.chat_id != ADMIN))


async def test_group_registration_broadcast_acks_and_blocked(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    people = seed(engine, 3)
    admin = stub.user(ADMIN, "Admin", language_code="en")
    officer = stub.user(people[0], "Officer", language_code="en")
    group = stub.group(GROUP, "Đầu mối 916")
    stub.block(people[2])
    async with running_bot(bot_settings, engine) as app:
        with_jobs(app)
        stub.add_bot_to_group(admin, group)
        await stub.await_message(GROUP, contains="dondoc")
        # a non-admin cannot register the group, neither by command nor by button
        stub.send_text(officer, "/group@dondoc_test_bot", group)
        await stub.await_message(GROUP, contains="Only a dondoc administrator")
        stub.send_text(admin, "/group@dondoc_test_bot", group)
        asked = await stub.await_message(GROUP, contains="What is this group for?")
        forged = stub.press_button(officer, asked, "grp:p:leaders")
        await asyncio.sleep(0.5)
        assert "administrator" in (stub.callback_answer(forged["callback_query"]["id"]) or {}).get("text", "")
        stub.press_button(admin, asked, "grp:p:focal_points")
        await stub.await_message(GROUP, contains="Its language?")
        stub.press_button(admin, asked, "grp:l:vi")
        await stub.await_message(GROUP, contains="Registered")
        with session_scope(engine) as s:
            chat = s.exec(select(Chat).where(Chat.telegram_chat_id == GROUP)).one()
            assert (chat.purpose, chat.language, chat.active) == ("focal_points", "vi", True)

        broadcast_id, control = await compose(stub, "e", ack=True)
        report = await finished(stub, control)
        assert "Sent: 4 / 5" in (report.text or "") and "Blocked: 1" in (report.text or "")
        got = deliveries(stub, preview=True)
        # the admin saw the preview, then got it as a member of "everyone"
        assert got == Counter({GROUP: 1, ADMIN: 2, people[0]: 1, people[1]: 1})
        # the group's copy: the text as written (escaped), the "received" button in Vietnamese
        in_group = stub.last_message(GROUP)
        assert in_group is not None and in_group.text == TEXT
        assert in_group.button_datas() == [f"bc:ack:{broadcast_id}"]
        assert in_group.button_texts() == ["✅ Đã nhận"] or in_group.button_texts() == ["✅ Received"]
        # a second Send tap (a stale client) queues nothing
        again = stub.press_button(admin, control, f"bc:ok:{broadcast_id}", forged=True)
        await asyncio.sleep(0.5)
        assert "Already sent" in (stub.callback_answer(again["callback_query"]["id"]) or {}).get("text", "")
        # acknowledgements, once per person
        mine = stub.last_message(people[0])
        assert mine is not None
        first = stub.press_button(officer, mine, f"bc:ack:{broadcast_id}")
        second = stub.press_button(officer, mine, f"bc:ack:{broadcast_id}")
        await asyncio.sleep(0.6)
        assert "recorded" in (stub.callback_answer(first["callback_query"]["id"]) or {}).get("text", "")
        assert "already" in (stub.callback_answer(second["callback_query"]["id"]) or {}).get("text", "")
        stub.press_button(admin, report, f"bc:who:{broadcast_id}")
        await stub.await_message(ADMIN, contains="Sở Nội vụ: 1")
    assert deliveries(stub, preview=True) == got
    with session_scope(engine) as s:
        blocked = s.exec(select(Member).where(Member.telegram_user_id == people[2])).one()
        assert blocked.unreachable_at is not None
        rows = s.exec(select(Delivery).where(Delivery.kind == "broadcast")).all()
        assert len(rows) == 5 and {r.key for r in rows} == {f"bc:{broadcast_id}:{r.chat_id}" for r in rows}
        assert s.get(Broadcast, broadcast_id).status == "done"  # type: ignore[union-attr]


async def test_removed_group_is_recorded_and_marked_inactive(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    seed(engine, 1)
    admin = stub.user(ADMIN, "Admin", language_code="en")
    group = stub.group(GROUP, "Lãnh đạo")
    async with running_bot(bot_settings, engine) as app:
        with_jobs(app)
        stub.add_bot_to_group(admin, group)
        stub.send_text(admin, "/group@dondoc_test_bot", group)
        asked = await stub.await_message(GROUP, contains="What is this group for?")
        stub.press_button(admin, asked, "grp:p:leaders")
        await stub.await_message(GROUP, contains="Its language?")
        # kicked without the bot noticing (no update): the send fails and says why
        stub.remove_from_chat(GROUP)
        _, control = await compose(stub, "g")
        report = await finished(stub, control)
        assert "Blocked: 1" in (report.text or "") and "kicked" in (report.text or "")
        with session_scope(engine) as s:
            chat = s.exec(select(Chat).where(Chat.telegram_chat_id == GROUP)).one()
            assert chat.active is False
            assert s.exec(select(AuditLog).where(AuditLog.action == "group.removed")).first()
        # a broadcast to groups now has nobody: refused at the preview
        stub.send_text(admin, "/broadcast")
        await stub.await_message(ADMIN, contains="New announcement", count=2)
        stub.send_text(admin, TEXT)
        choose = await stub.await_message(ADMIN, contains="Who should receive it?", count=2)
        stub.press_button(admin, choose, button(choose, "bc:a:").rsplit(":", 1)[0] + ":g")
        await stub.await_message(ADMIN, contains="Nobody would receive it")


async def test_429_in_the_middle_is_honoured_and_nothing_is_lost(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    people = seed(engine, 30)
    stub.fail("sendMessage", 429, retry_after=2, chat_id=people[12])
    async with running_bot(bot_settings, engine) as app:
        with_jobs(app)
        _, control = await compose(stub, "rf")
        report = await finished(stub, control)
    assert "Sent: 30 / 30" in (report.text or "")
    assert deliveries(stub) == Counter({p: 1 for p in people})
    calls = [c for c in stub.calls("sendMessage") if c.chat_id in people]
    refused = next(c for c in calls if not c.ok)
    assert refused.response_status == 429
    after = [c for c in calls if c.time > refused.time]
    assert after and min(c.time for c in after) - refused.time >= 2.0  # the pause was honoured


async def test_restart_in_the_middle_sends_each_once(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    people = seed(engine, 120)
    async with running_bot(bot_settings, engine) as app:
        with_jobs(app)
        broadcast_id, control = await compose(stub, "rf")
        while len(deliveries(stub)) < 25:
            await asyncio.sleep(0.05)
    first_run = sum(deliveries(stub).values())
    assert first_run < len(people)
    async with running_bot(bot_settings, engine) as app:  # a new process on the same database
        with_jobs(app)
        report = await finished(stub, control)
    assert "Sent: 120 / 120" in (report.text or "")
    assert deliveries(stub) == Counter({p: 1 for p in people})
    with session_scope(engine) as s:
        assert s.get(Broadcast, broadcast_id).progress_message_id == control.message_id  # type: ignore[union-attr]


async def test_cancel_command_cancels_the_broadcast_being_written(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    """/cancel while the text is awaited, and again at the preview (waiting for a button):
    each time the draft is cancelled, the admin is told, and nobody gets anything."""
    people = seed(engine, 2)
    admin = stub.user(ADMIN, "Admin", language_code="en")
    async with running_bot(bot_settings, engine) as app:
        with_jobs(app)
        stub.send_text(admin, "/broadcast")
        await stub.await_message(ADMIN, contains="New announcement")
        stub.send_text(admin, "/cancel")
        await stub.await_message(ADMIN, contains="Cancelled. Nothing was sent.")
        stub.send_text(admin, TEXT)  # no draft any more: not taken as a broadcast's text
        await asyncio.sleep(0.5)
        stub.send_text(admin, "/broadcast")
        await stub.await_message(ADMIN, contains="New announcement", count=2)
        stub.send_text(admin, TEXT)
        choose = await stub.await_message(ADMIN, contains="Who should receive it?")
        broadcast_id = int(button(choose, "bc:a:").split(":")[2])
        stub.press_button(admin, choose, f"bc:a:{broadcast_id}:rf")
        await stub.await_message(ADMIN, contains="Announcement preview")
        stub.send_text(admin, "/cancel")
        await stub.await_message(ADMIN, contains="Cancelled. Nothing was sent.", count=2)
        await asyncio.sleep(0.5)
    with session_scope(engine) as s:
        assert sorted(b.status for b in s.exec(select(Broadcast))) == ["cancelled", "cancelled"]
        assert not s.exec(select(Delivery)).all()
    assert not deliveries(stub)
    assert all(not stub.sent_messages(p) for p in people)


def _state(engine: Engine) -> tuple[object, ...]:
    """What a forged press must not change: broadcasts, groups, ledger rows, audit rows."""
    with session_scope(engine) as s:
        drafts = s.exec(select(Broadcast))
        return (sorted((b.id, b.status, b.step, b.audience, b.ack_enabled) for b in drafts),
                sorted((c.telegram_chat_id, c.purpose, c.language) for c in s.exec(select(Chat))),
                len(s.exec(select(Delivery)).all()), len(s.exec(select(AuditLog)).all()))


async def test_forged_broadcast_and_group_buttons_change_nothing(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    people = seed(engine, 1)
    admin = stub.user(ADMIN, "Admin", language_code="en")
    officer = stub.user(people[0], "Officer", language_code="en")
    group = stub.group(GROUP, "Đầu mối 916")
    async with running_bot(bot_settings, engine):
        stub.add_bot_to_group(admin, group)
        await stub.await_message(GROUP, contains="dondoc")
        stub.send_text(admin, "/group@dondoc_test_bot", group)
        asked = await stub.await_message(GROUP, contains="What is this group for?")
        stub.send_text(admin, "/broadcast")
        await stub.await_message(ADMIN, contains="New announcement")
        stub.send_text(admin, TEXT)
        choose = await stub.await_message(ADMIN, contains="Who should receive it?")
        broadcast_id = int(button(choose, "bc:a:").split(":")[2])
        before = _state(engine)
        malformed = [f"bc:ok:{BIG}", f"bc:a:{BIG}:e", f"bc:ack:{BIG}", f"bc:who:-{BIG}", "bc:ok",
                     f"bc:ok:{broadcast_id}:1", "bc:a:1", "bc:k:x", "bc:zz:1", "bc:", "bc:no:1.5",
                     f"bc:a:{broadcast_id}:{'e' * 41}", f"bc:a:{broadcast_id}:e f", "bc:rt:" + "9" * 30]
        assert await press_all(stub, ADMIN, choose, malformed) == [CHANGED] * len(malformed)
        forged_groups = [f"grp:c:{BIG}", "grp:c:abc", "grp:p", "grp:p:a:b", "grp:l:xx", "grp:l",
                         "grp:zz:1", "grp:c:-1:2"]
        assert await press_all(stub, ADMIN, asked, forged_groups) == [CHANGED] * len(forged_groups)
        # Well-formed, but not the presser's to press: "not allowed" (an alert), nothing done.
        mine = [f"bc:ok:{broadcast_id}", f"bc:a:{broadcast_id}:e", f"bc:no:{broadcast_id}"]
        refused = await press_all(stub, people[0], choose, mine)
        assert refused == ["Only administrators and coordinators can send announcements."] * 3
        assert await press_all(stub, people[0], asked, ["grp:p:leaders", "grp:l:vi"]) == [
            "Only a dondoc administrator can do this."] * 2
        assert _state(engine) == before
        # The draft still works for its sender.
        stub.press_button(admin, choose, f"bc:a:{broadcast_id}:e")
        await stub.await_message(ADMIN, contains="Announcement preview")
    assert admin_alerts(stub) == []
    assert officer["id"] == people[0]


async def test_crafted_entities_are_escaped_in_the_preview_and_the_copies(
        stub: StubBotApi, bot_settings: Settings, engine: Engine) -> None:  # noqa: F811
    """A ``text_link`` URL and a ``pre`` language with quotes and markup in them (what a modified
    client can send): the preview is valid HTML and keeps the link and the language as sent."""
    seed(engine, 1)
    admin = stub.user(ADMIN, "Admin", language_code="en")
    text = "Họp giao ban: see the guide, then run: print(1) & bold"
    url = 'https://example.org/a?b="><i>x</i>&c=<b>'
    language = 'py"><script>x</script>'
    link_at, code_at, bold_at = text.index("the guide"), text.index("print(1)"), text.index("bold")
    entities = [{"type": "text_link", "offset": link_at, "length": 9, "url": url},
                {"type": "pre", "offset": code_at, "length": 8, "language": language},
                {"type": "bold", "offset": 0, "length": link_at + 3},  # overlaps the link
                {"type": "italic", "offset": bold_at, "length": 4}]
    async with running_bot(bot_settings, engine) as app:
        with_jobs(app)
        stub.send_text(admin, "/broadcast")
        await stub.await_message(ADMIN, contains="New announcement")
        stub.send_text(admin, text, entities=entities)
        choose = await stub.await_message(ADMIN, contains="Who should receive it?")
        broadcast_id = int(button(choose, "bc:a:").split(":")[2])
        stub.press_button(admin, choose, f"bc:a:{broadcast_id}:rf")
        control = await stub.await_message(ADMIN, contains="Announcement preview")
        preview = next(m for m in stub.sent_messages(ADMIN) if m.text == text)
        kinds = {e["type"]: e for e in preview.entities}
        assert kinds["text_link"]["url"] == url and kinds["pre"]["language"] == language
        assert "bold" in kinds and "italic" in kinds
        stub.press_button(admin, control, f"bc:ok:{broadcast_id}")
        await finished(stub, control)
    copy = stub.last_message(1000)
    assert copy is not None and copy.text == text
    assert {e["type"]: e.get("url") for e in copy.entities}["text_link"] == url
    assert all(c.ok for c in stub.calls() if c.method in ("sendMessage", "editMessageText"))
