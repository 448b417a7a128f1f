"""The four official classes and the ranking (issue 13, items 1 and 2) as people see them: /status
and the drill-down in English and Vietnamese, the ranking for leaders and coordinators (refused
to a focal point), the chart's bars, and the export's columns and ranking sheet. Counted against
domain.official.classify over the items themselves."""

from __future__ import annotations

import io
import itertools
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.access import EVERYTHING, Scope
from domain.collation import vi_key
from domain.official import OFFICIAL_CLASSES, OfficialClass, classify, on_time_rate
from models.db import session_scope
from models.export import load as load_export
from models.registry import current_plan
from models.rollup import RANK_LEVELS, RankLine, compute_rollup, item_lines, parse_period, rank_level, ranking
from models.tables import Agency, Item, Task
from sandbox.status_data import COMMUNE_FOCAL, COORDINATOR, PROVINCE_LEADER, TODAY, Seeded, seed_status
from tests.bot_harness import bot_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi
from views.charts import chart_data, render_chart
from views.export import write_xlsx
from views.i18n import use_locale

pytestmark = pytest.mark.e2e
Q3 = "2026-Q3"
H2 = "2026-H2"


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    """The status registry (every report sent on 15 October), with every third completed Q3
    item completed on 25 September instead. As of TODAY (16 November) the second half-year then
    holds all four classes: Q3's completed items on time or late, its open ones overdue, Q4's
    (due 31 December) completed on time or open within the deadline."""
    found = seed_status(engine)
    with session_scope(engine) as session:
        items = session.exec(select(Item).where(col(Item.due_on) == date(2026, 9, 30))
                             .order_by(col(Item.id))).all()
        for index, item in enumerate(items):
            if item.completed_on is not None and index % 3 == 0:
                item.completed_on = date(2026, 9, 25)
    return found


def on_today() -> Any:
    """The bot's clock at 09:00 on TODAY in Hanoi (its /status counts as of that day)."""
    return time_machine.travel(datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")), tick=True)


def expected(engine: Engine, first: date, last: date,
             agency_ids: set[int] | None = None) -> dict[OfficialClass, int]:
    """The four classes by a plain loop over the items (domain.official.classify)."""
    with session_scope(engine) as session:
        items = session.exec(select(Item).join(Task, col(Task.id) == Item.task_id)
                             .where(col(Task.retired_at).is_(None))).all()
    classes = [classify(i.state, i.due_on, i.completed_on, TODAY) for i in items
               if first <= i.due_on <= last and (agency_ids is None or i.agency_id in agency_ids)]
    return {which: classes.count(which) for which in OFFICIAL_CLASSES}


def _h2() -> tuple[date, date]:
    period = parse_period(H2)
    return period.start, period.end


def _edited(api: StubBotApi, original: Any, needle: str) -> Any:
    current = next((m for m in api.sent_messages(original.chat_id) if m.message_id == original.message_id),
                   None)
    return current if current is not None and current.contains(needle) else None


def _button(message: Any, text: str) -> str:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == text:
                return str(button["callback_data"])
    raise AssertionError(f"no button {text!r}: {message.reply_markup}")


async def test_status_shows_the_four_classes_in_english(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                        engine: Engine, seeded: Seeded) -> None:
    counts = expected(engine, *_h2())
    assert all(counts.values()), counts  # the fixture holds every class
    with on_today():
        await _status_and_drill_down(stub, bot_settings, engine, seeded, counts)


async def _status_and_drill_down(stub: StubBotApi, bot_settings: Settings, engine: Engine,  # noqa: F811
                                 seeded: Seeded, counts: dict[OfficialClass, int]) -> None:
    leader = stub.user(PROVINCE_LEADER, "Leader", language_code="en")
    async with running_bot(bot_settings, engine):
        stub.send_text(leader, f"/status {H2}")
        summary = await stub.await_message(PROVINCE_LEADER, contains="Plan status")
        text = summary.text or ""
        assert f"✅ Completed on time: {counts[OfficialClass.ON_TIME]} (" in text
        assert f"⌛ Completed late: {counts[OfficialClass.LATE]} (" in text
        assert f"🔄 In progress, within the deadline: {counts[OfficialClass.WITHIN]} (" in text
        assert f"⏰ Overdue: {counts[OfficialClass.OVERDUE]}" in text
        assert "Completed, awaiting verification:" in text

        # Drill-down: the most overdue agency's items, each with its class.
        agency_data = next(d for d in summary.button_datas() if d.startswith("st:g:"))
        agency_id = int(agency_data.split(":")[3])
        stub.press_button(leader, summary, agency_data)
        agency = await stub.await_for(lambda: _edited(stub, summary, " · due "))
        shown = re.findall(r"^   (✅|⌛|🔄|⏰) (.+)$", agency.text or "", flags=re.MULTILINE)
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        items = item_lines(session, plan, parse_period(H2), TODAY, Scope(agency_id, subtree=False))
    names = {OfficialClass.ON_TIME: "Completed on time", OfficialClass.LATE: "Completed late",
             OfficialClass.WITHIN: "In progress, within the deadline", OfficialClass.OVERDUE: "Overdue"}
    assert shown and [name for _icon, name in shown] == [names[i.official] for i in items[:len(shown)]]
    assert {i.official for i in items} >= {OfficialClass.OVERDUE, OfficialClass.WITHIN}


async def test_status_and_ranking_in_vietnamese(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                engine: Engine, seeded: Seeded) -> None:
    counts = expected(engine, *_h2())
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        tables = ranking(session, plan, parse_period(H2), TODAY, EVERYTHING)
    with on_today():
        await _vietnamese(stub, bot_settings, engine, counts, tables)


async def _vietnamese(stub: StubBotApi, bot_settings: Settings, engine: Engine,  # noqa: F811
                      counts: dict[OfficialClass, int], tables: dict[str, list[RankLine]]) -> None:
    coordinator = stub.user(COORDINATOR, "Điều phối", language_code="vi")
    async with running_bot(bot_settings, engine):
        stub.send_text(coordinator, f"/status {H2}")
        summary = await stub.await_message(COORDINATOR, contains="6 tháng cuối năm 2026")
        text = summary.text or ""
        assert f"✅ Hoàn thành đúng hạn: {counts[OfficialClass.ON_TIME]} (" in text
        assert f"⌛ Hoàn thành quá hạn: {counts[OfficialClass.LATE]} (" in text
        assert f"⏰ Quá hạn: {counts[OfficialClass.OVERDUE]}" in text
        assert f"🔄 Đang thực hiện trong hạn: {counts[OfficialClass.WITHIN]} (" in text
        assert "Đã hoàn thành, chờ xác nhận:" in text

        stub.press_button(coordinator, summary, _button(summary, "🏆 Xếp hạng"))
        first = await stub.await_for(lambda: _edited(stub, summary, "Xếp hạng —"))
        level = next(iter(tables))
        top = tables[level][0]
        assert f"1. {top.name} — " in (first.text or "")
        # The districts' table: districts only, in ranking order.
        districts = _button(first, "Cấp huyện")
        stub.press_button(coordinator, first, districts)
        shown = await stub.await_for(lambda: _edited(stub, summary, "Cấp huyện ·"))
        names = [line.name for line in tables["district"]][:15]
        body = shown.text or ""
        positions = [body.index(f". {name} — ") for name in names]
        assert positions == sorted(positions)
        assert "UBND phường" not in body  # communes are ranked with communes


async def test_ranking_is_for_leaders_and_coordinators(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                       engine: Engine, seeded: Seeded) -> None:
    focal = stub.user(COMMUNE_FOCAL, "Focal", language_code="en")
    async with running_bot(bot_settings, engine):
        stub.send_text(focal, f"/status {Q3}")
        summary = await stub.await_message(COMMUNE_FOCAL, contains="Plan status")
        assert not any(d.startswith("st:r:") for d in summary.button_datas())
        update = stub.press_button(focal, summary, f"st:r:{Q3}:district:0", forged=True)
        answer = await stub.await_for(lambda: stub.callback_answer(update["callback_query"]["id"]))
        assert answer.get("text") == "Not allowed." and answer.get("show_alert") is True
        assert not any(m.contains("Ranking") for m in stub.sent_messages(COMMUNE_FOCAL))


def test_ranking_order_and_like_with_like(engine: Engine, seeded: Seeded) -> None:
    """Each level's table holds that level's agencies only, ordered by on-time rate (none:
    last), then fewer overdue items, then the Vietnamese name; equal standings share a place.
    Checked against classify over the items, for the province and for Hạ Long's subtree."""
    period = parse_period(H2)
    with session_scope(engine) as session:
        plan = current_plan(session)
        assert plan is not None
        tables = ranking(session, plan, period, TODAY, EVERYTHING)
        subtree = ranking(session, plan, period, TODAY, Scope(seeded.ha_long_id))
        agencies = {a.id: a for a in session.exec(select(Agency))}
        items = session.exec(select(Item).where(col(Item.due_on) >= period.start,
                                                col(Item.due_on) <= period.end)).all()
    assert list(tables) == [level for level in RANK_LEVELS if level in tables]
    assert {"department", "district", "commune"} <= set(tables)
    per_agency: dict[int, list[OfficialClass]] = {}
    for item in items:
        per_agency.setdefault(item.agency_id, []).append(
            classify(item.state, item.due_on, item.completed_on, TODAY))
    for level, table in tables.items():
        assert all(rank_level(agencies[line.agency_id].level) == level for line in table)
        wanted = [i for i in per_agency if rank_level(agencies[i].level) == level]
        assert sorted(line.agency_id for line in table) == sorted(wanted)

        def standing(agency_id: int) -> tuple[bool, float, int]:
            c = per_agency[agency_id]
            rate = on_time_rate(c.count(OfficialClass.ON_TIME), c.count(OfficialClass.LATE),
                                c.count(OfficialClass.OVERDUE))
            return rate is None, -(rate or 0.0), c.count(OfficialClass.OVERDUE)

        order = sorted(wanted, key=lambda i: (*standing(i), vi_key(agencies[i].name)))
        assert [line.agency_id for line in table] == order
        for before, after in itertools.pairwise(table):
            same = standing(before.agency_id) == standing(after.agency_id)
            assert (after.position == before.position) == same
            assert after.position == (before.position if same else table.index(after) + 1)
        for line in table:
            c = per_agency[line.agency_id]
            assert line.counts.by_official() == {w: c.count(w) for w in OFFICIAL_CLASSES}
    assert set(subtree) == {"district", "commune"}  # Hạ Long and its communes
    assert [line.agency_id for line in subtree["district"]] == [seeded.ha_long_id]


def test_chart_stacks_the_four_classes(engine: Engine, seeded: Seeded) -> None:
    with session_scope(engine) as session, use_locale("vi"):
        plan = current_plan(session)
        assert plan is not None
        rollup = compute_rollup(session, plan, parse_period(Q3), TODAY, EVERYTHING)
        data = chart_data(rollup)
        png = render_chart(data)
    assert [dict(b.classes) for b in data.axes] == [
        {w.value: n for w, n in a.counts.by_official().items()} for a in rollup.axes]
    assert [sum(dict(b.classes).values()) for b in data.levels] == [c.owed for c in rollup.levels.values()]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_export_has_the_classes_and_the_ranking(engine: Engine, seeded: Seeded) -> None:
    from zoneinfo import ZoneInfo

    period = parse_period(Q3)
    with session_scope(engine) as session, use_locale("en"):
        plan = current_plan(session)
        assert plan is not None
        export = load_export(session, plan, period, TODAY, EVERYTHING, ZoneInfo("Asia/Ho_Chi_Minh"))
        tables = ranking(session, plan, period, TODAY, EVERYTHING)
        book = openpyxl.load_workbook(io.BytesIO(write_xlsx(export)))
    counts = expected(engine, period.start, period.end)
    summary = list(book["Summary"].iter_rows(values_only=True))
    header = next(row for row in summary if row[0] == "By axis")
    total = dict(zip(header, next(row for row in summary if row[0] == "Total"), strict=True))
    assert total["Completed on time"] == counts[OfficialClass.ON_TIME]
    assert total["Completed late"] == counts[OfficialClass.LATE]
    assert total["In progress, within the deadline"] == counts[OfficialClass.WITHIN]
    assert total["Overdue"] == counts[OfficialClass.OVERDUE]
    rows = list(book["Ranking"].iter_rows(values_only=True))
    districts = next(i for i, row in enumerate(rows) if row[0] == "Districts")
    assert rows[districts + 1][:3] == ("Rank", "Agency", "Items owed")
    shown = [row[1] for row in rows[districts + 2:districts + 2 + len(tables["district"])]]
    assert shown == [line.name for line in tables["district"]]
