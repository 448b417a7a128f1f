"""backup / restore / doctor as an operator runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    assert main(["init"]) == 0
    return db_url


def _tasks(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["tasks", "--format", "json"]) == 0
    result: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return result


def test_backup_then_restore_brings_data_back(env: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    if env.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed for PostgreSQL backups")
    before = _tasks(capsys)
    out = tmp_path / ("b.sqlite3" if env.startswith("sqlite") else "b.dump")
    assert main(["backup", "--output", str(out)]) == 0 and out.stat().st_size > 0
    # lose data: re-import a plan with one task fewer (retired)
    plan = tmp_path / "p.txt"
    from models.agencies import bundled

    plan.write_text("\n".join(ln for ln in bundled("plan916.txt").decode().splitlines()
                              if not ln.startswith("4\t\tHướng dẫn")), encoding="utf-8")
    assert main(["import-plan", str(plan), "--apply", "--retire"]) == 0
    assert len(_tasks(capsys)) == 39
    assert main(["restore", str(out)]) == 1  # needs --yes
    assert main(["restore", str(out), "--yes"]) == 0
    assert _tasks(capsys) == before


def test_restore_refuses_garbage(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not env.startswith("sqlite"):
        return
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    capsys.readouterr()
    assert main(["restore", str(junk), "--yes"]) == 1
    assert "not a" in capsys.readouterr().err
    assert len(_tasks(capsys)) == 40


def test_doctor_reports_each_check(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["doctor"]) == 1  # no token set
    out = capsys.readouterr().out
    assert "[ok] database: reachable" in out and "[ok] schema" in out
    assert "[ok] deliveries: pending 0" in out
    assert "[FAIL] bot api: DONDOC_BOT_TOKEN is not set" in out
