"""`make demo` in Chromium (Debian's, driven by Playwright): the demo process starts the stand-in,
the bot with a sample province and the chat page; a focal point reports a task through the chat
page's buttons and text, and the leader sees it in /status and in the dashboard the /status
button opens (with launch data the demo signs as Telegram would)."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.test_dashboard_browser import browser, save  # noqa: F401
from tests.test_dashboard_web import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[1]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    port, web_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.demo", "--port", str(port), "--web-port",
                             str(web_port), "--dir", str(tmp_path / "demo")], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(out) for out in proc.stdout or ()], daemon=True).start()
    seen = []
    try:  # warnings may come first; a demo that never says "open" fails instead of hanging
        while not any("dondoc demo: open" in out for out in seen):
            seen.append(lines.get(timeout=120))
    except queue.Empty:
        proc.kill()
        pytest.fail("the demo did not start within 120 s:\n" + "".join(seen))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


async def say(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.click("#composer button[type=submit]")


async def press(page: Page, prefix: str, suffix: str = "") -> None:
    """The button of the bot's last message whose data starts with prefix (and ends with suffix)."""
    ends = f"[data-press$='{suffix}']" if suffix else ""
    await page.locator(".msg.bot").last.locator(f".kb[data-press^='{prefix}']{ends}").first.click()


async def done_figure(page: Page, period_label: str) -> int:
    message = page.locator(".msg.bot", has_text=period_label).last
    text = await message.inner_text()
    # Completed = on time + late (the official classes; reported and verified alike).
    found = [re.search(rf"Hoàn thành {when}: (\d+)", text) for when in ("đúng hạn", "quá hạn")]
    assert all(found), text
    return sum(int(f.group(1)) for f in found if f)


async def test_a_focal_point_reports_and_the_leader_sees_it(demo: str, browser: Browser,  # noqa: F811
                                                             tmp_path: Path) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 800})
    page = await context.new_page()
    await page.goto(demo)
    await page.click(".who[data-user='5001']")  # the focal point of Hạ Long
    await say(page, "/report")
    await page.wait_for_selector(".msg.bot .kb[data-press^='rp:']")
    first = await page.locator(".msg.bot").last.inner_text()
    period = re.search(r"kỳ (\d{4}-Q\d)", first)
    assert period, first
    key = period.group(1)
    await press(page, "rp:")
    await page.wait_for_selector(".kb[data-press$=':state:done']")

    # The leader's figures for that period before the report.
    leader = await context.new_page()
    await leader.goto(demo)
    await leader.click(".who[data-user='5003']")
    label = f"Quý {key[-1]}/{key[:4]}"
    await say(leader, f"/status {key}")
    await leader.wait_for_selector(f".msg.bot:has-text('{label}')")
    before = await done_figure(leader, label)

    await press(page, "d:", ":state:done")
    await page.wait_for_selector(".msg.bot:has-text('Nhập ghi chú ngắn')")
    await say(page, "Đã tổ chức 3 hội nghị tuyên truyền")
    await page.wait_for_selector(".kb[data-press$=':evidence:next']")
    await say(page, "123/BC-UBND")
    await page.wait_for_selector(".msg.bot:has-text('Số văn bản: 123/BC-UBND')")
    await press(page, "d:", ":evidence:next")
    await page.wait_for_selector(".kb[data-press$=':review:ok']")
    await press(page, "d:", ":review:ok")
    await page.wait_for_selector(".msg.bot:has-text('Đã gửi: phiên bản 1')")
    save(await page.screenshot(), "demo-chat.png", tmp_path)

    await say(leader, f"/status {key}")
    await leader.wait_for_function(
        "n => document.querySelectorAll('.msg.bot').length >= n", arg=2)
    await leader.wait_for_timeout(1500)
    after = await done_figure(leader, label)
    assert after == before + 1

    # The /status button opens the dashboard (a plain link here: local http), signed for the leader.
    async with context.expect_page() as opened:
        await leader.locator(".msg.bot").last.locator(".kb[data-url*='/app/']").click()
    dashboard = await opened.value
    await dashboard.wait_for_selector("main[data-state=ready] .tile")
    shown = await dashboard.locator("main .tile[data-figure='done']").get_attribute("data-value")
    assert shown == str(after)
    assert "Tình hình thực hiện kế hoạch" in await dashboard.inner_text("main")
    await context.close()
