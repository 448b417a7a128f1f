"""The dashboard's server (bot/web.py) with the real Application: launch data validated as
Telegram specifies (forged, stale, missing: 401 and no figures), figures that are /status's own
roll-up, the member's scope, and the buttons that open it from the chat (Mini App over https,
a plain link for a local http URL, the menu button)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import build_application
from bot.settings import Settings
from bot.web import make_web_server
from domain.webapp_auth import signed_init_data
from models import status
from models.db import session_scope
from models.members import load_actor
from models.rollup import parse_period
from models.tables import Agency
from sandbox.status_data import (
    COMMUNE_FOCAL,
    DISTRICT_LEADER,
    PROVINCE_LEADER,
    TODAY,
    Seeded,
    oracle,
    seed_status,
)
from tests.bot_harness import make_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e
Q3 = "2026-Q3"
STRANGER = 4242


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(token: str, user_id: int, *, age: float = 60, language: str = "en", **extra: str) -> str:
    """Launch data as Telegram signs it for ``user_id``."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(int(time.time() - age)),
              "user": json.dumps({"id": user_id, "first_name": "Lan", "language_code": language}),
              "chat_instance": "8428209589180549439", "chat_type": "sender", **extra}
    return signed_init_data(fields, token)


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_status(engine)


@pytest.fixture
def web_settings(stub: StubBotApi, db_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                 tmp_path: Any) -> Settings:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    return make_settings(stub, db_url, web_base_url=f"http://127.0.0.1:{port}", web_port=port,
                         web_listen="127.0.0.1", web_auth_max_age_seconds=3600)


@pytest.fixture
async def web(web_settings: Settings, engine: Engine, seeded: Seeded) -> AsyncIterator[str]:
    app = build_application(web_settings, engine=engine, start_jobs=False)
    async with app:
        server = make_web_server(app, web_settings)
        server.listen(web_settings.web_port, address="127.0.0.1")
        try:
            yield f"http://127.0.0.1:{web_settings.web_port}"
        finally:
            server.stop()


async def api(root: str, page: str, init_data: str | None, **params: object) -> httpx.Response:
    headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
    async with httpx.AsyncClient() as client:
        return await client.get(f"{root}/app/api/{page}", params=params, headers=headers, timeout=20)


async def test_summary_is_the_status_roll_up(web: str, web_settings: Settings, engine: Engine) -> None:
    token = web_settings.require_token()
    answer = await api(web, "summary", launch(token, PROVINCE_LEADER), period=Q3)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    period = parse_period(Q3)
    with session_scope(engine) as session:
        actor = load_actor(session, PROVINCE_LEADER, frozenset())
    same = status.summary(engine, actor, period, TODAY)
    expected = oracle(engine, period.start, period.end, TODAY)
    totals = body["data"]["totals"]
    assert totals == {**same.rollup.totals.as_dict(), "done": same.rollup.totals.done}
    assert {k: totals[k] for k in expected} == expected
    assert body["data"]["axes"] == {str(a.number): {**a.counts.as_dict(), "done": a.counts.done}
                                    for a in same.rollup.axes}
    assert body["data"]["backlog"] == {"items": same.backlog.items}
    html = body["html"]
    assert "Q3 2026" in html and "whole province" in html
    assert f'data-figure="owed" data-value="{expected["owed"]}"' in html
    assert f'data-figure="overdue" data-value="{expected["overdue"]}"' in html
    assert "<svg" in html and 'data-nav="axis?period=2026-Q3&amp;n=1"' in html

    # Vietnamese for a member who speaks it (the launch data's language when none was chosen)
    vi = (await api(web, "summary", launch(token, PROVINCE_LEADER, language="vi"), period=Q3)).json()
    assert "Tình hình thực hiện kế hoạch — Quý 3/2026" in vi["html"]


@pytest.mark.parametrize("how", ["missing", "garbage", "other_token", "tampered", "stale", "no_scheme"])
async def test_forged_stale_or_missing_launch_data_gets_401_and_no_data(
        web: str, web_settings: Settings, how: str) -> None:
    token = web_settings.require_token()
    good = launch(token, PROVINCE_LEADER)
    init_data: str | None = {
        "missing": None, "garbage": "hello",
        "other_token": launch("987654321:AAOtherBotsTokenOtherBotsToken", PROVINCE_LEADER),
        "tampered": good.replace(f"%22id%22%3A+{PROVINCE_LEADER}", f"%22id%22%3A+{COMMUNE_FOCAL}"),
        "stale": launch(token, PROVINCE_LEADER, age=3601), "no_scheme": good}[how]
    if how == "tampered":
        assert init_data != good
    if how == "no_scheme":
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{web}/app/api/summary", headers={"Authorization": good}, timeout=20)
    else:
        answer = await api(web, "summary", init_data, period=Q3)
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthorized"}


async def test_only_active_members_within_their_scope(web: str, web_settings: Settings, engine: Engine,
                                                      seeded: Seeded) -> None:
    token = web_settings.require_token()
    stranger = await api(web, "summary", launch(token, STRANGER), period=Q3)
    assert stranger.status_code == 403 and "data" not in stranger.json()
    with session_scope(engine) as session:
        mong_cai = session.exec(select(Agency.id).where(Agency.code == "MONG-CAI")).one()
    # a district leader sees Hạ Long and the communes under it, not Móng Cái
    district = launch(token, DISTRICT_LEADER)
    mine = await api(web, "agency", district, period=Q3, id=seeded.ha_long_id)
    assert mine.status_code == 200 and mine.json()["data"]["items"]
    other = await api(web, "agency", district, period=Q3, id=mong_cai)
    assert other.status_code == 403 and "data" not in other.json() and "Móng Cái" not in other.text
    summary = (await api(web, "summary", district, period=Q3)).json()
    ids = {seeded.ha_long_id, *seeded.commune_ids}
    expected = oracle(engine, parse_period(Q3).start, parse_period(Q3).end, TODAY, ids)
    assert summary["data"]["totals"]["owed"] == expected["owed"] > 0
    # a commune's focal point: their own agency only
    focal = (await api(web, "summary", launch(token, COMMUNE_FOCAL), period=Q3)).json()
    own = oracle(engine, parse_period(Q3).start, parse_period(Q3).end, TODAY, {seeded.commune_ids[1]})
    assert focal["data"]["totals"]["owed"] == own["owed"]


async def test_drill_down_pages(web: str, web_settings: Settings, seeded: Seeded) -> None:
    good = launch(web_settings.require_token(), PROVINCE_LEADER)
    axis = (await api(web, "axis", good, period=Q3, n=1)).json()
    code, counts = next((c, v) for c, v in axis["data"]["tasks"].items() if v["owed"])
    assert code in axis["html"]
    task_nav = next(part for part in axis["html"].split('data-nav="')[1:] if part.startswith("task?"))
    task_id = task_nav.split("id=")[1].split('"')[0]
    task = (await api(web, "task", good, period=Q3, id=task_id)).json()
    assert task["data"]["task"] == code and "agencies done" in task["html"]
    assert {k: task["data"]["totals"][k] for k in ("owed", "done", "overdue")} == {
        k: counts[k] for k in ("owed", "done", "overdue")}
    for page, params in (("overdue", {}), ("overdue_agency", {"id": seeded.ha_long_id}),
                         ("agency", {"id": seeded.ha_long_id})):
        answer = await api(web, page, good, period=Q3, **params)
        assert answer.status_code == 200 and answer.json()["html"], page
    for page, params in (("axis", {"n": "x"}), ("task", {"id": 999999}), ("nothing", {}),
                         ("summary", {"period": "2026-Q9"})):
        answer = await api(web, page, good, **{"period": Q3, **params})
        assert answer.status_code in (400, 404) and "data" not in answer.json(), page


async def test_the_page_and_its_files_load_nothing_from_outside(web: str) -> None:
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{web}/app/", headers={"Accept-Language": "vi"}, timeout=20)
        script = await client.get(f"{web}/app/static/dashboard.js", timeout=20)
        style = await client.get(f"{web}/app/static/dashboard.css", timeout=20)
        redirect = await client.get(f"{web}/app", timeout=20)
    assert page.status_code == 200 and "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert 'lang="vi"' in page.text and "http" not in page.text.replace('"static/', "")
    assert script.status_code == 200 and "tgWebAppData" in script.text and "http" not in script.text
    assert style.status_code == 200 and "--bg" in style.text
    assert redirect.status_code in (301, 302) or redirect.url.path == "/app/"


async def test_status_and_menu_button_open_the_dashboard(stub: StubBotApi, db_url: str, engine: Engine,  # noqa: F811
                                                         seeded: Seeded, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    leader = stub.user(PROVINCE_LEADER, "Leader", language_code="vi")
    https = make_settings(stub, db_url, web_base_url="https://dondoc.example.gov.vn/")
    async with running_bot(https, engine):
        assert stub.menu_button()["type"] == "web_app"
        assert stub.menu_button()["web_app"]["url"] == "https://dondoc.example.gov.vn/app/"
        stub.send_text(leader, f"/status {Q3}")
        summary = await stub.await_message(PROVINCE_LEADER, contains="Quý 3")
    buttons = [b for row in (summary.reply_markup or {})["inline_keyboard"] for b in row]
    opener = next(b for b in buttons if "web_app" in b)
    assert opener["text"] == "📊 Mở bảng điều khiển"
    assert opener["web_app"]["url"] == "https://dondoc.example.gov.vn/app/?period=2026-Q3"

    local = make_settings(stub, db_url, web_base_url="http://127.0.0.1:8099")
    async with running_bot(local, engine):
        stub.send_text(leader, f"/status {Q3}")
        later = await stub.await_for(lambda: next(
            (m for m in stub.sent_messages(PROVINCE_LEADER)
             if m is not summary and "127.0.0.1" in json.dumps(m.reply_markup)), None))
    buttons = [b for row in (later.reply_markup or {})["inline_keyboard"] for b in row]
    assert not any("web_app" in b for b in buttons)
    assert stub.menu_button()["type"] == "default"  # the Mini App button of before is gone
    assert any(b.get("url") == "http://127.0.0.1:8099/app/?period=2026-Q3" for b in buttons)


async def test_webhook_server_serves_the_dashboard_too(web_settings: Settings, engine: Engine,
                                                       seeded: Seeded) -> None:
    from bot.webhook import make_server

    settings = web_settings.model_copy(update={"webhook_secret": "s3cret"})
    app = build_application(settings, engine=engine, start_jobs=False)
    async with app:
        server = make_server(app, settings)
        server.listen(settings.web_port, address="127.0.0.1")
        try:
            root = f"http://127.0.0.1:{settings.web_port}"
            async with httpx.AsyncClient() as client:
                page = await client.get(f"{root}/app/", timeout=20)
                health = await client.get(f"{root}/healthz", timeout=20)
            good = await api(root, "summary", launch(settings.require_token(), PROVINCE_LEADER), period=Q3)
        finally:
            server.stop()
    assert page.status_code == 200 and "dashboard.js" in page.text
    assert health.status_code in (200, 503)
    assert good.status_code == 200 and good.json()["data"]["totals"]["owed"] > 0


def test_dondoc_run_serves_the_dashboard_beside_polling(stub: StubBotApi, tmp_path: Any) -> None:  # noqa: F811
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[1]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, PYTHONPATH=str(root),
               DONDOC_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
               DONDOC_WEB_BASE_URL=f"http://localhost:{port}", DONDOC_WEB_PORT=str(port),
               DONDOC_WEB_LISTEN="127.0.0.1")
    subprocess.run([sys.executable, "-m", "bot.cli", "init"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        stub.wait_for_call("getUpdates", timeout=30)
        page = httpx.get(f"http://127.0.0.1:{port}/app/", timeout=10)
        refused = httpx.get(f"http://127.0.0.1:{port}/app/api/summary", timeout=10)
        assert page.status_code == 200 and "dashboard.css" in page.text
        assert refused.status_code == 401
        assert stub.menu_button()["type"] == "default"  # http: no Mini App menu button
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


async def test_an_items_history_only_within_scope(web: str, web_settings: Settings, engine: Engine,
                                                  seeded: Seeded) -> None:
    from models.tables import Item

    token = web_settings.require_token()
    with session_scope(engine) as session:
        mong_cai = session.exec(select(Agency.id).where(Agency.code == "MONG-CAI")).one()
        item_id = session.exec(select(Item.id).where(Item.agency_id == mong_cai,
                                                     Item.state == "verified")).first()
    leader = await api(web, "history", launch(token, PROVINCE_LEADER), id=item_id)
    assert leader.status_code == 200, leader.text
    assert leader.json()["data"]["versions"][0]["review_state"] == "approved"
    assert "Nguyễn Văn Điều Phối" in leader.json()["html"]
    focal = await api(web, "history", launch(token, COMMUNE_FOCAL), id=item_id)
    assert focal.status_code == 403 and "data" not in focal.json() and "Điều Phối" not in focal.text


async def test_the_ranking_page_for_leaders_and_coordinators(web: str, web_settings: Settings,
                                                             engine: Engine, seeded: Seeded) -> None:
    """The league tables /status's 🏆 shows (models.status.ranking_page, models.rollup.ranking):
    same order, positions and figures, one table per agency level, in the member's scope; a
    focal point gets 403 and no figures, and no ranking button on the summary."""
    from models.rollup import ranking
    from models.status import viewer

    token = web_settings.require_token()
    period = parse_period(Q3)
    answer = await api(web, "ranking", launch(token, PROVINCE_LEADER, language="vi"), period=Q3)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    with session_scope(engine) as session:
        actor = load_actor(session, PROVINCE_LEADER, frozenset())
        who, plan = viewer(session, actor)
        tables = ranking(session, plan, period, TODAY, who.scope)
    assert tables and list(body["data"]["tables"]) == list(tables)
    for level, table in tables.items():
        assert body["data"]["tables"][level] == [
            {"position": line.position, "agency_id": line.agency_id, "name": line.name, "rate": line.rate,
             "owed": line.counts.owed, **{w.value: n for w, n in line.counts.by_official().items()}}
            for line in table]
    html = body["html"]
    assert "Xếp hạng — Quý 3/2026" in html and html.count('<table class="rank"') == len(tables)
    assert "<h2>Sở, ban, ngành · " in html and 'data-level="department"' in html
    first = next(iter(tables.values()))[0]
    assert f'data-agency="{first.agency_id}" data-position="{first.position}"' in html
    assert f'data-nav="agency?period=2026-Q3&amp;id={first.agency_id}"' in html
    summary = (await api(web, "summary", launch(token, PROVINCE_LEADER), period=Q3)).json()
    assert 'data-nav="ranking?period=2026-Q3"' in summary["html"] and "Ranking of agencies" in summary["html"]

    # A district's leader: the agencies of the district only.
    district = (await api(web, "ranking", launch(token, DISTRICT_LEADER), period=Q3)).json()
    ids = {line["agency_id"] for table in district["data"]["tables"].values() for line in table}
    assert ids and ids <= {seeded.ha_long_id, *seeded.commune_ids}

    # A focal point: refused, and no button to it.
    focal = await api(web, "ranking", launch(token, COMMUNE_FOCAL), period=Q3)
    assert focal.status_code == 403 and "data" not in focal.json()
    assert "This page is for leaders, coordinators and admins." in focal.json()["html"]
    own = (await api(web, "summary", launch(token, COMMUNE_FOCAL), period=Q3)).json()
    assert "ranking?" not in own["html"]


async def test_with_two_plans_the_dashboard_asks_which_then_keeps_to_it(
        web: str, web_settings: Settings, engine: Engine) -> None:
    from domain.periods import DueRules
    from domain.plan_parser import parse_plan
    from models import registry
    from models.tables import Plan
    from scheduler.deadlines import sync_items
    from tests.second_plan import NUMBER, second_plan

    with session_scope(engine) as session:
        registry.import_plan(session, parse_plan(second_plan()), raw=second_plan(), source_name="kh25.txt",
                             active_from=parse_period(Q3).start)
        sync_items(session, registry.require_plan(session, NUMBER), TODAY, DueRules())
    with session_scope(engine) as session:
        ids = {p.number: p.id for p in session.exec(select(Plan))}
        actor = load_actor(session, PROVINCE_LEADER, frozenset())
    token = web_settings.require_token()
    leader = launch(token, PROVINCE_LEADER)
    choice = (await api(web, "summary", leader, period=Q3)).json()
    assert choice["data"]["page"] == "plans"
    assert [p["number"] for p in choice["data"]["plans"]] == [NUMBER, "916/KH-UBND"]
    assert f'data-nav="summary?period=2026-Q3&amp;plan={ids[NUMBER]}"' in choice["html"]
    assert (await api(web, "axis", leader, period=Q3, n=1)).json()["data"]["page"] == "plans"
    # Each plan's own figures, the same as /status's for that plan.
    for number, plan_id in ids.items():
        body = (await api(web, "summary", leader, period=Q3, plan=plan_id)).json()
        same = status.summary(engine, actor, parse_period(Q3), TODAY, plan_id or 0)
        assert body["data"]["totals"] == {**same.rollup.totals.as_dict(), "done": same.rollup.totals.done}
        assert f"whole province · plan {number}" in body["html"]
    ours = (await api(web, "summary", leader, period=Q3, plan=ids[NUMBER])).json()["data"]
    assert set(ours["axes"]) == {"1", "2"} and ours["totals"]["owed"] == 4
    bad = await api(web, "summary", leader, period=Q3, plan="x")
    assert bad.status_code == 400
    assert (await api(web, "summary", leader, period=Q3, plan=99999)).status_code == 404
