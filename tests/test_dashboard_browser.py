"""The dashboard in a real browser: Debian's chromium (``/usr/bin/chromium``) driven by
Playwright, never a downloaded browser. A leader opens the dashboard from the /status button
with launch data signed as Telegram signs it, at phone width (360 px): the figures on the page
are the roll-up /status shows, the drill-down works, the ranking's league tables are /status's,
light and dark follow the theme passed in the fragment, and nothing is loaded from anywhere but
the bot's server. A forged launch shows nothing. Screenshots go to the test's temporary folder
(and to docs/ with DONDOC_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import Engine

from bot.web import make_web_server
from models import status
from models.db import session_scope
from models.members import load_actor
from models.rollup import parse_period
from sandbox.status_data import PROVINCE_LEADER, TODAY, Seeded, oracle, seed_status
from tests.bot_harness import make_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi
from tests.test_dashboard_web import free_port, launch

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).parents[1] / "docs"
Q3 = "2026-Q3"
LIGHT = {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#707579", "link_color": "#3390ec",
         "button_color": "#3390ec", "button_text_color": "#ffffff", "secondary_bg_color": "#f4f4f5"}
DARK = {"bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa", "link_color": "#8774e1",
        "button_color": "#8774e1", "button_text_color": "#ffffff", "secondary_bg_color": "#181818"}


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_status(engine)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield found
        finally:
            await found.close()


def telegram_url(url: str, init_data: str, theme: dict[str, str]) -> str:
    """The URL as Telegram opens a Mini App: launch data and theme in the fragment."""
    return (f"{url}#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0"
            f"&tgWebAppPlatform=android&tgWebAppThemeParams={quote(json.dumps(theme), safe='')}")


async def phone(browser: Browser, root: str, requests: list[str]) -> Page:
    context = await browser.new_context(viewport={"width": 360, "height": 780}, device_scale_factor=2,
                                        locale="vi-VN")
    page = await context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    return page


async def figures(page: Page) -> dict[str, int]:
    tiles = await page.locator("main .tile").evaluate_all(
        "tiles => tiles.map(t => [t.dataset.figure, Number(t.dataset.value)])")
    return {name: value for name, value in tiles}


def save(shot: bytes, name: str, tmp_path: Path) -> None:
    assert shot.startswith(b"\x89PNG") and len(shot) > 5000
    (tmp_path / name).write_bytes(shot)
    if os.environ.get("DONDOC_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(tmp_path / name, DOCS / name)


async def test_a_leader_opens_the_dashboard_from_status(
        stub: StubBotApi, db_url: str, engine: Engine, seeded: Seeded, browser: Browser,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    settings = make_settings(stub, db_url, web_base_url=root, web_port=port)
    token = settings.require_token()
    leader = stub.user(PROVINCE_LEADER, "Lãnh đạo", language_code="vi")
    period = parse_period(Q3)
    with session_scope(engine) as session:
        actor = load_actor(session, PROVINCE_LEADER, frozenset())
    rollup = status.summary(engine, actor, period, TODAY).rollup
    expected = oracle(engine, period.start, period.end, TODAY)
    requests: list[str] = []
    async with running_bot(settings, engine) as app:
        server = make_web_server(app, settings)
        server.listen(port, address="127.0.0.1")
        try:
            stub.send_text(leader, f"/status {Q3}")
            message = await stub.await_message(PROVINCE_LEADER, contains="Quý 3")
            buttons = [b for row in (message.reply_markup or {})["inline_keyboard"] for b in row]
            url = next(b["url"] for b in buttons if b["text"] == "📊 Mở bảng điều khiển")
            assert url == f"{root}/app/?period={Q3}"

            page = await phone(browser, root, requests)
            await page.goto(telegram_url(url, launch(token, PROVINCE_LEADER, language="vi"), LIGHT))
            await page.wait_for_selector("main[data-state=ready] .tile")
            shown = await figures(page)
            assert shown["owed"] == rollup.totals.owed == expected["owed"]
            assert shown["overdue"] == rollup.totals.overdue == expected["overdue"]
            assert shown["done"] == rollup.totals.done == expected["reported"] + expected["verified"]
            for state in ("verified", "reported", "in_progress", "blocked", "returned", "not_started"):
                assert shown[state] == expected[state], state
            text = await page.inner_text("main")
            assert "Tình hình thực hiện kế hoạch — Quý 3/2026" in text and "toàn tỉnh" in text
            assert await page.locator("main svg.bars").count() == 2
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"wider than the phone: {width}px"
            background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(255, 255, 255)"
            save(await page.screenshot(full_page=True), "dashboard-vi.png", tmp_path)

            # Drill down: axis 1 -> its first task -> an agency -> its items.
            await page.click(f"main [data-nav='axis?period={Q3}&n=1']")
            await page.wait_for_selector("main[data-page^='axis'][data-state=ready]")
            axis = rollup.axis(1)
            assert axis is not None and (await figures(page))["owed"] == axis.counts.owed
            await page.locator("main [data-nav^='task?']").first.click()
            await page.wait_for_selector("main[data-page^='task'][data-state=ready]")
            assert "đơn vị hoàn thành" in await page.inner_text("main")
            await page.locator("main [data-nav^='agency?']").first.click()
            await page.wait_for_selector("main[data-page^='agency'][data-state=ready] .item")
            save(await page.screenshot(full_page=True), "dashboard-vi-agency.png", tmp_path)
            # An item's history (its report versions), then back to the agency, then the summary.
            await page.locator("main .item[data-nav^='history?']").first.click()
            await page.wait_for_selector("main[data-page^='history'][data-state=ready]")
            assert "Lịch sử" in await page.inner_text("main")
            await page.locator("main .back").click()
            await page.wait_for_selector("main[data-page^='agency'][data-state=ready]")
            await page.locator("main .back").click()
            await page.wait_for_selector("main[data-page^='summary'][data-state=ready]")

            # The ranking (🏆 in /status): one league table per level, the same as the chat's.
            tables = status.ranking_page(engine, actor, period, TODAY).tables
            await page.click(f"main [data-nav='ranking?period={Q3}']")
            await page.wait_for_selector("main[data-page^='ranking'][data-state=ready] table.rank")
            assert await page.locator("main table.rank").count() == len(tables)
            shown_rows = await page.locator("main table.rank tbody tr").evaluate_all(
                "rows => rows.map(r => [Number(r.dataset.agency), Number(r.dataset.position)])")
            assert shown_rows == [[line.agency_id, line.position] for table in tables.values()
                                  for line in table]
            assert "Xếp hạng — Quý 3/2026" in await page.inner_text("main")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"the ranking is wider than the phone: {width}px"
            save(await page.screenshot(full_page=False), "dashboard-vi-ranking.png", tmp_path)
            first = next(iter(tables.values()))[0]
            await page.click(f"main table.rank tr[data-agency='{first.agency_id}'] [data-nav^='agency?']")
            await page.wait_for_selector("main[data-page^='agency'][data-state=ready]")
            assert first.name in await page.inner_text("main")
            await page.locator("main .back").click()
            await page.wait_for_selector("main[data-page^='summary'][data-state=ready]")

            # Dark theme from Telegram's theme parameters.
            dark = await phone(browser, root, requests)
            await dark.goto(telegram_url(url, launch(token, PROVINCE_LEADER, language="vi"), DARK))
            await dark.wait_for_selector("main[data-state=ready] .tile")
            assert await dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(33, 33, 33)"
            assert await dark.evaluate("document.documentElement.dataset.scheme") == "dark"
            save(await dark.screenshot(full_page=False), "dashboard-vi-dark.png", tmp_path)

            # Forged launch data (another user's id under the leader's hash): nothing shown.
            forged = launch(token, PROVINCE_LEADER, language="vi").replace(
                f"%22id%22%3A+{PROVINCE_LEADER}", "%22id%22%3A+1001")
            statuses: list[int] = []
            bad = await phone(browser, root, requests)
            bad.on("response", lambda response: statuses.append(response.status)
                   if "/app/api/" in response.url else None)
            await bad.goto(telegram_url(url, forged, LIGHT))
            await bad.wait_for_selector("main[data-state=unauthorized]")
            assert statuses == [401]
            assert await bad.locator("main .tile").count() == 0
            assert "Bảng điều khiển chỉ mở được từ bot trong Telegram" in await bad.inner_text("main")
            # Opened without launch data (a plain browser): nothing asked, nothing shown.
            bare = await phone(browser, root, requests)
            await bare.goto(url)
            await bare.wait_for_selector("main[data-state=unauthorized]")
        finally:
            server.stop()
    outside = [u for u in requests if not u.startswith(root)]
    assert outside == [], outside


async def test_with_two_plans_the_dashboard_asks_which_and_stays_in_it(
        stub: StubBotApi, db_url: str, engine: Engine, seeded: Seeded, browser: Browser,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from domain.periods import DueRules
    from domain.plan_parser import parse_plan
    from models import registry
    from scheduler.deadlines import sync_items
    from tests.second_plan import NUMBER, second_plan

    with session_scope(engine) as session:
        registry.import_plan(session, parse_plan(second_plan()), raw=second_plan(), source_name="kh25.txt",
                             active_from=parse_period(Q3).start)
        ours = registry.require_plan(session, NUMBER)
        sync_items(session, ours, TODAY, DueRules())
        plan_id = ours.id
    monkeypatch.chdir(tmp_path)
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    settings = make_settings(stub, db_url, web_base_url=root, web_port=port)
    token = settings.require_token()
    requests: list[str] = []
    async with running_bot(settings, engine) as app:
        server = make_web_server(app, settings)
        server.listen(port, address="127.0.0.1")
        try:
            page = await phone(browser, root, requests)
            url = f"{root}/app/?period={Q3}"
            await page.goto(telegram_url(url, launch(token, PROVINCE_LEADER, language="vi"), LIGHT))
            await page.wait_for_selector("main[data-state=ready] [data-nav]")
            assert "Đang có nhiều kế hoạch được thực hiện" in await page.inner_text("main")
            await page.click(f"main [data-nav='summary?period={Q3}&plan={plan_id}']")
            await page.wait_for_selector("main[data-page^='summary'][data-state=ready] .tile")
            assert f"kế hoạch {NUMBER}" in await page.inner_text("main")
            assert (await figures(page))["owed"] == 4
            # The axis link carries no plan; the page's script adds the chosen one.
            await page.click(f"main [data-nav='axis?period={Q3}&n=1']")
            await page.wait_for_selector("main[data-page^='axis'][data-state=ready]")
            assert f"plan={plan_id}" in (await page.get_attribute("main", "data-page") or "")
            text = await page.inner_text("main")
            assert "Cải cách thể chế" in text and "Rà soát văn bản" in text
        finally:
            server.stop()
    assert [u for u in requests if not u.startswith(root)] == []
