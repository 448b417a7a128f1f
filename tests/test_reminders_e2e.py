"""The real ``dondoc run`` process against the Bot API stand-in, its clock 10 seconds before a
reminder is due: one message per focal point that owes something (and, to the focal points of
agencies that coordinate tasks, one notice that the period began), nothing after a restart, and
no second instance on the same SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.db import make_engine
from tests.reminder_helpers import add_member
from tests.stub_botapi import SentMessage, StubBotApi

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[1]
DISTRICTS = str(ROOT / "models" / "data" / "quang_ninh_districts_2016.csv")
# Wednesday 24 March 2027, 7 days before Q1 ends (Wednesday 31 March); reminders go at 08:30.
CLOCK = "2027-03-24T08:29:50+07:00"
SYT, HALONG, STP, HALONG_LEADER = 201, 202, 203, 204


@pytest.fixture
def stub() -> Iterator[StubBotApi]:
    with StubBotApi() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, stub: StubBotApi) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'dondoc.sqlite3'}"
    values = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    values.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, DONDOC_DATABASE_URL=url,
                  DONDOC_ENV_FILE=str(tmp_path / "no.env"), DONDOC_LOG_LEVEL="INFO",
                  PYTHONPATH=str(ROOT))
    for argv in (["init", "--start", "2027-03-01"], ["agencies", "import", DISTRICTS]):
        subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=values, cwd=tmp_path, check=True,
                       capture_output=True, timeout=60)
    engine = make_engine(url)
    add_member(engine, SYT, "SYT")  # owes 6.1b (quarterly)
    add_member(engine, HALONG, "HA-LONG")  # owes 1.1 (quarterly)
    add_member(engine, STP, "STP")  # Sở Tư pháp owes nothing this quarter (coordinates 5.2c)
    add_member(engine, HALONG_LEADER, "HA-LONG", role="leader")  # nothing overdue: not told
    engine.dispose()
    return values


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sandbox.run_at", CLOCK, "run"], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


def sends(stub: StubBotApi) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in stub.calls("sendMessage"):
        if call.ok:
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


def opening(message: SentMessage) -> bool:
    """A coordinating agency's notice that a period began (its button picks a lead's item)."""
    return any(d.startswith("cp:") for d in message.button_datas())


def test_real_process_reminds_once_and_not_again_after_a_restart(env: dict[str, str], stub: StubBotApi,
                                                                 tmp_path: Path) -> None:
    bot = start(env, tmp_path)
    try:
        # The period's opening notice first (the first tick), then the 08:30 reminder.
        stub.wait_for_message(SYT, count=2, timeout=60)
        stub.wait_for_message(HALONG, count=2, timeout=10)
        time.sleep(3)  # anything else would have gone out with them
    finally:
        log = stop(bot)
    assert bot.returncode == 0, log
    # Each also coordinates tasks of the running period: told once that it began.
    assert sends(stub) == {SYT: 2, HALONG: 2, STP: 1}, log
    for chat in (SYT, HALONG, STP):
        (opened,) = [m for m in stub.sent_messages(chat) if opening(m)]
        assert opened.contains("has begun") or opened.contains("đã bắt đầu"), opened.text
    (syt,) = [m for m in stub.sent_messages(SYT) if not opening(m)]
    (halong,) = [m for m in stub.sent_messages(HALONG) if not opening(m)]
    assert syt.contains("6.1b") and not syt.contains("1.1 ")
    assert halong.contains("1.1") and not halong.contains("6.1b")
    assert "7 days left (due 3/31/27)" in (syt.text or ""), syt.text  # an English focal point, 7 days before

    # The same morning again: the ledger already says sent.
    again = start(env, tmp_path)
    try:
        time.sleep(4)
        second = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert "another dondoc instance is already running" in second.stderr
        assert "Traceback" not in second.stderr
        time.sleep(16)  # 20 s in all: past 08:30 on the bot's clock
    finally:
        log = stop(again)
    assert again.returncode == 0, log
    assert sends(stub) == {SYT: 2, HALONG: 2, STP: 1}, log
    assert any(c.method == "getUpdates" for c in stub.calls())
