"""End to end: the real Application against the Bot API stand-in — /status and its drill-down,
a forged button, /chart (a PNG) and /export (an XLSX with the right rows and states)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.settings import Settings
from models.db import session_scope
from models.tables import Agency
from sandbox.status_data import COMMUNE_FOCAL, PROVINCE_LEADER, TODAY, Seeded, oracle, seed_status
from tests.bot_harness import bot_settings, running_bot, stub  # noqa: F401
from tests.forged import BIG, CHANGED, admin_alerts, press_all
from tests.stub_botapi import StubBotApi, UploadedFile, utf16_len

pytestmark = pytest.mark.e2e
Q3 = "2026-Q3"


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_status(engine)


def _upload(call_params: dict[str, Any], field: str) -> bytes:
    value = call_params[field]
    assert isinstance(value, UploadedFile), value
    return value.content


async def test_status_and_drill_down(stub: StubBotApi, bot_settings: Settings, engine: Engine,  # noqa: F811
                                     seeded: Seeded) -> None:
    expected = oracle(engine, *_q3_bounds(), TODAY)
    leader = stub.user(PROVINCE_LEADER, "Leader", language_code="en")
    async with running_bot(bot_settings, engine):
        stub.send_text(leader, f"/status {Q3}")
        summary = await stub.await_message(PROVINCE_LEADER, contains="Plan status")
        text = summary.text or ""
        assert "Q3 2026" in text and "whole province" in text
        assert f"Items owed: {expected['owed']}" in text
        assert f"Overdue: {expected['overdue']}" in text
        assert f"Not started: {expected['not_started']}" in text
        assert "Completion by axis" in text and "▓" in (summary.raw_text or "") + "▓"
        assert all(utf16_len(m.raw_text or "") <= 4096 for m in stub.sent_messages(PROVINCE_LEADER))
        assert all(len(d.encode()) <= 64 for d in summary.button_datas())

        # Axis 1 -> its first task -> an agency -> that agency's items (edits in place).
        stub.press_button(leader, summary, f"st:a:{Q3}:1:0")
        axis = await stub.await_for(lambda: _edited(stub, summary, "Axis 1."))
        task_data = next(d for d in axis.button_datas() if d.startswith("st:t:"))
        stub.press_button(leader, axis, task_data)
        task = await stub.await_for(lambda: _edited(stub, summary, "agencies done"))
        assert "UBND" in (task.text or "")
        agency_data = next(d for d in task.button_datas() if d.startswith("st:g:"))
        stub.press_button(leader, task, agency_data)
        agency = await stub.await_for(lambda: _edited(stub, summary, "due "))
        assert agency.button_datas()[-1] == f"st:p:{Q3}:0:0"  # « Back


async def test_forged_button_outside_scope_is_refused(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                      engine: Engine, seeded: Seeded) -> None:
    focal = stub.user(COMMUNE_FOCAL, "Focal", language_code="en")
    with session_scope(engine) as session:
        other = session.exec(select(Agency.id).where(Agency.code == "MONG-CAI")).one()
    async with running_bot(bot_settings, engine):
        stub.send_text(focal, f"/status {Q3}")
        summary = await stub.await_message(COMMUNE_FOCAL, contains="Plan status")
        assert "UBND phường Hồng Gai" in (summary.text or "")
        update = stub.press_button(focal, summary, f"st:g:{Q3}:{other}:0", forged=True)
        query_id = update["callback_query"]["id"]
        answer = await stub.await_for(lambda: stub.callback_answer(query_id))
        assert answer.get("text") == "Not allowed." and answer.get("show_alert") is True
        stub.press_button(focal, summary, "st:zz:nonsense", forged=True)
        await stub.await_call("answerCallbackQuery", count=2)
        # Nothing about Móng Cái was shown.
        assert not any(m.contains("Móng Cái") for m in stub.sent_messages(COMMUNE_FOCAL))


async def test_chart_sends_a_png(stub: StubBotApi, bot_settings: Settings, engine: Engine,  # noqa: F811
                                 seeded: Seeded) -> None:
    leader = stub.user(PROVINCE_LEADER, "Leader")
    async with running_bot(bot_settings, engine):
        stub.send_text(leader, f"/chart {Q3}")
        # The first chart starts the render worker process (matplotlib's import): a loaded
        # machine takes a while.
        call = await stub.await_call("sendPhoto", timeout=60)
    png = _upload(call.params, "photo")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


async def test_export_sends_the_workbook(stub: StubBotApi, bot_settings: Settings, engine: Engine,  # noqa: F811
                                         seeded: Seeded) -> None:
    expected = oracle(engine, *_q3_bounds(), TODAY)
    leader = stub.user(PROVINCE_LEADER, "Leader", language_code="en")
    focal = stub.user(COMMUNE_FOCAL, "Focal", language_code="en")
    async with running_bot(bot_settings, engine):
        stub.send_text(focal, f"/export {Q3}")
        await stub.await_message(COMMUNE_FOCAL, contains="Exports are for leaders")
        stub.send_text(leader, f"/export {Q3}")
        call = await stub.await_call("sendDocument", timeout=60)  # the render worker starts
    book = openpyxl.load_workbook(io.BytesIO(_upload(call.params, "document")))
    detail = book["Details"]
    header = [c.value for c in detail[2]]
    assert header[:8] == ["Axis", "No.", "Content", "Task code", "Specific task", "Lead agencies",
                          "Coordinating agencies", "Timeframe"]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in detail.iter_rows(min_row=3)]
    owed = [r for r in rows if r["Agency"]]
    assert len(owed) == expected["owed"]
    states = [r["State"] for r in owed]
    assert states.count("Verified") == expected["verified"]
    assert states.count("Not started") == expected["not_started"]
    assert {r["Reporting period"] for r in owed} == {Q3}
    verified = [r for r in owed if r["State"] == "Verified"]
    assert verified and all(r["Verified by"] == "Nguyễn Văn Điều Phối" for r in verified)
    summary = book["Summary"]
    total = next(row for row in summary.iter_rows(values_only=True) if row[0] == "Total")
    assert total[1] == expected["owed"] and total[9] == expected["overdue"]


async def test_forged_and_out_of_range_buttons_are_answered(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                            engine: Engine, seeded: Seeded) -> None:
    """Malformed data, numbers past any id, periods that cannot exist: "this has changed"; an
    agency outside the presser's scope: "not allowed"; a page past the last: the last page.
    Nothing reaches the error handler, so no admin is alerted (an admin is registered)."""
    focal = stub.user(COMMUNE_FOCAL, "Focal", language_code="en")
    leader = stub.user(PROVINCE_LEADER, "Leader", language_code="en")
    with session_scope(engine) as session:
        other = session.exec(select(Agency.id).where(Agency.code == "MONG-CAI")).one()
    async with running_bot(bot_settings, engine):
        stub.send_text(focal, f"/status {Q3}")
        summary = await stub.await_message(COMMUNE_FOCAL, contains="Plan status")
        forged = [f"st:g:{Q3}:{BIG}:0", f"st:t:{Q3}:{BIG}:0", f"st:a:{Q3}:1:{BIG}", f"st:a:{Q3}:-{BIG}:0",
                  f"st:a:{Q3}:1", f"st:p:{Q3}:0:0:0", "st:p:2026-Q5:0:0", "st:p:3000:0:0", "st:p:x:0:0",
                  f"st:t:{Q3}:999999:0", f"st:a:{Q3}:99:0", f"st:g:{Q3}:999999:0", "st", "st:",
                  "st:c:2026-H3:0:0",
                  f"st:g:{Q3}:1.5:0", f"st:g:{Q3}:１:0"]
        assert await press_all(stub, COMMUNE_FOCAL, summary, forged) == [CHANGED] * len(forged)
        assert await press_all(stub, COMMUNE_FOCAL, summary, [f"st:g:{Q3}:{other}:0"]) == ["Not allowed."]
        # A page past the last (the list got shorter since): the last page, no error.
        stub.send_text(leader, f"/status {Q3}")
        mine = await stub.await_message(PROVINCE_LEADER, contains="Plan status")
        stub.press_button(leader, mine, f"st:a:{Q3}:1:999999", forged=True)
        page = await stub.await_for(lambda: _edited(stub, mine, "Axis 1."))
        assert page.button_datas()[-1] == f"st:p:{Q3}:0:0"
    assert admin_alerts(stub) == []


def _q3_bounds() -> tuple[Any, Any]:
    from models.rollup import parse_period

    period = parse_period(Q3)
    return period.start, period.end


def _edited(api: StubBotApi, original: Any, needle: str) -> Any:
    current = next((m for m in api.sent_messages(original.chat_id) if m.message_id == original.message_id),
                   None)
    return current if current is not None and current.contains(needle) else None
