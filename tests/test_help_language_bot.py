"""Language and help (issue 12, item 8) and groups and deactivated members (item 9), through the
real bot and the Bot API stand-in: a role-aware /help (three first steps, only the role's
commands) for a focal point, a leader, a coordinator, an admin and a stranger, in Vietnamese and
English; /language stored in the database and used at once; each member's own command menu
(BotCommandScopeChat); in a group only commands addressed to the bot, personal ones sent to the
private chat with a deep link; a deactivated member told so."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.settings import Settings
from models import invitations
from models.db import session_scope
from models.tables import Agency, Member
from tests.bot_harness import bot_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.leaders_world import ADMIN_EN, COORD_EN, FP_EN, FP_VI, LEADER_VI, World, build
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e
STRANGER = 5999
BOT = "@dondoc_test_bot"


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> World:  # noqa: F811
    return build(plan_engine, datetime.now(bot_settings.tz).date())


def commands(api: StubBotApi, chat: int) -> list[str]:
    return [c["command"] for c in api.commands({"type": "chat", "chat_id": chat})]


def language_of(engine: Engine, telegram_id: int) -> str | None:
    with session_scope(engine) as s:
        return s.exec(select(Member.language).where(Member.telegram_user_id == telegram_id)).one()


async def test_help_fits_the_role(stub: StubBotApi, bot_settings: Settings, plan_engine: Engine,  # noqa: F811
                                  world: World) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        focal = (await driver.text(FP_VI, "/help")).text or ""
        assert "1. Tôi nhắc bạn tại đây trước mỗi thời hạn" in focal
        assert "3. Cán bộ điều phối xác nhận" in focal
        assert "/report – Báo cáo một nhiệm vụ" in focal and "/cancel" in focal and "/language" in focal
        assert "/review" not in focal and "/invite" not in focal and "/audit" not in focal

        leader = (await driver.text(LEADER_VI, "/help")).text or ""
        assert "1. Hằng tuần tôi gửi bản tin tổng hợp" in leader
        assert "/review – Các báo cáo đang chờ xác nhận" in leader and "/status" in leader
        # /report (a focal point's) is not offered; /report_doc (the official report) is.
        assert "/report " not in leader and "/report_doc – Báo cáo chính thức của kỳ (Word)" in leader
        assert "/cancel" not in leader and "(coordinators)" not in leader

        coordinator = (await driver.text(COORD_EN, "/help")).text or ""
        assert "1. /review: verify the reports waiting for you" in coordinator
        assert "/review – Verify reports" in coordinator and "/event" in coordinator
        assert "/broadcast" in coordinator and "/cancel" in coordinator and "/report " not in coordinator

        admin = (await driver.text(ADMIN_EN, "/help")).text or ""
        assert "1. /invite makes invitation links" in admin
        assert all(f"/{c} –" in admin for c in ("invite", "members", "audit", "groups"))

        stranger = (await driver.text(STRANGER, "/help")).text or ""
        assert "1. Đề nghị Sở Nội vụ" in stranger
        assert [line.split(" –")[0] for line in stranger.splitlines() if line.startswith("/")] == [
            "/start", "/help", "/language"]

        # Each member's own menu, set with their first update: their role, their language.
        assert commands(stub, FP_VI)[:4] == ["start", "help", "tasks", "report"]
        assert "review" in commands(stub, LEADER_VI) and "report" not in commands(stub, LEADER_VI)
        assert "audit" in commands(stub, ADMIN_EN)
        menu = stub.commands({"type": "chat", "chat_id": FP_VI})
        assert menu[3]["description"] == "Báo cáo một nhiệm vụ"
        # Everyone else's (the default menu): what a stranger may do.
        assert [c["command"] for c in stub.commands()] == ["start", "help", "language"]


async def test_language_is_chosen_stored_and_used(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                  plan_engine: Engine, world: World) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        choice = await driver.text(FP_VI, "/language")
        assert choice.contains("Bạn muốn tôi dùng ngôn ngữ nào? Hiện tại: Tiếng Việt")
        assert choice.button_texts() == ["✅ 🇻🇳 Tiếng Việt", "🇬🇧 English"]
        answer = await driver.press(FP_VI, choice, data_with(choice, "lg:en"))
        assert answer == "Done: I will speak English with you from now on."
        assert language_of(plan_engine, FP_VI) == "en"
        menu = stub.commands({"type": "chat", "chat_id": FP_VI})
        assert menu[3] == {"command": "report", "description": "Report on a task"}
        again = await driver.text(FP_VI, "/help")
        assert again.contains("1. I remind you here before each deadline")
        # And back; a forged language changes nothing.
        assert "This has changed" in await driver.press(FP_VI, choice, "lg:fr", forged=True)
        assert language_of(plan_engine, FP_VI) == "en"
        await driver.press(FP_VI, choice, "lg:vi")
        assert language_of(plan_engine, FP_VI) == "vi"
        # Someone not registered: nothing to store.
        offer = await driver.text(STRANGER, "/language")
        assert "chỉ được lưu cho thành viên" in await driver.press(STRANGER, offer, "lg:en")


async def test_groups_answer_only_commands_addressed_to_the_bot(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, world: World) -> None:  # noqa: F811
    driver, group = Driver(stub), -800
    stub.group(group, "Lãnh đạo & đầu mối")
    async with driven(bot_settings, plan_engine, driver):
        for bare in ("/status", "/tasks", "/help", "/start"):
            await driver.do(stub.send_text(LEADER_VI, bare, group))
        await driver.do(stub.send_text(LEADER_VI, "/status@another_bot", group))
        assert stub.sent_messages(group) == []
        status = await driver.text(LEADER_VI, f"/status{BOT} 2026-Q4", group)
        assert status.contains("Tình hình thực hiện") or status.contains("Kế hoạch")
        redirect = await driver.text(FP_EN, f"/tasks{BOT}", group)
        assert redirect.text is not None
        assert "/tasks is personal: it works in a private chat with me" in redirect.text
        assert "https://t.me/dondoc_test_bot?start=help" in redirect.text
        assert not any(m.contains("Nhiệm vụ của") for m in stub.sent_messages(group))
        # The deep link opens the private chat on /help.
        opened = await driver.text(FP_EN, "/start help")
        assert opened.contains("I remind you here before each deadline") and opened.contains("/tasks")


async def test_a_deactivated_member_is_told_so(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                              plan_engine: Engine, world: World) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        listing = await driver.text(FP_EN, "/tasks")
        with session_scope(plan_engine) as s:
            member = s.exec(select(Member).where(Member.telegram_user_id == FP_EN)).one()
            member.active = False
        for text in ("/tasks", "/start", "4.2a đã xong rồi"):
            told = await driver.text(FP_EN, text)
            assert told.contains("Your membership has been deactivated"), text
            assert not told.contains("not registered")
        assert "deactivated" in await driver.press(FP_EN, listing, listing.button_datas()[0])
        vietnamese = await driver.text(FP_VI, "/tasks")  # the others go on as before
        assert not vietnamese.contains("ngừng")


async def test_welcome_texts_fit_the_role(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                          plan_engine: Engine, world: World) -> None:
    with session_scope(plan_engine) as s:
        ha_long = s.exec(select(Agency.id).where(Agency.code == "HA-LONG")).one()
        leader_token = invitations.create_invitation(s, agency_id=ha_long, role="leader", max_uses=1,
                                                     created_by="cli").token
        focal_token = invitations.create_invitation(s, agency_id=ha_long, role="focal_point",
                                                    max_uses=1, created_by="cli").token
    new_leader, new_focal = 6001, 6002
    stub.user(new_leader, "Tuấn", language_code="vi")
    stub.user(new_focal, "Jane", language_code="en")
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        welcome = (await driver.text(new_leader, f"/start {leader_token}")).text or ""
        assert "Chào mừng Tuấn! Bạn đã được đăng ký tại UBND thành phố Hạ Long với vai trò lãnh đạo" \
            in welcome
        assert "Hằng tuần tôi gửi bản tin tổng hợp" in welcome
        assert "nhắc bạn tại đây các thời hạn" not in welcome  # not a focal point's promise
        assert "review" in commands(stub, new_leader) and "report" not in commands(stub, new_leader)
        english = (await driver.text(new_focal, f"/start {focal_token}")).text or ""
        assert "Welcome, Jane! You are now registered for UBND thành phố Hạ Long as focal point" in english
        assert "I remind you here before each deadline" in english
        assert commands(stub, new_focal)[:4] == ["start", "help", "tasks", "report"]
        assert stub.commands({"type": "chat", "chat_id": new_focal})[3]["description"] == "Report on a task"
        hello = (await driver.text(new_leader, "/start")).text or ""
        assert "Bạn đã đăng ký tại UBND thành phố Hạ Long với vai trò lãnh đạo" in hello
        assert "1. Hằng tuần tôi gửi bản tin" in hello


async def test_an_unknown_command_is_answered(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                              plan_engine: Engine, world: World) -> None:
    """A typo or an old command gets an answer pointing to /help, in the person's language;
    a stranger too; nothing for a group's unknown commands (groups answer their own only)."""
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        vi = (await driver.text(FP_VI, "/baocao 3.1b")).text or ""
        assert vi == "Tôi không biết lệnh /baocao. Gửi /help để xem các lệnh của bạn."
        en = (await driver.text(COORD_EN, "/reveiw")).text or ""
        assert en == "I do not know the command /reveiw. Send /help to see yours."
        stranger = (await driver.text(STRANGER, "/<b>x</b>")).raw_text or ""
        assert stranger == "Tôi không biết lệnh /&lt;b&gt;x&lt;/b&gt;. Gửi /help để xem các lệnh của bạn."
