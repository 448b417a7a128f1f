"""Coordinating agencies (issue 13, item 5), through the real bot and the Bot API stand-in: task
6.2 of Plan 916 is led by the social insurance (BHXH) and coordinated by the district People's
Committees. When its period opens, each of Hạ Long's focal points gets one notice (the tasks Hạ
Long coordinates, with their leads), in their language; the lead reports done → they are told;
one adds a contribution with a document; the coordinators' review card, the /status drill-down
and the export show it. Hạ Long never owes 6.2: no item, no reminder, the roll-up unchanged."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import col, func, select

from bot.settings import Settings
from domain.access import EVERYTHING
from domain.periods import DueRules, Period
from models import contributions, coordination
from models.db import session_scope
from models.rollup import compute_rollup
from models.tables import (
    Agency,
    Contribution,
    ContributionDraft,
    Delivery,
    Item,
    Member,
    MemberRole,
    Plan,
    Task,
)
from scheduler.deadlines import sync_due, sync_items
from scheduler.dispatch import dispatch_due
from tests.bot_harness import bot_settings, make_settings, stub  # noqa: F401
from tests.leaders_driver import Driver, data_with, driven
from tests.reminder_helpers import rules
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e
ALWAYS = {"quiet_start": "00:00", "quiet_end": "00:00"}
LEAD_FP, CO_VI, CO_EN, COORD_EN, COORD_VI, STRANGER_FP = 7001, 7002, 7003, 7004, 7005, 7006
NOTE = "Hạ Long đã rà soát danh sách <hộ> & gửi số liệu"


@dataclass(frozen=True)
class World:
    item: int  # BHXH's item of 6.2 in the running period
    period: str
    due_on: date
    bhxh: int
    ha_long: int
    lead_name: str
    today: date


def _add_members(s: Any, agencies: dict[str, Agency]) -> None:
    for tg, code, role, name, language in [
        (LEAD_FP, "BHXH", MemberRole.FOCAL_POINT, "Thảo (BHXH)", "vi"),
        (CO_VI, "HA-LONG", MemberRole.FOCAL_POINT, "Lan <Hạ Long>", "vi"),
        (CO_EN, "HA-LONG", MemberRole.FOCAL_POINT, "Minh", "en"),
        (COORD_EN, "SNV", MemberRole.COORDINATOR, "Hoa (SNV)", "en"),
        (COORD_VI, "SNV", MemberRole.COORDINATOR, "Chị Mai", "vi"),
        (STRANGER_FP, "CA-TINH", MemberRole.FOCAL_POINT, "Tùng (Công an)", "vi"),
    ]:
        s.add(Member(telegram_user_id=tg, agency_id=agencies[code].id, role=role.value, full_name=name,
                     language=language))


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> World:  # noqa: F811
    with session_scope(plan_engine) as s:
        agencies = {a.code: a for a in s.exec(select(Agency))}
        _add_members(s, agencies)
    today = datetime.now(bot_settings.tz).date()
    sync_due(plan_engine, DueRules(), today, tell_coordinating=True)  # the bot's item sync
    with session_scope(plan_engine) as s:
        bhxh, ha_long = agencies["BHXH"], agencies["HA-LONG"]
        item = s.exec(select(Item).join(Task, col(Task.id) == Item.task_id)
                      .where(Task.code == "6.2", Item.agency_id == bhxh.id)).one()
        assert item.id and bhxh.id and ha_long.id
        return World(item.id, item.period_key, item.due_on, bhxh.id, ha_long.id, bhxh.name, today)


def deliveries(engine: Engine, prefix: str) -> list[Delivery]:
    with session_scope(engine) as s:
        return [d for d in s.exec(select(Delivery)) if d.key.startswith(prefix)]


def items_of(engine: Engine, agency_id: int, code: str) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(func.count()).select_from(Item).join(Task, col(Task.id) == Item.task_id)
                          .where(Item.agency_id == agency_id, Task.code == code)).one())


def totals(engine: Engine, world: World) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        plan = s.exec(select(Plan)).one()
        period = Period(world.period, "half", world.due_on, world.due_on, world.due_on)
        found = compute_rollup(s, plan, period, world.due_on, EVERYTHING).totals
        return found.owed, found.done, found.reported


async def test_a_coordinating_agency_is_told_contributes_and_is_seen_never_owing(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, world: World) -> None:  # noqa: F811
    # Hạ Long coordinates 6.2 (and owes nothing for it); each of its focal points has one
    # opening notice for the period, the lead's focal point none.
    assert items_of(plan_engine, world.ha_long, "6.2") == 0
    opening = deliveries(plan_engine, f"coord-open:{world.period}:{world.ha_long}:")
    with session_scope(plan_engine) as s:
        staff = s.exec(select(Member).where(Member.agency_id == world.ha_long))
        ha_long_fps = {m.telegram_user_id for m in staff}
    assert sorted(d.chat_id for d in opening) == sorted(ha_long_fps) == sorted([CO_VI, CO_EN])
    assert not [d for d in deliveries(plan_engine, "coord-open:") if d.chat_id in (LEAD_FP, STRANGER_FP)]
    # A second sync (a restart, another instance) adds nothing.
    sync_due(plan_engine, DueRules(), world.today, tell_coordinating=True)
    assert len(deliveries(plan_engine, f"coord-open:{world.period}:{world.ha_long}:")) == 2
    before = totals(plan_engine, world)

    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver) as app:
        await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
        for chat in (CO_VI, CO_EN):  # one message each for the period, listing the tasks
            assert len([m for m in stub.sent_messages(chat) if "6.2" in m.text]) == 1
        vi, en = stub.last_message(CO_VI), stub.last_message(CO_EN)
        assert vi is not None and en is not None
        assert vi.contains(f"Kỳ {world.period} đã bắt đầu") and vi.contains(world.lead_name)
        assert en.contains(f"Period {world.period} has begun") and en.contains("6.2")
        assert en.contains(f"Lead: {world.lead_name}")
        assert vi.button_texts() == ["➕ Góp ý/đóng góp phối hợp"]
        assert en.button_datas() == [f"cp:{world.period}:0"]
        # The "➕" of the opening notice lists the leads' items of the period.
        await driver.press(CO_EN, en, f"cp:{world.period}:0")
        listing = stub.last_message(CO_EN)
        assert listing is not None and f"ci:{world.item}" in listing.button_datas()

        # The lead reports done through the bot; the coordinating focal points are told.
        answer = await driver.text(LEAD_FP, "6.2 đã xong, báo cáo số 12/BC-BHXH ngày 20/12/2026")
        assert answer.contains("Kiểm tra báo cáo")
        await driver.press(LEAD_FP, answer, data_with(answer, "d:", ":review:ok"))
        await dispatch_due(app.bot, plan_engine, rules(**ALWAYS), default_language="vi")
        told = deliveries(plan_engine, "coord-report:")
        assert sorted(d.chat_id for d in told) == [CO_VI, CO_EN]
        reported = stub.last_message(CO_EN)
        assert reported is not None
        assert reported.contains(f"{world.lead_name} reported 6.2 ({world.period}) done (version 1)")
        assert reported.button_datas() == [f"ci:{world.item}"]
        vi_reported = stub.last_message(CO_VI)
        assert vi_reported is not None and vi_reported.contains("đã báo cáo hoàn thành")

        # A focal point of an agency that does not coordinate 6.2 may not contribute (forged).
        refused = await driver.press(STRANGER_FP, vi_reported, f"ci:{world.item}", forged=True)
        assert refused.startswith("Không được phép")
        with session_scope(plan_engine) as s:
            assert s.exec(select(ContributionDraft)).all() == []

        # Contribute: the note, a document, Send (English).
        await driver.press(CO_EN, reported, f"ci:{world.item}")
        form = stub.last_message(CO_EN)
        assert form is not None and form.contains("Type your agency's contribution")
        empty = await driver.text(CO_EN, "   ")
        assert empty.contains("cannot be empty")
        step = await driver.text(CO_EN, NOTE)
        assert step.contains(f"Contribution: {NOTE}") and step.contains("You may send a document")
        await driver.do(stub.send_document(CO_EN, "so-lieu-ha-long.pdf", b"%PDF-1.4 data", "application/pdf"))
        with_file = stub.last_message(CO_EN)
        assert with_file is not None and with_file.contains("Document: so-lieu-ha-long.pdf")
        await driver.press(CO_EN, with_file, data_with(with_file, "cs:", ":send"))
        done = driver.message(CO_EN, with_file.message_id)
        assert done.contains("Contribution of UBND thành phố Hạ Long recorded for 6.2")
        with session_scope(plan_engine) as s:
            (stored,) = s.exec(select(Contribution)).all()
            assert (stored.item_id, stored.agency_id, stored.note) == (world.item, world.ha_long, NOTE)
            assert stored.file_name == "so-lieu-ha-long.pdf" and stored.file_id
            assert s.exec(select(ContributionDraft)).all() == []

        # The Vietnamese focal point's contribution is refused when it is empty, then recorded.
        await driver.press(CO_VI, vi_reported, f"ci:{world.item}")
        asked = stub.last_message(CO_VI)
        assert asked is not None and asked.contains("Nhập nội dung đóng góp")
        typed = await driver.text(CO_VI, "Đã phối hợp tuyên truyền")
        await driver.press(CO_VI, typed, data_with(typed, "cs:", ":send"))
        assert driver.message(CO_VI, typed.message_id).contains("Đã ghi nhận đóng góp")

        # The coordinator's review card shows both, and the document comes with the lead's files.
        sent_before = len(stub.calls("sendDocument"))
        card = await driver.text(COORD_EN, "/review")
        assert card.contains("2 coordinating contributions")
        assert card.contains(f"UBND thành phố Hạ Long (Minh): {NOTE}")
        assert card.contains("so-lieu-ha-long.pdf")
        documents = stub.calls("sendDocument")[sent_before:]
        assert [c.params["document"] for c in documents] == [stored.file_id]
        vi_card = await driver.text(COORD_VI, "/review")
        assert vi_card.contains("2 đóng góp phối hợp")

        # The /status drill-down's item line of the lead counts them.
        summary = await driver.text(COORD_EN, f"/status {world.period}")
        await driver.press(COORD_EN, summary, f"st:g:{world.period}:{world.bhxh}:0", forged=True)
        assert driver.message(COORD_EN, summary.message_id).contains("2 coordinating contributions")

        # The export: a Coordination sheet; the details still have no row of Hạ Long for 6.2.
        documents_before = len(stub.calls("sendDocument"))
        await driver.text(COORD_EN, f"/export {world.period}")
        call = await stub.await_call("sendDocument", count=documents_before + 1, timeout=60)
        book = openpyxl.load_workbook(io.BytesIO(call.params["document"].content))
        rows = list(book["Coordination"].iter_rows(values_only=True))
        assert rows[0][:6] == ("Task code", "Specific task", "Lead agency", "Reporting period",
                               "Coordinating agency", "Contribution")
        ha_long = "UBND thành phố Hạ Long"
        assert [(r[0], r[2], r[3], r[4], r[5], r[6]) for r in rows[1:]] == [
            ("6.2", world.lead_name, world.period, ha_long, NOTE, "so-lieu-ha-long.pdf"),
            ("6.2", world.lead_name, world.period, ha_long, "Đã phối hợp tuyên truyền", None)]
        details = book["Details"]
        header = [c.value for c in details[2]]
        found = [dict(zip(header, (c.value for c in r), strict=True)) for r in details.iter_rows(min_row=3)]
        assert not [r for r in found if r["Task code"] == "6.2" and r["Agency"] == "UBND thành phố Hạ Long"]

    # Never owing: no item, no reminder for Hạ Long on 6.2; the roll-up moved only by the lead's report.
    assert items_of(plan_engine, world.ha_long, "6.2") == 0
    owed, done, reported_count = totals(plan_engine, world)
    assert owed == before[0] and reported_count == before[2] + 1


async def test_notices_off_tells_nobody(stub: StubBotApi, plan_engine: Engine, db_url: str,  # noqa: F811
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """DONDOC_COORDINATION_NOTICES=off: no opening notice, no notice of the lead's report (the
    coordinators are still told of the report to verify)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_COORDINATION_NOTICES", "off")
    settings = make_settings(stub, db_url)
    assert settings.coordination_notices is False
    with session_scope(plan_engine) as s:
        _add_members(s, {a.code: a for a in s.exec(select(Agency))})
    today = datetime.now(settings.tz).date()
    sync_due(plan_engine, DueRules(), today, tell_coordinating=settings.coordination_notices)
    driver = Driver(stub)
    async with driven(settings, plan_engine, driver):
        answer = await driver.text(LEAD_FP, "6.2 đã xong, báo cáo số 12/BC-BHXH ngày 20/12/2026")
        await driver.press(LEAD_FP, answer, data_with(answer, "d:", ":review:ok"))
    assert deliveries(plan_engine, "coord-") == []
    assert deliveries(plan_engine, "review:")  # the coordinators are still told


def test_who_coordinates_and_for_period(plan_engine: Engine) -> None:
    """Classes expand, leads are left out; for_period reads the contributions of a period."""
    with session_scope(plan_engine) as s:
        agencies = {a.code: a for a in s.exec(select(Agency))}
        _add_members(s, agencies)
    today = date(2026, 12, 2)
    with session_scope(plan_engine) as s:
        plan = s.exec(select(Plan)).one()
        sync_items(s, plan, today, DueRules())
        tasks = {t.code: t for t in s.exec(select(Task))}
        six_two = coordination.coordinators_of(s, tasks["6.2"].id or 0)
        assert agencies["HA-LONG"].id in six_two and agencies["BHXH"].id not in six_two
        assert tasks["6.2"].id in coordination.tasks_coordinated_by(s, agencies["HA-LONG"].id or 0)
        assert tasks["6.2"].id not in coordination.tasks_coordinated_by(s, agencies["BHXH"].id or 0)
        item = s.exec(select(Item).where(Item.task_id == tasks["6.2"].id)).one()
        member = s.exec(select(Member).where(Member.telegram_user_id == CO_VI)).one()
        s.add(Contribution(item_id=item.id or 0, agency_id=agencies["HA-LONG"].id or 0,
                           member_id=member.id or 0, note="Đã phối hợp"))
    with session_scope(plan_engine) as s:
        period = Period(item.period_key, "half", item.period_start, item.due_on, item.due_on)
        rows = contributions.for_period(s, plan.id or 0, period, EVERYTHING)
        assert [(r.code, r.lead, r.agency, r.note) for r in rows] == [
            ("6.2", agencies["BHXH"].name, agencies["HA-LONG"].name, "Đã phối hợp")]
        assert contributions.counts(s, [item.id or 0]) == {item.id: 1}
