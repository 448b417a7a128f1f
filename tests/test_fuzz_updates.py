"""A few hundred random updates (seeded) against the real Application and the stand-in: commands,
HTML-ish text with emoji, real, stale and forged buttons, files and stickers, private and group
chats, members and strangers. Nothing may reach the error handler, and nothing may be written
that the sender was not allowed to write."""

from __future__ import annotations

import json
import logging
import os
import random
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from bot.settings import Settings
from models.db import session_scope
from models.tables import Item, Member, Report, ReportDraft
from tests.bot_harness import bot_settings_fixture, stub_fixture  # noqa: F401
from tests.stub_botapi import StubBotApi
from tests.test_reporting_bot import (  # noqa: F401
    COORD,
    FP1,
    FP2,
    LEADER,
    OTHER,
    STRANGER,
    Driver,
    bot,
    cast,
)

SEED = 916
# bench/faults.py runs this test with 5,000 steps and reads the figures it writes.
STEPS = int(os.environ.get("DONDOC_FUZZ_STEPS", "300"))
REPORT = os.environ.get("DONDOC_FUZZ_REPORT")
GROUP = -700
USERS = [FP1, FP1, FP1, FP2, FP2, OTHER, COORD, COORD, LEADER, STRANGER, STRANGER + 1]
COMMANDS = ["/start", "/help", "/tasks", "/report", "/review", "/cancel", "/report@dondoc_test_bot",
            "/tasks extra args", "/unknown"]
TEXTS = ["40", "150", "-3", "123/BC-UBND", "Số 45/2026/QĐ-UBND", "<b>bold</b>", "a < b & c > d",
         "&amp; &lt; &#0; &bogus;", "🎉🇻🇳 Đã hoàn thành 100%", "<script>alert(1)</script>",
         "x" * 1001, "y" * 4000, " ", "Thiếu kinh phí <năm 2026>", "</i>", "12/", "/", "\u200b"]
JUNK_DATA = ["", ":", "rp:", "rp:-1", "rp:0", "rp:1", "rp:99999999999999999999", "rn:1", "d:1:state:done",
             "d:0:review:ok", "d:1:evidence:next", "d:1:note:keep", "d:2:percent:150", "tk:1000000",
             "tk:x", "ti:1:0", "ti:1", "rv:1:1:a", "rv:1:1:r", "rv:1:99:a", "rq", "zz:top", "iv:1",
             "d:1:state:done:extra", "<b>", "🎉"]


def pick_button(rng: random.Random, stub_api: StubBotApi, chat: int) -> tuple[Any, str] | None:
    messages = [m for m in stub_api.sent_messages(chat) if m.button_datas()]
    if not messages:
        return None
    message = messages[-1] if rng.random() < 0.7 else rng.choice(messages)
    return message, rng.choice(message.button_datas())


async def one_step(rng: random.Random, driver: Driver, stub_api: StubBotApi) -> None:
    user = rng.choice(USERS)
    in_group = rng.random() < 0.15
    chat = GROUP if in_group else None
    roll = rng.random()
    if roll < 0.18:
        await driver.do(stub_api.send_text(user, rng.choice(COMMANDS), chat))
    elif roll < 0.42:
        await driver.do(stub_api.send_text(user, rng.choice(TEXTS), chat))
    elif roll < 0.72:
        found = pick_button(rng, stub_api, GROUP if in_group else user)
        if found is not None:
            message, data = found
            if rng.random() < 0.2:  # someone else's button
                user = rng.choice(USERS)
            await driver.do(stub_api.press_button(user, message, data, forged=True))
    elif roll < 0.82:
        found = pick_button(rng, stub_api, user) or (None, "")
        anchor = found[0] or next(iter(stub_api.sent_messages(GROUP)), None)
        if anchor is not None:
            await driver.do(stub_api.press_button(user, anchor, rng.choice(JUNK_DATA), forged=True))
    elif roll < 0.90:
        name, mime = rng.choice([("bao-cao.pdf", "application/pdf"), ("ke-hoach.docx", "application/msword"),
                                 ("virus.exe", "application/x-msdownload"), ("a<b>&c.xlsx", "")])
        await driver.do(stub_api.send_document(user, name, b"content", mime, chat=chat))
    elif roll < 0.95:
        await driver.do(stub_api.send_photo(user, b"\xff\xd8\xff", chat=chat))
    else:
        await driver.do(stub_api.send_sticker(user, chat))


async def test_random_updates_break_nothing(stub: StubBotApi, bot_settings: Settings,
                                            plan_engine: Engine, cast: dict[str, Any],  # noqa: F811
                                            caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(SEED)
    driver = Driver(stub)
    stub.group(GROUP, "Nhóm <đầu mối> & 🎉")
    with session_scope(plan_engine) as s:
        members_before = int(s.exec(select(func.count()).select_from(Member)).one())
    caplog.set_level(logging.ERROR)
    async with bot(bot_settings, plan_engine, driver):
        await driver.do(stub.send_text(FP1, "/report"))  # a start deep in the flow
        for _step in range(STEPS):
            await one_step(rng, driver, stub)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    apologies = [m for m in stub.sent_messages() if m.contains("Sorry, something went wrong")
                 or m.contains("Xin lỗi")]
    # The stand-in refused nothing but "not modified" edits (the bot expects and ignores those):
    # no bad HTML, no text over 4,096, no callback data over 64 bytes.
    refused = [c for c in stub.calls() if not c.ok and c.method != "getUpdates"
               and "not modified" not in (c.description or "")]
    if REPORT:
        figures = {"updates": STEPS + 1, "unhandled_errors": len(errors), "apologies": len(apologies),
                   "refused_by_telegram": len(refused),
                   "bot_calls": len([c for c in stub.calls() if c.method != "getUpdates"])}
        with open(REPORT, "w", encoding="utf-8") as out:
            json.dump(figures, out)
    assert not errors, [(r.getMessage(), r.exc_info) for r in errors[:3]]
    assert not apologies
    assert not refused, [(c.method, c.description) for c in refused[:5]]
    with session_scope(plan_engine) as s:
        assert int(s.exec(select(func.count()).select_from(Member)).one()) == members_before
        members = {m.id: m for m in s.exec(select(Member))}
        for report in s.exec(select(Report)):
            author, item = members[report.member_id], s.get(Item, report.item_id)
            assert item is not None and author.agency_id == item.agency_id
            assert author.role in ("focal_point", "admin")
        for draft in s.exec(select(ReportDraft)):
            assert members[draft.member_id].telegram_user_id not in (STRANGER, STRANGER + 1)
