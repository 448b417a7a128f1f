"""/review through the real Application: each role sees the waiting reports of its own scope
(domain.access.scope_of), the list is paged without cutting a card's HTML, and every forged
button of the converted flows (/tasks, /report, drafts, /review, /invite, /members) is answered
with "this has changed" or "not allowed", changes nothing and alerts no admin."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.settings import Settings
from domain.periods import DueRules
from models import reports as svc
from models.db import session_scope
from models.items import reportable_items
from models.tables import AuditLog, Invitation, Member, MemberRole, Plan, Report, ReportDraft
from models.types import utcnow
from scheduler.deadlines import sync_items
from tests.bot_harness import Driver, bot_settings_fixture, driven, stub_fixture  # noqa: F401
from tests.forged import BIG, admin_alerts, press_all
from tests.stub_botapi import StubBotApi

SO_NOI_VU, HA_LONG, MONG_CAI = 2, 21, 22
FP_HL, FP_MC, SNV_COORD, HL_COORD, HL_LEADER, ADMIN = 1001, 1002, 3001, 3002, 4001, 5001
HL_REPORTS = 7


def _done_report(engine: Engine, telegram_user_id: int, item_id: int, note: str) -> int:
    """A done report with a document number, submitted through the models (waiting for review)."""
    now = utcnow() - timedelta(minutes=1)
    with session_scope(engine) as s:
        member = s.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).one()
        draft = svc.start_draft(s, member, item_id, now=now)
        assert draft.id is not None
        svc.set_state(s, member, draft.id, "done", now=now)
        svc.set_note(s, member, draft.id, note, now=now)
        svc.set_document_number(s, member, draft.id, "Số 125/BC-UBND ngày 20/12/2026", now=now)
        svc.finish_evidence(s, member, draft.id, now=now)
        return svc.submit(s, member, draft.id, now=now).report.id or 0


@pytest.fixture
def world(plan_engine: Engine, bot_settings: Settings) -> dict[str, Any]:
    """Seven waiting reports of Hạ Long (notes full of markup, 900 characters), one of Móng Cái."""
    today = datetime.now(bot_settings.tz).date()
    with session_scope(plan_engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), today, DueRules())
        for tg, agency, role in [(FP_HL, HA_LONG, MemberRole.FOCAL_POINT),
                                 (FP_MC, MONG_CAI, MemberRole.FOCAL_POINT),
                                 (SNV_COORD, SO_NOI_VU, MemberRole.COORDINATOR),
                                 (HL_COORD, HA_LONG, MemberRole.COORDINATOR),
                                 (HL_LEADER, HA_LONG, MemberRole.LEADER),
                                 (ADMIN, SO_NOI_VU, MemberRole.ADMIN)]:
            s.add(Member(telegram_user_id=tg, agency_id=agency, role=role.value, full_name=f"User {tg}"))
        s.flush()
        hl = [r.item_id for r in reportable_items(s, HA_LONG, today)][:HL_REPORTS]
        mc = reportable_items(s, MONG_CAI, today)[0].item_id
    notes = [f"Hạ Long <b>{n}</b> & " + "x" * 900 for n in range(HL_REPORTS)]
    hl_reports = [_done_report(plan_engine, FP_HL, item, note) for item, note in zip(hl, notes, strict=True)]
    mc_report = _done_report(plan_engine, FP_MC, mc, "Móng Cái <i>xong</i>")
    return {"hl": hl_reports, "mc": mc_report, "mc_item": mc}


def review_states(engine: Engine) -> list[tuple[int, str | None]]:
    with session_scope(engine) as s:
        return [(r.id or 0, r.review_state) for r in s.exec(select(Report).order_by(col(Report.id)))]


async def test_review_is_scoped_by_role_and_paged(stub: StubBotApi, bot_settings: Settings,
                                                  plan_engine: Engine, world: dict[str, Any]) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        # The coordinator of Sở Nội vụ verifies for the whole province: all eight wait.
        province = await driver.text(SNV_COORD, "/review")
        assert province.contains("(8 báo cáo đang chờ") and province.contains("Hạ Long")
        assert any(d.startswith(f"rv:{world['hl'][0]}:1:") for d in province.button_datas())
        # Hạ Long's own coordinator: only Hạ Long's seven; Móng Cái's report is not theirs.
        local = await driver.text(HL_COORD, "/review")
        assert local.contains("(7 báo cáo đang chờ") and not local.contains("Móng Cái")
        refused = await driver.press(HL_COORD, local, f"rv:{world['mc']}:1:a", forged=True)
        assert "Không được phép" in refused
        # Hạ Long's leader looks at their scope's seven, a page of whole cards at a time.
        first = await driver.text(HL_LEADER, "/review")
        assert first.contains("7 báo cáo") and not first.contains("Móng Cái")
        assert "rl:1" in first.button_datas() and not first.contains("rv:")
        assert len(first.raw_text or "") <= 4096 and (first.raw_text or "").count("<b>") == (
            first.raw_text or "").count("</b>")
        shown_first = (first.text or "").count("Hạ Long ")
        await driver.press(HL_LEADER, first, "rl:1")
        second = driver.message(HL_LEADER, first.message_id)
        assert second.edit_count == 1 and "rl:0" in second.button_datas()
        assert shown_first + (second.text or "").count("Hạ Long ") >= HL_REPORTS
        assert "Không được phép" in await driver.press(HL_LEADER, second, f"rv:{world['hl'][0]}:1:a",
                                                       forged=True)
        # A focal point may not look at the queue at all.
        assert (await driver.text(FP_HL, "/review")).contains("Chỉ cán bộ điều phối")
        # The province's coordinator verifies Móng Cái's report.
        await driver.press(SNV_COORD, province, f"rv:{world['mc']}:1:a", forged=True)
        assert driver.message(SNV_COORD, province.message_id).contains("Đã xác nhận")
    states = dict(review_states(plan_engine))
    assert states[world["mc"]] == "approved"
    assert all(states[r] == "pending" for r in world["hl"])
    assert admin_alerts(stub) == []


async def test_forged_buttons_of_the_converted_flows(stub: StubBotApi, bot_settings: Settings,
                                                     plan_engine: Engine, world: dict[str, Any]) -> None:
    driver = Driver(stub)
    async with driven(bot_settings, plan_engine, driver):
        with session_scope(plan_engine) as s:
            audits = s.exec(select(func.count()).select_from(AuditLog)).one()
            target = s.exec(select(Member.id).where(Member.telegram_user_id == FP_HL)).one()
        listing = await driver.text(FP_MC, "/tasks")
        # Another agency's item, pages and items nobody shows, numbers past any row id.
        answers = await press_all(stub, FP_MC, listing, [
            f"ti:{world['mc_item'] - 1 if world['mc_item'] > 1 else 2}:0", "tk:-1", f"tk:{BIG}", "ti:1",
            f"rp:{BIG}", "rn:0", f"d:{BIG}:state:done", "d:1:state", "rv:1:1", f"rv:{BIG}:1:a", "rl:-1",
            "rl:x", "rq:1"])
        assert all(answers), answers
        # Forged admin buttons pressed by a focal point and by the leader: not allowed, nothing made.
        for user in (FP_MC, HL_LEADER):
            refused = await press_all(stub, user, listing, [
                "iv:p:0", f"iv:u:{SO_NOI_VU}:admin:50", "mb:p:0", f"mb:v:{target}", f"mb:do:{target}",
                f"mb:ro:{target}:focal_point:admin", f"mb:mo:{target}:{HA_LONG}:{MONG_CAI}"])
            assert refused == ["Không được phép."] * 7, refused
        # The admin's own forged buttons: malformed ones refused, stale ones "changed".
        admin_answers = await press_all(stub, ADMIN, listing, [
            "iv:a:-1", f"iv:a:{BIG}", "iv:u:1:king:1", "mb:v:999999", f"mb:mo:{target}:{MONG_CAI}:{HA_LONG}",
            f"mb:ro:{target}:leader:admin", "mb:zz:1"])
        assert admin_answers[:3] == ["Không được phép."] * 3
        assert all(a.startswith("Dữ liệu đã thay đổi") for a in admin_answers[3:6]), admin_answers
        assert admin_answers[6] == "Không được phép."
    with session_scope(plan_engine) as s:
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == audits
        assert s.exec(select(func.count()).select_from(Invitation)).one() == 0
        open_drafts = select(func.count()).select_from(ReportDraft).where(col(ReportDraft.step) != "sent")
        assert s.exec(open_drafts).one() == 0
        moved = s.exec(select(Member).where(Member.telegram_user_id == FP_HL)).one()
        assert (moved.agency_id, moved.role, moved.active) == (HA_LONG, "focal_point", True)
    assert all(state == "pending" for _id, state in review_states(plan_engine))
    assert admin_alerts(stub) == []
