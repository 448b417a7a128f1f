"""The real `dondoc run` process, against the local Bot API stand-in over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stub_botapi import StubBotApi

ROOT = Path(__file__).parents[1]


def _env(stub: StubBotApi, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url,
               DONDOC_DATABASE_URL=f"sqlite:///{db}", PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def bot_process(stub_botapi: StubBotApi, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    env = _env(stub_botapi, tmp_path / "bot.sqlite3")
    subprocess.run([sys.executable, "-m", "bot.cli", "init"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def test_real_process_answers_start_in_vietnamese(stub_botapi: StubBotApi,
                                                  bot_process: subprocess.Popen[str]) -> None:
    stub_botapi.wait_for_call("getUpdates", timeout=30)
    user = stub_botapi.user(501, "Lan <Thị> & Co", language_code="vi")
    stub_botapi.send_text(user, "/start")
    message = stub_botapi.wait_for_message(501, timeout=20)
    assert "Xin chào" in message.text and "Lan <Thị> & Co" in message.text
    assert "chưa được đăng ký" in message.text and "liên kết mời" in message.text

    english = stub_botapi.user(502, "Ann", language_code="en-GB")
    stub_botapi.send_text(english, "/help")
    assert "dondoc" in stub_botapi.wait_for_message(502, timeout=20).text

    # the command menu is set in Vietnamese (default and vi) and English
    assert stub_botapi.commands(language_code="en")
    vi_menu = stub_botapi.commands(language_code="vi")
    assert vi_menu and vi_menu == stub_botapi.commands()

    bot_process.send_signal(signal.SIGTERM)
    assert bot_process.wait(timeout=30) == 0
