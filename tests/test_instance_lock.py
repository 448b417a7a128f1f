"""One `dondoc run` per SQLite file, whatever name reaches it: a second one through a symlink
(to the file or to its directory) or a relative path with ``..`` exits with the clear message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stub_botapi import StubBotApi

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[1]


def _env(stub: StubBotApi, url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, DONDOC_DATABASE_URL=url,
               DONDOC_ENV_FILE=str(tmp / "no.env"), PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def first(stub_botapi: StubBotApi, tmp_path: Path) -> Iterator[Path]:
    """A running bot on data/dondoc.sqlite3 (its real path)."""
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "dondoc.sqlite3"
    env = _env(stub_botapi, f"sqlite:///{real}", tmp_path)
    subprocess.run([sys.executable, "-m", "bot.cli", "init"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        stub_botapi.wait_for_call("getUpdates", timeout=60)
        yield real
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out


def _second(stub: StubBotApi, url: str, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *(argv or ("run",))],
                          env=_env(stub, url, cwd), cwd=cwd, capture_output=True, text=True, timeout=60)


def test_second_run_through_a_symlink_or_a_relative_path_is_refused(
        stub_botapi: StubBotApi, first: Path, tmp_path: Path) -> None:
    file_link = tmp_path / "link.sqlite3"
    file_link.symlink_to(first)
    dir_link = tmp_path / "elsewhere"
    dir_link.symlink_to(first.parent, target_is_directory=True)
    (tmp_path / "sub").mkdir()
    ways = [f"sqlite:///{file_link}",  # a symlink to the file
            f"sqlite:///{dir_link / 'dondoc.sqlite3'}",  # through a symlinked directory
            "sqlite:///data/dondoc.sqlite3",  # relative to the working directory
            "sqlite:///sub/../data/./dondoc.sqlite3"]  # relative, with .. and .
    for url in ways:
        second = _second(stub_botapi, url, tmp_path)
        assert second.returncode == 1, (url, second.stdout, second.stderr)
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
        assert "another dondoc instance is already running on" in lines[0]
        assert str(first.resolve()) in lines[0]  # it names the file, not the link
    # restore takes the same lock: it refuses through the link as well, and changes nothing.
    backup = tmp_path / "copy.sqlite3"
    backup.write_bytes(first.read_bytes())
    restore = _second(stub_botapi, f"sqlite:///{file_link}", tmp_path, "restore", str(backup), "--yes")
    assert restore.returncode == 1 and "already running" in restore.stderr
