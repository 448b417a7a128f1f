"""Leaders' digests: slots, sent once at their time through the ledger (not again after a
restart), what changed since the last one; and one roll-up behind /status, chart, export and
digest."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import select

from bot.settings import Settings, bot_config, schedule_rules
from domain.access import EVERYTHING
from models.db import session_scope
from models.export import load as load_export
from models.registry import current_plan
from models.rollup import compute_rollup, parse_period
from models.tables import Chat, Delivery, Digest, Item, ItemState
from sandbox.status_data import DISTRICT_LEADER, PROVINCE_LEADER, TODAY, Seeded, seed_status
from scheduler.digests import due_slots, period_end_slot, plan_digests_now, weekly_slot
from scheduler.dispatch import dispatch_due
from tests.bot_harness import bot_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi
from views.charts import chart_data
from views.i18n import use_locale

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_8 = datetime(2026, 11, 16, 8, 0, 30, tzinfo=VN)
LEADERS_GROUP = -100500


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    seeded = seed_status(engine)
    with session_scope(engine) as session:
        session.add(Chat(telegram_chat_id=LEADERS_GROUP, title="Lãnh đạo tỉnh", purpose="leaders"))
        session.add(Chat(telegram_chat_id=-100600, title="Đầu mối", purpose="focal_points"))
    return seeded


def test_slots(bot_settings: Settings) -> None:  # noqa: F811
    rules = schedule_rules(bot_settings)
    assert weekly_slot(MONDAY_8, rules, "mon", "08:00").at == datetime(2026, 11, 16, 8, tzinfo=VN)
    sunday = datetime(2026, 11, 15, 23, tzinfo=VN)
    slot = weekly_slot(sunday, rules, "mon", "08:00")
    assert (slot.at, slot.name, slot.period) == (datetime(2026, 11, 9, 8, tzinfo=VN), "w2026-46", "2026-Q4")
    end = period_end_slot(datetime(2026, 12, 31, 9, tzinfo=VN), rules, "08:00")
    assert (end.period, end.at) == ("2026-Q4", datetime(2026, 12, 31, 8, tzinfo=VN))
    assert period_end_slot(datetime(2026, 12, 31, 7, tzinfo=VN), rules, "08:00").period == "2026-Q3"
    # Only slots within the grace window are planned.
    assert [s.name for s in due_slots(MONDAY_8, rules, "mon", "08:00")] == ["w2026-47"]
    assert due_slots(datetime(2026, 11, 18, 9, tzinfo=VN), rules, "mon", "08:00") == []


async def test_digest_sent_once_even_after_restart(stub: StubBotApi, bot_settings: Settings,  # noqa: F811
                                                   engine: Engine, seeded: Seeded) -> None:
    rules = schedule_rules(bot_settings)
    with time_machine.travel(datetime(2026, 11, 16, 7, 59, tzinfo=VN), tick=True):
        assert plan_digests_now(engine, bot_config(bot_settings)) == 0  # not yet
    for _restart in range(2):
        with time_machine.travel(MONDAY_8, tick=True):
            async with running_bot(bot_settings, engine) as app:
                plan_digests_now(engine, bot_config(bot_settings))
                await dispatch_due(app.bot, engine, rules, default_language="vi")
    digests = [c for c in stub.calls("sendMessage") if "digest" in str(c.params.get("text", "")).lower()
               or "Bản tin" in str(c.params.get("text", ""))]
    chats = sorted(c.params["chat_id"] for c in digests)
    assert chats == sorted([PROVINCE_LEADER, DISTRICT_LEADER, LEADERS_GROUP])
    with session_scope(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.kind == "digest")).all()
        assert {r.key for r in rows} == {f"digest:2026-Q4:w2026-47:{c}" for c in chats}
        assert {r.state for r in rows} == {"sent"}
        assert len(session.exec(select(Digest)).all()) == 2  # province-wide and Hạ Long's tree
    district = next(c for c in digests if c.params["chat_id"] == DISTRICT_LEADER)
    assert "Weekly digest" in district.params["text"]  # the district leader reads English
    assert "UBND thành phố Hạ Long" in district.params["text"]


def test_changes_since_the_last_digest(bot_settings: Settings, engine: Engine, seeded: Seeded) -> None:  # noqa: F811
    plan_digests_now(engine, bot_config(bot_settings), MONDAY_8)
    with session_scope(engine) as session:
        period = parse_period("2026-Q4")
        open_items = session.exec(select(Item).where(Item.due_on >= period.start, Item.due_on <= period.end,
                                                     Item.state == ItemState.NOT_STARTED.value)).all()
        for item in open_items[:4]:
            item.state = ItemState.VERIFIED.value
    plan_digests_now(engine, bot_config(bot_settings), datetime(2026, 11, 23, 8, 1, tzinfo=VN))
    from scheduler.digests import render_digest

    with session_scope(engine) as session:
        row = session.exec(select(Delivery).where(
            Delivery.key == f"digest:2026-Q4:w2026-48:{LEADERS_GROUP}")).one()
        text = render_digest(session, row.ref_id, "en", VN)
        first = session.exec(select(Delivery).where(
            Delivery.key == f"digest:2026-Q4:w2026-47:{LEADERS_GROUP}")).one()
        first_text = render_digest(session, first.ref_id, "en", VN)
    assert text is not None and "Done: +4" in text and "Verified: +4" in text
    assert first_text is not None and "First digest for this period." in first_text


def test_status_chart_export_and_digest_agree(bot_settings: Settings, engine: Engine,  # noqa: F811
                                              seeded: Seeded) -> None:
    period = parse_period("2026-Q4")
    plan_digests_now(engine, bot_config(bot_settings), MONDAY_8)
    with session_scope(engine) as session, use_locale("en"):
        plan = current_plan(session)
        assert plan is not None
        status = compute_rollup(session, plan, period, TODAY, EVERYTHING)
        chart = chart_data(status)
        export = load_export(session, plan, period, TODAY, EVERYTHING, VN)
        digest = session.exec(select(Digest).where(Digest.scope == "all")).one()
    snapshot = json.loads(digest.snapshot)
    assert snapshot == status.as_dict()
    assert export.rollup.as_dict() == status.as_dict()
    assert [(b.done, b.owed) for b in chart.axes] == [(a.counts.done, a.counts.owed) for a in status.axes]
    assert [(b.done, b.owed) for b in chart.levels] == [(c.done, c.owed) for c in status.levels.values()]
    assert sum(a.counts.owed for a in export.agencies) == status.totals.owed
    assert len([r for r in export.rows if r.agency]) == status.totals.owed
    for number, counts in snapshot["axes"].items():
        assert status.axis(int(number)) is not None
        assert counts == status.axis(int(number)).counts.as_dict()  # type: ignore[union-attr]


def test_with_two_plans_each_gets_its_own_digest_and_a_closed_one_none(
        bot_settings: Settings, engine: Engine, seeded: Seeded) -> None:  # noqa: F811
    from domain.periods import DueRules
    from domain.plan_parser import parse_plan
    from models import registry
    from scheduler.deadlines import sync_items
    from scheduler.digests import render_digest
    from tests.second_plan import NUMBER, second_plan

    with session_scope(engine) as session:
        registry.import_plan(session, parse_plan(second_plan()), raw=second_plan(), source_name="kh25.txt",
                             active_from=parse_period("2026-Q4").start)
        ours = registry.require_plan(session, NUMBER)
        sync_items(session, ours, TODAY, DueRules())
        ids = {p.number: int(p.id or 0) for p in registry.active_plans(session)}
    plan_digests_now(engine, bot_config(bot_settings), MONDAY_8)
    with session_scope(engine) as session:
        keys = {r.key: r.ref_id for r in session.exec(select(Delivery).where(Delivery.kind == "digest"))}
        assert set(keys) == {f"digest:2026-Q4:w2026-47:{c}:p{i}" for i in ids.values()
                             for c in (PROVINCE_LEADER, DISTRICT_LEADER, LEADERS_GROUP)}
        texts = {number: render_digest(session, keys[f"digest:2026-Q4:w2026-47:{LEADERS_GROUP}:p{i}"],
                                       "en", VN) for number, i in ids.items()}
    ours_text, theirs = texts[NUMBER], texts["916/KH-UBND"]
    assert ours_text is not None and theirs is not None
    assert f"whole province · plan {NUMBER}" in ours_text and "1. Cải cách thể chế" in ours_text
    assert "whole province · plan 916/KH-UBND" in theirs and "6. Public service delivery" in theirs
    # Closed: no digest of it the next week, and one planned before it closed says nothing.
    with session_scope(engine) as session:
        registry.close_plan(session, NUMBER, apply=True)
        assert render_digest(session, keys[f"digest:2026-Q4:w2026-47:{LEADERS_GROUP}:p{ids[NUMBER]}"],
                             "en", VN) is None
    plan_digests_now(engine, bot_config(bot_settings), datetime(2026, 11, 23, 8, 1, tzinfo=VN))
    with session_scope(engine) as session:
        later = {r.key for r in session.exec(select(Delivery).where(Delivery.kind == "digest"))} - set(keys)
    chats = (PROVINCE_LEADER, DISTRICT_LEADER, LEADERS_GROUP)
    assert later == {f"digest:2026-Q4:w2026-48:{c}" for c in chats}  # one plan again: as before
