"""Numeric targets through the real Application, polling the Bot API stand-in: an admin adds a
target for a task in chat (refused lines change nothing, the preview is confirmed once), two
district focal points report on it with a value and a document (one in Vietnamese, one in
English), and /status, the dashboard's JSON and the export show value against target with the
trend per period."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.access import EVERYTHING, Actor
from domain.periods import DueRules
from models import export as export_data
from models import status
from models.db import session_scope
from models.items import reportable_items
from models.rollup import current_period
from models.tables import Item, Member, MemberRole, Plan, Report, Target, TargetValue, Task
from models.types import utcnow
from scheduler.deadlines import sync_items
from tests.bot_harness import Driver, bot_settings_fixture, data_with, driven, stub_fixture  # noqa: F401
from tests.forged import BIG, CHANGED, admin_alerts, press_all, translated
from tests.stub_botapi import SentMessage, StubBotApi
from views import dashboard
from views.export import _write_xlsx
from views.i18n import use_locale

HA_LONG, MONG_CAI, SO_NOI_VU = 21, 22, 2
FP_VI, FP_EN, COORD, ADMIN_VI, ADMIN_EN = 1001, 2001, 3001, 5001, 5002

bot = driven


@pytest.fixture
def cast(plan_engine: Engine, bot_settings: Settings) -> dict[str, Any]:
    """Plan 916's items as of the bot's today; a focal point of Hạ Long (vi) and of Móng Cái
    (en) who owe the same item of a quarterly task, a coordinator, two admins."""
    today = datetime.now(bot_settings.tz).date()
    with session_scope(plan_engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), today, DueRules())
        for tg, agency, role, language in [
            (FP_VI, HA_LONG, MemberRole.FOCAL_POINT, "vi"), (FP_EN, MONG_CAI, MemberRole.FOCAL_POINT, "en"),
            (COORD, SO_NOI_VU, MemberRole.COORDINATOR, "vi"), (ADMIN_VI, SO_NOI_VU, MemberRole.ADMIN, "vi"),
            (ADMIN_EN, SO_NOI_VU, MemberRole.ADMIN, "en"),
        ]:
            s.add(Member(telegram_user_id=tg, agency_id=agency, role=role.value, full_name=f"Cán bộ {tg}",
                         language=language))
        s.flush()
        quarterly = [r for r in reportable_items(s, HA_LONG, today)
                     if s.get(Task, s.get(Item, r.item_id).task_id).cadence == "quarterly"]  # type: ignore[union-attr]
        mine = s.get(Item, quarterly[0].item_id)
        assert mine is not None
        theirs = s.exec(select(Item).where(Item.task_id == mine.task_id, Item.agency_id == MONG_CAI,
                                           Item.period_key == mine.period_key)).one()
        return {"code": quarterly[0].code, "year": mine.period_start.year, "period": mine.period_key,
                "item": mine.id, "their_item": theirs.id, "today": today}


def _targets(engine: Engine) -> list[Target]:
    with session_scope(engine) as s:
        return list(s.exec(select(Target)))


def _values(engine: Engine) -> list[TargetValue]:
    with session_scope(engine) as s:
        return list(s.exec(select(TargetValue).order_by(col(TargetValue.id))))


async def _report(driver: Driver, stub: StubBotApi, user: int, item: int, state: str, value_texts: list[str],
                  file_name: str) -> SentMessage:
    """Open the form from /report, choose ``state``, skip the note, type each value text (the
    last one accepted), send a document, continue: the review."""
    listing = await driver.text(user, "/report")
    await driver.press(user, listing, f"rp:{item}")
    form = stub.last_message(user)
    assert form is not None
    await driver.press(user, form, data_with(form, "d:", f":state:{state}"))
    prompt = driver.message(user, form.message_id)
    if state == "prog":
        await driver.press(user, prompt, data_with(prompt, "d:", ":percent:50"))
        prompt = driver.message(user, form.message_id)
    await driver.press(user, prompt, data_with(prompt, "d:", ":note:keep"))
    answers = [await driver.text(user, text) for text in value_texts]
    await driver.do(stub.send_document(user, file_name, b"%PDF-1.4", "application/pdf"))
    evidence = stub.last_message(user)
    assert evidence is not None and answers
    await driver.press(user, evidence, data_with(evidence, "d:", ":evidence:next"))
    return driver.message(user, evidence.message_id)


async def test_an_admin_sets_a_target_focal_points_report_values_and_status_shows_them(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, cast: dict[str, Any]) -> None:
    driver, code, year = Driver(stub), cast["code"], cast["year"]
    async with bot(bot_settings, plan_engine, driver):
        # --- the admin, in chat: refusals change nothing, then a preview confirmed once
        assert (await driver.text(ADMIN_VI, "/targets")).contains("Chưa có chỉ tiêu định lượng nào.")
        refused = await driver.text(ADMIN_VI, f"/targets {code} {year} 150%")
        assert refused.contains("Giá trị theo % phải từ 0 đến 100. Không có gì được thêm.")
        assert (await driver.text(ADMIN_VI, f"/targets 9.9 {year} 60%")).contains(
            "Kế hoạch không có nhiệm vụ 9.9")
        assert (await driver.text(ADMIN_EN, f"/targets {code} 1999 60%")).contains(
            "The year must be between 2000 and 2100. Nothing was added.")
        assert (await driver.text(FP_VI, f"/targets {code} {year} 60%")).contains(
            "Chỉ quản trị viên mới quản lý")
        assert _targets(plan_engine) == []
        preview = await driver.text(ADMIN_VI, f"/targets {code} {year} 60%")
        assert preview.contains("Thêm chỉ tiêu này?") and preview.contains(f"{code} {year}: ≥ 60%")
        confirm = data_with(preview, "tg:ok:")
        await driver.press(ADMIN_VI, preview, confirm)
        assert driver.message(ADMIN_VI, preview.message_id).contains(
            f"✅ Đã thêm chỉ tiêu: {code} {year}: ≥ 60%.")
        await driver.press(ADMIN_VI, preview, confirm, forged=True)  # a second tap adds nothing
        [target] = _targets(plan_engine)
        assert (target.subject, target.year, target.value, target.unit, target.source) == (
            code, year, 60.0, "%", "admin")
        again = await driver.text(ADMIN_VI, f"/targets {code} {year} 70%")
        assert again.contains("đã có chỉ tiêu cho năm đó") and len(_targets(plan_engine)) == 1
        listing = await driver.text(ADMIN_EN, f"/targets {year}")
        assert listing.contains("Numeric targets")
        assert listing.contains(f"{code} {year}: ≥ 60% (added by an admin)")

        # --- Hạ Long (vi): done, the value is asked; bad values refused; a document as evidence
        review = await _report(driver, stub, FP_VI, cast["item"], "done",
                               ["nhiều lắm", "120%", "đạt 72,5%"], "ket-qua-mot-cua.pdf")
        answers = stub.sent_messages(FP_VI)
        assert any(m.contains(f"Chỉ tiêu năm {year} của nhiệm vụ này là ≥ 60%") for m in answers)
        assert any(m.contains("Vui lòng gửi giá trị đạt được dưới dạng số") for m in answers)
        assert any(m.contains("Giá trị theo % phải từ 0 đến 100.") for m in answers)
        assert review.contains(f"Giá trị đạt được: 72,5% (mục tiêu ≥ 60% năm {year})")
        await driver.press(FP_VI, review, data_with(review, "d:", ":review:ok"))
        assert driver.message(FP_VI, review.message_id).contains("Đã gửi: phiên bản 1")
        card = await driver.text(COORD, "/review")  # the coordinator verifies the value with its file
        assert card.contains(f"🎯 Giá trị đạt được: 72,5% (mục tiêu ≥ 60% năm {year})")

        # --- Móng Cái (en): in progress, may skip but gives 50; the form is in English
        review = await _report(driver, stub, FP_EN, cast["their_item"], "prog", ["50"], "progress.pdf")
        assert any(m.contains(f"This task's target for {year} is ≥ 60%") for m in stub.sent_messages(FP_EN))
        assert review.contains(f"Value reached: 50% (target ≥ 60% in {year})")
        await driver.press(FP_EN, review, data_with(review, "d:", ":review:ok"))

        values = _values(plan_engine)
        with session_scope(plan_engine) as s:
            reports = {r.item_id: r for r in s.exec(select(Report))}
        assert [(v.agency_id, v.value, v.period_key, v.report_id, v.evidence) for v in values] == [
            (HA_LONG, 72.5, cast["period"], reports[cast["item"]].id, "ket-qua-mot-cua.pdf"),
            (MONG_CAI, 50.0, cast["period"], reports[cast["their_item"]].id, "progress.pdf")]

        # --- /status: the coordinator (whole province, vi) and an admin in English
        board = await driver.text(COORD, f"/status {cast['period']}")
        assert board.contains(f"🎯 {code}: 61,25% / mục tiêu ≥ 60% ({year}) ⚠️")
        assert board.contains("trung bình giá trị mới nhất của 2 đơn vị; 1 đơn vị đạt chỉ tiêu")
        board = await driver.text(ADMIN_EN, f"/status {cast['period']}")
        assert board.contains(f"🎯 {code}: 61.25% / target ≥ 60% ({year}) ⚠️")
        assert board.contains("average of the latest values of 2 agencies; 1 of them meets the target")
        # Hạ Long's own focal point sees Hạ Long's value alone.
        own = await driver.text(FP_VI, f"/status {cast['period']}")
        assert own.contains(f"🎯 {code}: 72,5% / mục tiêu ≥ 60% ({year}) ✅")


async def test_the_dashboard_and_the_export_show_value_against_target_and_the_trend(
        plan_engine: Engine, cast: dict[str, Any]) -> None:
    """Two periods of values (an earlier quarter's and this one's): the dashboard's JSON has the
    target, the average of the agencies' latest values and the trend; its HTML draws the line;
    the export has a Targets sheet."""
    code, year, today = cast["code"], cast["year"], cast["today"]
    with session_scope(plan_engine) as s:
        task = s.exec(select(Task).where(Task.code == code)).one()
        target = Target(plan_id=task.plan_id, task_id=task.id, subject=code, year=year, value=60)
        s.add(target)
        s.flush()
        assert target.id is not None
        earlier = utcnow() - timedelta(days=90)
        s.add_all([TargetValue(target_id=target.id, agency_id=HA_LONG, period_key=f"{year}-Q0", value=40,
                               created_at=earlier),
                   TargetValue(target_id=target.id, agency_id=HA_LONG, period_key=cast["period"], value=80),
                   TargetValue(target_id=target.id, agency_id=MONG_CAI, period_key=cast["period"], value=50)])
    admin = Actor(ADMIN_VI, configured_admin=True)
    period = current_period("quarter", today)
    with use_locale("en"):
        page = dashboard.summary_page(status.summary(plan_engine, admin, period, today))
    [shown] = page["data"]["targets"]
    assert (shown["subject"], shown["target"], shown["value"], shown["reporting"], shown["meeting"]) == (
        code, 60.0, 65.0, 2, 1)
    assert shown["trend"] == [{"period": f"{year}-Q0", "value": 40.0},
                              {"period": cast["period"], "value": 65.0}]
    assert '<svg class="trend"' in page["html"] and f"{year}-Q0 40% → {cast['period']} 65%" in page["html"]
    with use_locale("vi"):
        page = dashboard.summary_page(status.summary(plan_engine, admin, period, today))
        assert "Chỉ tiêu định lượng" in page["html"] and "mục tiêu ≥ 60%" in page["html"]
        with session_scope(plan_engine) as s:
            plan = s.exec(select(Plan)).one()
            workbook = _write_xlsx(export_data.load(s, plan, period, today, EVERYTHING,
                                                    ZoneInfo("Asia/Ho_Chi_Minh")))
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(workbook))["Chỉ tiêu"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã", "Nhiệm vụ hoặc chỉ tiêu", "Năm", "Chỉ tiêu")
    assert rows[1][0] == code and rows[1][2] == year and rows[1][3] == "≥ 60%" and rows[1][4] == 65
    assert rows[1][5:7] == (2, 1) and "40%" in str(rows[1][7])


async def test_target_buttons_are_checked_again_on_the_server(
        stub: StubBotApi, bot_settings: Settings, plan_engine: Engine, cast: dict[str, Any]) -> None:
    """A focal point, another admin, a cancelled preview, forged data: nothing is added, every
    press is answered, no error reaches the admins."""
    driver, code, year = Driver(stub), cast["code"], cast["year"]
    async with bot(bot_settings, plan_engine, driver):
        preview = await driver.text(ADMIN_VI, f"/targets {code} {year} ≤ 5 vụ")
        assert preview.contains(f"{code} {year}: ≤ 5 vụ")
        confirm = data_with(preview, "tg:ok:")
        draft_id = confirm.rsplit(":", 1)[1]
        answers = await press_all(stub, FP_VI, preview, [confirm])
        answers += await press_all(stub, ADMIN_EN, preview, [confirm, f"tg:x:{draft_id}"])
        answers += await press_all(stub, ADMIN_VI, preview, [f"tg:ok:{BIG}", "tg:ok:abc", "tg:ok"])
        assert answers[0] == translated("Not allowed.", "vi")
        assert answers[1:3] == [CHANGED, CHANGED]
        assert answers[3:] == [translated(CHANGED, "vi")] * 3
        assert _targets(plan_engine) == []
        await driver.press(ADMIN_VI, preview, data_with(preview, "tg:x:"))
        assert driver.message(ADMIN_VI, preview.message_id).contains("Không có gì được thêm.")
        assert await driver.press(ADMIN_VI, preview, confirm, forged=True) == translated(CHANGED, "vi")
        assert _targets(plan_engine) == [] and not admin_alerts(stub)
