"""Settings checked together at start: a send time inside quiet hours, a token of the wrong shape
and an unreachable Bot API each stop every command (or `run`) with one line and exit 1; times
the command line prints are local (DONDOC_TIMEZONE). Each case once through a real `dondoc`
process; the variants through ``bot.cli.main`` in this process (the same code, faster)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.stub_botapi import StubBotApi

ROOT = Path(__file__).parents[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    values.update(DONDOC_DATABASE_URL=f"sqlite:///{tmp_path / 'dondoc.sqlite3'}",
                  DONDOC_ENV_FILE=str(tmp_path / "no.env"), PYTHONPATH=str(ROOT))
    return values


def dondoc(env: dict[str, str], cwd: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *argv], env={**env, **extra}, cwd=cwd,
                          capture_output=True, text=True, timeout=90)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("dondoc: error: ")
    return done.stderr.strip()


def in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
               *argv: str, **extra: str) -> str:
    with monkeypatch.context() as patch:
        patch.chdir(Path(env["DONDOC_ENV_FILE"]).parent)
        for name, value in {**env, **extra}.items():
            if name.startswith("DONDOC_"):
                patch.setenv(name, value)
        code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("dondoc: error: "), err
    return err.strip()


def test_a_send_time_inside_quiet_hours_is_refused(env: dict[str, str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line(dondoc(env, tmp_path, "run", DONDOC_BOT_TOKEN="123:ABC", DONDOC_REMIND_AT="22:00"))
    assert line == ("dondoc: error: DONDOC_REMIND_AT=22:00 is inside the quiet hours "
                    "(DONDOC_QUIET_START=21:00 to DONDOC_QUIET_END=07:00), when nothing is sent; choose a "
                    "time outside them or change the quiet hours")
    for setting, value in [("DONDOC_REMIND_AT", "21:00"), ("DONDOC_REMIND_AT", "06:59"),
                           ("DONDOC_DIGEST_AT", "03:00")]:
        for argv in (["tasks"], ["schedule", "--from", "2026-12-01", "--to", "2026-12-31"]):
            line = in_process(monkeypatch, capsys, env, *argv, **{setting: value})
            assert f"{setting}={value}" in line and "DONDOC_QUIET_START=21:00" in line


def test_quiet_hours_moved_make_the_same_time_fine(env: dict[str, str], tmp_path: Path) -> None:
    done = dondoc(env, tmp_path, "init", DONDOC_REMIND_AT="22:00", DONDOC_QUIET_START="23:00")
    assert done.returncode == 0, done.stderr


def test_a_token_of_the_wrong_shape_is_one_line_for_every_command(env: dict[str, str], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line(dondoc(env, tmp_path, "run", DONDOC_BOT_TOKEN="123456:ABC def"))
    assert "DONDOC_BOT_TOKEN: does not look like a bot token" in line and "ABC def" not in line
    for token in ["123456:ABC/../x", "bot123456:ABC", "123456:", "123456:ABC\"",
                  "12345678901234567890123:ABC", "123456:ÂBC"]:
        for command in ("run", "init", "doctor", "tasks"):
            line = in_process(monkeypatch, capsys, env, command, DONDOC_BOT_TOKEN=token)
            assert "DONDOC_BOT_TOKEN: does not look like a bot token" in line, (token, command)
            assert token not in line  # a secret is not echoed


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_or_refusing_bot_api_stops_run_in_one_line(env: dict[str, str], tmp_path: Path,
                                                                  stub_botapi: StubBotApi) -> None:
    assert dondoc(env, tmp_path, "init").returncode == 0
    url = f"http://127.0.0.1:{_closed_port()}"
    line = one_line(dondoc(env, tmp_path, "run", DONDOC_BOT_TOKEN="123:ABC", DONDOC_BOT_API_URL=url))
    assert line == f"dondoc: error: bot api: {url} unreachable: ConnectError"
    doctor = dondoc(env, tmp_path, "doctor", DONDOC_BOT_TOKEN="123:ABC", DONDOC_BOT_API_URL=url)
    assert f"[FAIL] bot api: {url} unreachable: ConnectError" in doctor.stdout  # says it the same way
    # Reachable, but the token is not the bot's: Telegram answers 401.
    line = one_line(dondoc(env, tmp_path, "run", DONDOC_BOT_TOKEN="999:WRONG",
                           DONDOC_BOT_API_URL=stub_botapi.url))
    assert line == f"dondoc: error: bot api: {stub_botapi.url}: Unauthorized"


def test_invite_prints_the_expiry_in_local_time(env: dict[str, str], tmp_path: Path) -> None:
    assert dondoc(env, tmp_path, "init").returncode == 0
    # 23:30 in Hà Nội is 16:30 UTC: the printed hour tells which one it is.
    invite = subprocess.run([sys.executable, "-m", "sandbox.run_at", "2026-12-24T23:30:00+07:00", "invite",
                             "--agency", "SNV", "--role", "leader"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=90)
    assert invite.returncode == 0, invite.stderr
    assert "expires 2026-12-31 23:30 (Asia/Ho_Chi_Minh)" in invite.stdout
    listed = dondoc(env, tmp_path, "invitations", "list")
    assert "expires 2026-12-31 23:30 (Asia/Ho_Chi_Minh)" in listed.stdout
    as_json = dondoc(env, tmp_path, "invitations", "list", "--format", "json")
    assert '"expires_at": "2026-12-31T23:30:00' in as_json.stdout and "+07:00" in as_json.stdout
    other_zone = dondoc(env, tmp_path, "invitations", "list", DONDOC_TIMEZONE="Europe/Paris")
    assert "expires 2026-12-31 17:30 (Europe/Paris)" in other_zone.stdout
