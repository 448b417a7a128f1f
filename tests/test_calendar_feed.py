"""Calendar feeds end to end: /calendar in the chat gives a private link, the real web server
answers it with an iCalendar feed (parsed back with ``icalendar``) holding the agency's due dates,
alarms on the reminder days, UIDs that survive re-planning; a new link or a revoke makes the old
one 404; leaders and coordinators get their scope's deadlines summed per task."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from bot.web import make_web_server
from domain.periods import DueRules
from models.calendar_feeds import token_hash
from models.db import session_scope
from models.registry import current_plan
from models.tables import OPEN_STATES, Agency, CalendarFeed, Item, Task
from sandbox.status_data import COMMUNE_FOCAL, COORDINATOR, TODAY, Seeded, seed_status
from scheduler.deadlines import sync_items
from tests.bot_harness import make_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi
from tests.test_dashboard_web import free_port

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/ical/[A-Za-z0-9_-]+\.ics")


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_status(engine)


@pytest.fixture
async def served(stub: StubBotApi, db_url: str, engine: Engine, seeded: Seeded,  # noqa: F811
                 monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> AsyncIterator[Settings]:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    settings = make_settings(stub, db_url, web_base_url=f"http://127.0.0.1:{port}", web_port=port)
    with time_machine.travel(NOW, tick=True):
        async with running_bot(settings, engine) as app:
            server = make_web_server(app, settings)
            server.listen(port, address="127.0.0.1")
            try:
                yield settings
            finally:
                server.stop()


async def ask_link(stub: StubBotApi, user_id: int, count: int = 1) -> str:  # noqa: F811
    message = await stub.await_message(user_id, contains="/ical/", count=count)
    found = LINK.search(message.raw_text or "")
    assert found, message.raw_text
    return found.group(0)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url, timeout=20)


def events(body: bytes) -> list[Any]:
    return [c for c in Calendar.from_ical(body).walk() if c.name == "VEVENT"]


def agency_items(engine: Engine, code: str) -> list[tuple[str, str, date, str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Task.code, Item.period_key, Item.due_on, Item.state, Task.task)
                            .join(Task, col(Task.id) == Item.task_id)
                            .join(Agency, col(Agency.id) == Item.agency_id)
                            .where(Agency.code == code, col(Task.retired_at).is_(None))).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_focal_points_feed(stub: StubBotApi, served: Settings, engine: Engine) -> None:  # noqa: F811
    focal = stub.user(COMMUNE_FOCAL, "Đầu mối", language_code="vi")
    stub.send_text(focal, "/calendar")
    url = await ask_link(stub, COMMUNE_FOCAL)
    answer = await get(url)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/calendar")
    found = events(answer.content)
    items = agency_items(engine, "XA-HONG-GAI")
    assert items and len(found) == len(items)
    by_uid = {str(e["UID"]): e for e in found}
    assert set(by_uid) == {f"{code}.XA-HONG-GAI.{period}@dondoc" for code, period, *_rest in items}
    for code, period, due, state, text in items:
        event = by_uid[f"{code}.XA-HONG-GAI.{period}@dondoc"]
        assert event.decoded("DTSTART") == due
        assert code in str(event["SUMMARY"]) and text[:40] in str(event["DESCRIPTION"])
        alarms = [c for c in event.subcomponents if c.name == "VALARM"]
        triggers = [a.decoded("TRIGGER") for a in alarms]
        if state not in OPEN_STATES or due < TODAY:
            assert alarms == []
            continue
        # The policy's reminders (14, 7, 3, 1 days before and on the day, at 08:30 on working
        # days): the day itself and at most four before it, all still to come.
        local = [t.astimezone(TZ) for t in triggers]
        assert datetime(due.year, due.month, due.day, 8, 30, tzinfo=TZ) in local
        assert len(local) <= 5 and all(NOW <= t <= datetime.combine(due, t.timetz()) for t in local)
        assert all((t.hour, t.minute) == (8, 30) and t.weekday() < 5 for t in local)
    open_codes = {code for code, period, _due, state, _text in items
                  if period == "2026-Q4" and state in OPEN_STATES}
    assert open_codes
    for code in open_codes:
        assert str(by_uid[f"{code}.XA-HONG-GAI.2026-Q4@dondoc"]["SUMMARY"]) == f"{code}: đến hạn báo cáo"

    # Re-planning (the items synced again, a state changed) keeps every UID.
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        sync_items(session, plan, TODAY + timedelta(days=1), DueRules())
        item = session.exec(select(Item).join(Agency, col(Agency.id) == Item.agency_id)
                            .where(Agency.code == "XA-HONG-GAI")).first()
        assert item is not None
        item.state = "verified"
    again = events((await get(url)).content)
    assert {str(e["UID"]) for e in again} == set(by_uid)


async def test_new_link_and_revoke(stub: StubBotApi, served: Settings, engine: Engine) -> None:  # noqa: F811
    focal = stub.user(COMMUNE_FOCAL, "Đầu mối", language_code="vi")
    stub.send_text(focal, "/calendar")
    first = await ask_link(stub, COMMUNE_FOCAL)
    assert (await get(first)).status_code == 200
    with session_scope(engine) as session:  # only the hash is stored
        stored = session.exec(select(CalendarFeed.token_hash)).all()
    token = first.rsplit("/", 1)[1].removesuffix(".ics")
    assert stored == [token_hash(token)] and token not in stored

    # /calendar again: the link is not shown twice, the buttons make a new one or revoke it
    stub.send_text(focal, "/calendar")
    again = await stub.await_message(COMMUNE_FOCAL, contains="Bạn đã có liên kết lịch")
    assert "/ical/" not in (again.raw_text or "")
    stub.press_button(focal, again, "cal:n")
    second = await stub.await_for(lambda: (m := LINK.search(_latest(stub, again))) and m.group(0))
    assert second != first
    assert (await get(first)).status_code == 404
    assert (await get(second)).status_code == 200
    stub.press_button(focal, again, "cal:x")
    await stub.await_for(lambda: "Liên kết lịch của bạn đã ngừng hoạt động" in _latest(stub, again))
    assert (await get(second)).status_code == 404
    assert (await get(first.rsplit("/", 1)[0] + "/" + "A" * 32 + ".ics")).status_code == 404


def _latest(stub: StubBotApi, message: Any) -> str:  # noqa: F811
    current = next((m for m in stub.sent_messages(message.chat_id) if m.message_id == message.message_id),
                   message)
    return current.raw_text or ""


async def test_coordinators_feed_sums_their_scope(stub: StubBotApi, served: Settings,  # noqa: F811
                                                  engine: Engine) -> None:
    coordinator = stub.user(COORDINATOR, "Điều phối", language_code="vi")
    stub.send_text(coordinator, "/calendar")
    found = events((await get(await ask_link(stub, COORDINATOR))).content)
    with session_scope(engine) as session:
        rows = session.exec(select(Task.code, Item.period_key, Item.state)
                            .join(Task, col(Task.id) == Item.task_id)
                            .where(col(Task.retired_at).is_(None))).all()
    groups: dict[tuple[str, str], list[str]] = {}
    for code, period, state in rows:
        groups.setdefault((code, period), []).append(state)
    assert {str(e["UID"]) for e in found} == {f"{c}.all.{p}@dondoc" for c, p in groups}
    code, period = next(iter(groups))
    event = next(e for e in found if str(e["UID"]) == f"{code}.all.{period}@dondoc")
    owing = sum(1 for s in groups[(code, period)] if s in OPEN_STATES)
    assert f"{owing}/{len(groups[(code, period)])}" in str(event["SUMMARY"])


async def test_strangers_and_groups_get_no_link(stub: StubBotApi, served: Settings) -> None:  # noqa: F811
    stranger = stub.user(777, "Ai đó", language_code="vi")
    stub.send_text(stranger, "/calendar")
    refusal = await stub.await_message(777, contains="Chỉ thành viên đã đăng ký")
    assert "/ical/" not in (refusal.raw_text or "")
