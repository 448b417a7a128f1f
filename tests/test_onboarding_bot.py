"""Onboarding through the real bot (Application + long polling against the Bot API stand-in):
invitation links, /start, /invite, /members, forged and stale buttons, escaping, group chats."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot.settings import Settings
from models import app_state, invitations
from models.agencies import find_agency
from models.db import session_scope
from models.tables import AuditLog, Invitation, Member
from models.types import utcnow
from tests.bot_harness import bot_settings_fixture, make_settings, running_bot, stub_fixture  # noqa: F401
from tests.stub_botapi import SentMessage, StubBotApi

ADMIN_ID = 9001
LINK = re.compile(r"https://t\.me/dondoc_test_bot\?start=([A-Za-z0-9_-]+)")


@pytest.fixture
def admin_settings(stub: StubBotApi, bot_settings: Settings) -> Settings:
    return make_settings(stub, bot_settings.database_url, admin_ids=str(ADMIN_ID))


def agency_id(engine: Engine, code: str = "SNV") -> int:
    with Session(engine) as s:
        agency = find_agency(s, code)
        assert agency is not None and agency.id is not None
        return agency.id


def new_invitation(engine: Engine, *, role: str = "focal_point", uses: int = 1, code: str = "SNV") -> str:
    with session_scope(engine) as s:
        return invitations.create_invitation(s, agency_id=agency_id(engine, code), role=role,
                                             max_uses=uses, created_by="cli").token


def add_member(engine: Engine, user_id: int, *, role: str = "focal_point", code: str = "SNV",
               name: str = "Nguyễn Văn A") -> int:
    with session_scope(engine) as s:
        member = Member(telegram_user_id=user_id, agency_id=agency_id(engine, code), role=role,
                        full_name=name)
        s.add(member)
        s.flush()
        assert member.id is not None
        return member.id


def member(engine: Engine, user_id: int) -> Member | None:
    with Session(engine) as s:
        return s.exec(select(Member).where(Member.telegram_user_id == user_id)).first()


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def current(api: StubBotApi, message: SentMessage) -> SentMessage:
    return next(m for m in api.sent_messages(message.chat_id) if m.message_id == message.message_id)


async def press(api: StubBotApi, user: dict[str, Any], message: SentMessage, data: str, *,
                forged: bool = False) -> dict[str, Any]:
    """Press a button; wait for the answer and, unless refused, for the message's edit."""
    before = current(api, message).edit_count
    update = api.press_button(user, message, data, forged=forged)
    query_id = update["callback_query"]["id"]
    await api.await_for(lambda: api.callback_answer(query_id) is not None)
    answer = api.callback_answer(query_id) or {}
    if not answer.get("show_alert"):
        await api.await_for(lambda: current(api, message).edit_count > before)
    return answer


def find_button(api: StubBotApi, message: SentMessage, prefix: str) -> str:
    return next(d for d in current(api, message).button_datas() if d.startswith(prefix))


# --- invitation links ---------------------------------------------------------------------

async def test_link_registers_in_vietnamese(plan_engine: Engine, stub: StubBotApi,
                                            bot_settings: Settings) -> None:
    token = new_invitation(plan_engine, role="coordinator")
    lan = stub.user(2001, "Lan", last_name="Trần", username="lan_snv", language_code="vi")
    async with running_bot(bot_settings, plan_engine):
        stub.send_text(lan, f"/start {token}")
        welcome = await stub.await_message(2001, contains="Sở Nội vụ")
    assert "Chào mừng" in (welcome.text or "") and "điều phối" in (welcome.text or "")
    registered = member(plan_engine, 2001)
    assert registered is not None and registered.agency_id == agency_id(plan_engine)
    assert (registered.role, registered.language, registered.username) == ("coordinator", "vi", "lan_snv")
    assert registered.full_name == "Lan Trần"


async def test_english_user_is_answered_in_english(plan_engine: Engine, stub: StubBotApi,
                                                   bot_settings: Settings) -> None:
    token = new_invitation(plan_engine)
    john = stub.user(2002, "John", language_code="en-US")
    async with running_bot(bot_settings, plan_engine):
        stub.send_text(john, f"/start {token}")
        welcome = await stub.await_message(2002, contains="Welcome")
    assert "Sở Nội vụ" in (welcome.text or "") and "focal point" in (welcome.text or "")
    registered = member(plan_engine, 2002)
    assert registered is not None and registered.language == "en"


async def test_bad_tokens_register_nothing(plan_engine: Engine, stub: StubBotApi,
                                           bot_settings: Settings) -> None:
    expired = new_invitation(plan_engine)
    with session_scope(plan_engine) as s:
        row = s.exec(select(Invitation).where(Invitation.token == expired)).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
    used = new_invitation(plan_engine)
    first, second, third, fourth = (stub.user(3000 + i, f"U{i}", language_code="en") for i in range(4))
    async with running_bot(bot_settings, plan_engine):
        stub.send_text(first, "/start not-a-real-token")
        await stub.await_message(3000, contains="not valid")
        stub.send_text(second, f"/start {expired}")
        await stub.await_message(3001, contains="expired")
        stub.send_text(third, f"/start {used}")
        await stub.await_message(3002, contains="Welcome")
        stub.send_text(fourth, f"/start {used}")
        await stub.await_message(3003, contains="already been used")
        stub.send_text(first, "/start <b>&amp;")
        await stub.await_message(3000, contains="not valid", count=2)
    assert [m.telegram_user_id for m in _members(plan_engine)] == [3002]


def _members(engine: Engine) -> list[Member]:
    with Session(engine) as s:
        return list(s.exec(select(Member).order_by(Member.telegram_user_id)))  # type: ignore[arg-type]


async def test_two_use_link_used_by_three(plan_engine: Engine, stub: StubBotApi,
                                          bot_settings: Settings) -> None:
    token = new_invitation(plan_engine, uses=2)
    people = [stub.user(4000 + i, f"P{i}", language_code="en") for i in range(3)]
    async with running_bot(bot_settings, plan_engine):
        for person in people:
            stub.send_text(person, f"/start {token}")
        # Handled concurrently (three people): any two of them get the two uses.
        answers = [await stub.await_message(4000 + i) for i in range(3)]
        welcomed = [4000 + i for i, a in enumerate(answers) if a.contains("Welcome")]
        refused = [4000 + i for i, a in enumerate(answers) if a.contains("already been used")]
        assert len(welcomed) == 2 and len(refused) == 1, [a.text for a in answers]
        stub.send_text(people[welcomed[0] - 4000], f"/start {token}")  # re-opening one's own link
        await stub.await_message(welcomed[0], contains="already registered")
    assert sorted(m.telegram_user_id for m in _members(plan_engine)) == welcomed
    with Session(plan_engine) as s:
        assert s.exec(select(Invitation.uses)).one() == 2


async def test_start_without_token_reveals_nothing(plan_engine: Engine, stub: StubBotApi,
                                                   bot_settings: Settings) -> None:
    new_invitation(plan_engine)
    add_member(plan_engine, 5001, name="Bí Mật", code="STTTT")
    stranger = stub.user(5002, "Khách")
    async with running_bot(bot_settings, plan_engine):
        stub.send_text(stranger, "/start")
        answer = await stub.await_message(5002)
        stub.send_text(stranger, "xin chào, tôi muốn báo cáo")
        second = await stub.await_message(5002, count=2)
    text = answer.text or ""
    assert "Khách" in text and "mời" in text.lower()
    assert "Thông tin" not in text and "Bí Mật" not in text and "t.me" not in text
    assert "mời" in (second.text or "").lower() and "Bí Mật" not in (second.text or "")
    assert count(plan_engine, Member) == 1


async def test_name_with_html_and_emoji_is_escaped(plan_engine: Engine, stub: StubBotApi,
                                                   admin_settings: Settings) -> None:
    token = new_invitation(plan_engine)
    tricky = stub.user(6001, "<b>Tom & Jerry", last_name="🐱</i>", username="tom_j", language_code="en")
    admin = stub.user(ADMIN_ID, "Admin", language_code="en")
    async with running_bot(admin_settings, plan_engine):
        stub.send_text(tricky, f"/start {token}")
        welcome = await stub.await_message(6001, contains="Welcome")
        stub.send_text(admin, "/members")
        listing = await stub.await_message(ADMIN_ID, contains="Members")
        await press(stub, admin, listing, find_button(stub, listing, "mb:v:"))
    assert "<b>Tom & Jerry 🐱</i>" in (welcome.text or "")
    assert "<b>Tom & Jerry 🐱</i>" in (current(stub, listing).text or "")
    registered = member(plan_engine, 6001)
    assert registered is not None and registered.full_name == "<b>Tom & Jerry 🐱</i>"
    assert not [c for c in stub.calls() if not c.ok and c.method != "getUpdates"]


# --- /invite ------------------------------------------------------------------------------

async def test_non_admin_cannot_invite(plan_engine: Engine, stub: StubBotApi,
                                       bot_settings: Settings) -> None:
    add_member(plan_engine, 7001)
    focal = stub.user(7001, "Focal", language_code="en")
    async with running_bot(bot_settings, plan_engine):
        stub.send_text(focal, "/invite")
        refusal = await stub.await_message(7001, contains="Only administrators")
        snv = agency_id(plan_engine)
        answer = await press(stub, focal, refusal, f"iv:u:{snv}:admin:50", forged=True)
        stub.send_text(focal, "/members")
        await stub.await_message(7001, contains="Only administrators can manage")
    assert answer["text"] == "Not allowed." and answer["show_alert"]
    assert refusal.reply_markup is None and count(plan_engine, Invitation) == 0


async def test_admin_invite_flow_gives_a_working_link(plan_engine: Engine, stub: StubBotApi,
                                                      admin_settings: Settings) -> None:
    admin = stub.user(ADMIN_ID, "Admin", language_code="en")
    newcomer = stub.user(7101, "Hoa", language_code="vi")
    snv = agency_id(plan_engine)
    async with running_bot(admin_settings, plan_engine):
        stub.send_text(admin, "/invite")
        picker = await stub.await_message(ADMIN_ID, contains="Which agency")
        while f"iv:a:{snv}" not in current(stub, picker).button_datas():
            datas = current(stub, picker).button_datas()
            page = int(datas[-1].split(":")[2])  # the last button turns to the next page
            await press(stub, admin, picker, f"iv:p:{page}")
        assert all(len(d.encode()) <= 64 for d in current(stub, picker).button_datas())
        await press(stub, admin, picker, f"iv:a:{snv}")
        await press(stub, admin, picker, f"iv:r:{snv}:leader")
        answer = await press(stub, admin, picker, f"iv:u:{snv}:leader:2")
        done = current(stub, picker)
        match = LINK.search(done.text or "")
        assert match is not None and answer["text"] == "Invitation created."
        stub.send_text(newcomer, f"/start {match.group(1)}")
        await stub.await_message(7101, contains="Chào mừng")
    assert "up to 2 people" in (done.text or "") and done.reply_markup is None
    registered = member(plan_engine, 7101)
    assert registered is not None and (registered.role, registered.agency_id) == ("leader", snv)
    with Session(plan_engine) as s:
        assert app_state.bot_username(s) == "dondoc_test_bot"
        assert s.exec(select(Invitation.created_by)).one() == f"telegram:{ADMIN_ID}"


async def test_forged_invite_buttons_change_nothing(plan_engine: Engine, stub: StubBotApi,
                                                    admin_settings: Settings) -> None:
    admin = stub.user(ADMIN_ID, "Admin", language_code="en")
    snv = agency_id(plan_engine)
    async with running_bot(admin_settings, plan_engine):
        stub.send_text(admin, "/invite")
        picker = await stub.await_message(ADMIN_ID, contains="Which agency")
        answers = [await press(stub, admin, picker, data, forged=True) for data in (
            "iv:a:999999", f"iv:u:{snv}:emperor:1", f"iv:u:{snv}:leader:7", "iv:x", "iv:a:-1",
            "iv:a:" + "9" * 40, "iv:u:999999:leader:1")]
    texts = [a["text"] for a in answers]
    assert texts[0].startswith("This has changed") and texts[-1].startswith("This has changed")
    assert texts[1:-1] == ["Not allowed."] * 5
    assert count(plan_engine, Invitation) == 0


# --- /members -----------------------------------------------------------------------------

async def test_admin_moves_changes_role_and_deactivates(plan_engine: Engine, stub: StubBotApi,
                                                        admin_settings: Settings) -> None:
    target = add_member(plan_engine, 8001, name="Phạm Thu")
    admin = stub.user(ADMIN_ID, "Admin", language_code="en")
    sttt = agency_id(plan_engine, "STTTT")
    snv = agency_id(plan_engine)
    async with running_bot(admin_settings, plan_engine):
        stub.send_text(admin, "/members")
        screen = await stub.await_message(ADMIN_ID, contains="Members")
        await press(stub, admin, screen, f"mb:v:{target}")
        await press(stub, admin, screen, f"mb:m:{target}:{snv}:0")
        while f"mb:ma:{target}:{snv}:{sttt}" not in current(stub, screen).button_datas():
            page = int(find_button(stub, screen, f"mb:m:{target}:{snv}:").split(":")[-1])
            nxt = [d for d in current(stub, screen).button_datas() if d.startswith("mb:m:")]
            await press(stub, admin, screen, nxt[-1] if len(nxt) > 1 or page == 1 else nxt[0])
        await press(stub, admin, screen, f"mb:ma:{target}:{snv}:{sttt}")
        assert "Confirm" in current(stub, screen).button_texts()
        answer = await press(stub, admin, screen, f"mb:mo:{target}:{snv}:{sttt}")
        assert answer["text"] == "Moved."
        await press(stub, admin, screen, f"mb:r:{target}:focal_point")
        await press(stub, admin, screen, f"mb:ra:{target}:focal_point:leader")
        await press(stub, admin, screen, f"mb:ro:{target}:focal_point:leader")
        await press(stub, admin, screen, f"mb:d:{target}")
        await press(stub, admin, screen, f"mb:do:{target}")
        assert "deactivated" in (current(stub, screen).text or "")
    moved = member(plan_engine, 8001)
    assert moved is not None and (moved.agency_id, moved.role, moved.active) == (sttt, "leader", False)
    with Session(plan_engine) as s:
        actions = list(s.exec(select(AuditLog.action).where(AuditLog.entity == "member")))
    assert actions == ["member.move", "member.role", "member.deactivate"]


async def test_stale_and_forged_member_buttons(plan_engine: Engine, stub: StubBotApi,
                                               admin_settings: Settings) -> None:
    target = add_member(plan_engine, 8101, name="Đỗ Minh")
    add_member(plan_engine, 8102, role="admin", name="Admin Two")
    snv = agency_id(plan_engine)
    one = stub.user(ADMIN_ID, "Admin One", language_code="en")
    two = stub.user(8102, "Admin Two", language_code="en")
    async with running_bot(admin_settings, plan_engine):
        stub.send_text(one, "/members")
        old = await stub.await_message(ADMIN_ID, contains="Members")
        await press(stub, one, old, f"mb:v:{target}")  # admin one looks at the member ...
        stub.send_text(two, "/members")
        fresh = await stub.await_message(8102, contains="Members")
        await press(stub, two, fresh, f"mb:v:{target}")
        await press(stub, two, fresh, f"mb:d:{target}")
        await press(stub, two, fresh, f"mb:do:{target}")  # ... admin two deactivates them
        with Session(plan_engine) as s:
            audits = s.exec(select(func.count()).select_from(AuditLog)).one()
        stale = [await press(stub, one, old, data) for data in (
            f"mb:d:{target}", f"mb:m:{target}:{snv}:0", f"mb:r:{target}:focal_point")]
        forged = [await press(stub, one, old, data, forged=True) for data in (
            f"mb:do:{target}", f"mb:ro:{target}:focal_point:admin", "mb:v:999999",
            f"mb:mo:{target}:{snv}:999999", f"mb:ro:{target}:focal_point:king", "mb:zz:1",
            f"mb:do:{ADMIN_ID}")]
        outsider = stub.user(8199, "Outsider", language_code="en")
        refused = await press(stub, outsider, old, f"mb:eo:{target}", forged=True)
    assert all(a["text"].startswith("This has changed") for a in stale + forged[:4])
    assert [a["text"] for a in forged[4:]] == ["Not allowed.", "Not allowed.", "This has changed in the "
                                               "meantime; nothing was done. Please open the list again."]
    assert refused["text"] == "Not allowed."
    target_now = member(plan_engine, 8101)
    assert target_now is not None and not target_now.active and target_now.role == "focal_point"
    with Session(plan_engine) as s:
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == audits


# --- group chats --------------------------------------------------------------------------

async def test_personal_commands_in_a_group_point_to_the_private_chat(
        plan_engine: Engine, stub: StubBotApi, admin_settings: Settings) -> None:
    token = new_invitation(plan_engine)
    admin = stub.user(ADMIN_ID, "Admin", language_code="en")
    group = stub.group(-100123, "Sở Nội vụ - đầu mối")
    async with running_bot(admin_settings, plan_engine):
        # Addressed to the bot: bare commands in a group are everyone's, not answered (test_gate_bot).
        for command in ("/invite@dondoc_test_bot", "/members@dondoc_test_bot",
                        f"/start@dondoc_test_bot {token}"):
            stub.send_text(admin, command, chat=group)
        await stub.await_message(-100123, contains="private chat", count=3)
    messages = stub.sent_messages(-100123)
    assert len(messages) == 3
    assert all("https://t.me/dondoc_test_bot" in (m.text or "") and m.reply_markup is None
               for m in messages)
    assert all("Sở" not in (m.text or "") for m in messages)
    assert count(plan_engine, Member) == 0 and count(plan_engine, Invitation) == 1
