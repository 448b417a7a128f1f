"""The command line as an operator uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from models.agencies import bundled

DISTRICTS = str(Path(__file__).parents[1] / "models" / "data" / "quang_ninh_districts_2016.csv")


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    return db_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_then_tasks_json(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "init")
    assert code == 0 and "Imported plan 916/KH-UBND: 40 tasks" in out
    code, out, _ = run(capsys, "tasks", "--format", "json")
    tasks = json.loads(out)
    assert len(tasks) == 40
    assert [Counter(t["axis"] for t in tasks)[a] for a in range(1, 7)] == [4, 7, 3, 11, 7, 8]
    keys = {"code", "axis", "content", "task", "lead", "coordinating", "timeframe", "cadence", "note"}
    assert all(keys <= t.keys() and t["lead"] and t["timeframe"] for t in tasks)
    by_code = {t["code"]: t for t in tasks}
    assert by_code["4.2b"]["lead"] == ["Sở Y tế"] and by_code["4.2b"]["timeframe"] == "Thường xuyên"


def test_init_twice_keeps_one_plan(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "init")
    assert code == 0 and "already loaded" in out


def test_tasks_table_is_readable(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "tasks", "--axis", "3")
    assert code == 0
    assert "Axis 3: Trách nhiệm giải trình với người dân" in out
    assert "3 tasks." in out


def test_reimport_reports_no_changes(cli_env: str, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    run(capsys, "init")
    plan = tmp_path / "plan.txt"
    plan.write_bytes(bundled("plan916.txt"))
    code, out, _ = run(capsys, "import-plan", str(plan))
    assert code == 0 and "no changes" in out
    changed = bundled("plan916.txt").decode().replace("Định kỳ hàng quý", "Hàng năm", 1)
    plan.write_text(changed, encoding="utf-8")
    code, out, _ = run(capsys, "import-plan", str(plan))
    assert code == 0 and "1.1 timeframe: 'Định kỳ hàng quý' -> 'Hàng năm'" in out


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"\xc3\x28 not utf-8", "UTF-8"),
    (b"Just a letter, no table.\n", "no appendix table"),
    ("STT\tNội dung\tViệc\tTrách nhiệm cụ thể\t\tThời gian thực hiện\tGhi chú\n".encode(), "column"),
])
def test_malformed_plan_is_refused_in_one_line(cli_env: str, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, content: bytes, message: str) -> None:
    run(capsys, "init")
    before = run(capsys, "tasks", "--format", "json")[1]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    code, _, err = run(capsys, "import-plan", str(bad))
    assert code == 1
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert run(capsys, "tasks", "--format", "json")[1] == before


def test_missing_file_and_missing_schema(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tasks")
    assert code == 1 and "dondoc init" in err
    code, _, err = run(capsys, "import-plan", "/nonexistent/plan.txt")
    assert code == 1 and "no such file" in err


def test_agencies_import_and_list(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "agencies", "import", DISTRICTS)
    assert code == 0 and "14 added" in out
    _, out, _ = run(capsys, "agencies", "import", DISTRICTS)
    assert "0 added, 0 updated, 14 unchanged" in out
    code, out, _ = run(capsys, "agencies", "list", "--format", "json")
    listing = json.loads(out)
    districts = [a for a in listing if a["level"] == "district"]
    assert len(districts) == 14 and all("UBND cấp huyện" in a["classes"] for a in districts)


def test_bad_agency_csv(cli_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "init")
    bad = tmp_path / "a.csv"
    bad.write_text("name,code,level,parent,classes,aliases\nA,A1,district,NOPE,,\n", encoding="utf-8")
    code, _, err = run(capsys, "agencies", "import", str(bad))
    assert code == 1 and "line 2" in err and "NOPE" in err


def test_bad_setting_is_named(cli_env: str, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DONDOC_TIMEZONE", "Mars/Olympus")
    code, _, err = run(capsys, "tasks")
    assert code == 1 and "DONDOC_TIMEZONE" in err


def test_help_and_run_without_token_in_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env["DONDOC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    exe = [sys.executable, "-m", "bot.cli"]
    helped = subprocess.run([*exe, "--help"], capture_output=True, text=True, env=env, cwd=tmp_path,
                            check=False)
    for command in ("init", "run", "import-plan", "agencies", "tasks"):
        assert command in helped.stdout
    ran = subprocess.run([*exe, "run"], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=60, check=False)
    assert ran.returncode == 1
    assert "DONDOC_BOT_TOKEN is not set" in ran.stderr and "@BotFather" in ran.stderr
    assert "Traceback" not in ran.stderr
