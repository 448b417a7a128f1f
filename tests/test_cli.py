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


def _seed_without_row_1_4() -> str:
    lines = bundled("plan916.txt").decode().split("\n")
    return "\n".join(ln for ln in lines if not ln.startswith("4\t\tHướng dẫn, kiểm tra"))


def test_import_plan_previews_then_applies(cli_env: str, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    run(capsys, "init")
    before = run(capsys, "tasks", "--format", "json")[1]
    plan = tmp_path / "plan.txt"
    plan.write_text(bundled("plan916.txt").decode().replace("Định kỳ hàng quý", "Hàng năm", 1),
                    encoding="utf-8")
    code, out, _ = run(capsys, "import-plan", str(plan))
    assert code == 0 and out.startswith("Plan 916/KH-UBND would be updated: 0 added, 0 retired, "
                                        "2 field changes.\n")
    assert "  ~ 1.1 cadence: 'quarterly' -> 'annual'" in out
    assert f"Nothing was changed (preview). To apply: dondoc import-plan {plan} --apply\n" in out
    assert run(capsys, "tasks", "--format", "json")[1] == before
    code, out, _ = run(capsys, "import-plan", str(plan), "--apply")
    assert code == 0 and out.startswith("Plan 916/KH-UBND updated: 0 added, 0 retired, 2 field")
    assert "preview" not in out
    assert json.loads(run(capsys, "tasks", "--format", "json")[1])[0]["cadence"] == "annual"
    code, out, _ = run(capsys, "import-plan", str(plan), "--apply")
    assert code == 0 and out.startswith("Plan 916/KH-UBND: no changes; the registry already "
                                        "matches plan.txt.")


def test_retiring_a_task_needs_retire(cli_env: str, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    run(capsys, "init")
    before = run(capsys, "tasks", "--format", "json")[1]
    plan = tmp_path / "smaller.txt"
    plan.write_text(_seed_without_row_1_4(), encoding="utf-8")
    code, out, _ = run(capsys, "import-plan", str(plan))
    assert code == 0 and "  - 1.4 (retired): 0 pending reminders would stop; 0 open items" in out
    assert out.endswith(f"To apply: dondoc import-plan {plan} --apply --retire\n")
    code, out, err = run(capsys, "import-plan", str(plan), "--apply")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"dondoc: error: {plan}: applying it would retire 1 task (1.4), stop 0 "
                          "pending reminders") and "add --retire to confirm" in err
    assert run(capsys, "tasks", "--format", "json")[1] == before
    code, out, _ = run(capsys, "import-plan", str(plan), "--apply", "--retire", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["applied"] and report["retired"] == ["1.4"]
    assert report["stopping"] == [{"code": "1.4", "reminders": 0, "open_items": 0}]
    assert len(json.loads(run(capsys, "tasks", "--format", "json")[1])) == 39


def test_oversized_plan_is_refused_before_it_is_read(cli_env: str, capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import cli_plan

    run(capsys, "init")

    def never(*_: object, **__: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(cli_plan, "parse_document", never)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: 65 MB that nothing needs to read
        handle.truncate(65 * 2**20)
    for path, size in ((huge, "65.0"), (Path("/dev/zero"), "2.0")):
        code, _, err = run(capsys, "import-plan", str(path), "--apply")
        assert code == 1 and err == (f"dondoc: error: {path}: the file has {size} MB; a plan "
                                     "document may have at most 2 MB\n")


def test_import_that_runs_too_long_is_stopped(cli_env: str, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing is interrupted at the limit; database work stops at its next check (here the
    last one, after the rows were written), and the transaction rolls back."""
    import time

    from bot import cli_plan

    run(capsys, "init")
    before = run(capsys, "tasks", "--format", "json")[1]
    plan = tmp_path / "smaller.txt"
    plan.write_text(_seed_without_row_1_4(), encoding="utf-8")
    stopped = (f"dondoc: error: {plan}: the import took longer than 0.3 s and was stopped; "
               "nothing was changed\n")
    monkeypatch.setattr(cli_plan, "IMPORT_TIME_LIMIT_SECONDS", 0.3)
    real_parse, real_import = cli_plan.parse_document, cli_plan.registry.import_plan

    def slow_parse(*args: object, **kwargs: object) -> object:
        time.sleep(5)  # the alarm interrupts it
        return real_parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_plan, "parse_document", slow_parse)
    assert run(capsys, "import-plan", str(plan), "--apply", "--retire") == (1, "", stopped)
    monkeypatch.setattr(cli_plan, "parse_document", real_parse)

    now = [0.0]

    def late_import(*args: object, **kwargs: object) -> object:
        report = real_import(*args, **kwargs)  # type: ignore[arg-type]
        now[0] = 1.0  # written, not committed: the time is up
        return report

    monkeypatch.setattr(cli_plan, "_clock", lambda: now[0])
    monkeypatch.setattr(cli_plan.registry, "import_plan", late_import)
    code, _, err = run(capsys, "import-plan", str(plan), "--apply", "--retire")
    assert code == 1 and err == stopped
    assert run(capsys, "tasks", "--format", "json")[1] == before


def test_import_waiting_for_a_lock_is_stopped(pg_url: str, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: another transaction holds the plan's row; the import gives up at its limit."""
    from sqlalchemy import text

    from bot import cli_plan
    from models.db import make_engine

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", pg_url)
    run(capsys, "init")
    monkeypatch.setattr(cli_plan, "IMPORT_TIME_LIMIT_SECONDS", 0.5)
    plan = tmp_path / "plan.txt"
    plan.write_bytes(bundled("plan916.txt"))
    engine = make_engine(pg_url)
    try:
        with engine.begin() as holder:
            holder.execute(text("SELECT id FROM plan FOR UPDATE"))
            code, _, err = run(capsys, "import-plan", str(plan), "--apply")
    finally:
        engine.dispose()
    assert code == 1 and err == (f"dondoc: error: {plan}: the import took longer than 0.5 s and "
                                 "was stopped; nothing was changed\n")


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


def test_a_second_plan_then_plan_list_tasks_and_close(cli_env: str, capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    from tests.second_plan import second_plan

    run(capsys, "init")
    document = tmp_path / "kh25.txt"
    document.write_bytes(second_plan())
    code, out, _ = run(capsys, "import-plan", str(document), "--apply", "--start", "2027-01-01")
    assert code == 0 and out.startswith("Plan 25/KH-UBND imported: 3 tasks.")
    code, out, _ = run(capsys, "plan", "list")
    assert code == 0 and "2 plans." in out
    assert "25/KH-UBND" in out and "   3 tasks" in out and "  40 tasks" in out
    # Commands taking a plan: with two in force, a clear error naming them; --plan picks one.
    code, _, err = run(capsys, "tasks")
    assert code == 1 and "2 plans are in force (25/KH-UBND, 916/KH-UBND)" in err and "--plan" in err
    code, out, _ = run(capsys, "tasks", "--plan", "25/KH-UBND", "--format", "json")
    assert code == 0 and [t["code"] for t in json.loads(out)] == ["1.1", "1.2", "2.1"]
    assert len(json.loads(run(capsys, "tasks", "--plan", "916/KH-UBND", "--format", "json")[1])) == 40
    # Closing asks for --yes; then the plan is closed, audit-logged, its tasks still listed.
    code, out, _ = run(capsys, "plan", "close", "25/KH-UBND")
    assert code == 0 and "Nothing was changed; add --yes" in out
    assert "closed" not in run(capsys, "plan", "list")[1]
    code, out, _ = run(capsys, "plan", "close", "25/KH-UBND", "--yes")
    assert code == 0 and out.startswith("Closed plan 25/KH-UBND")
    listing = run(capsys, "plan", "list", "--format", "json")[1]
    closed = {row["number"]: row["closed_at"] for row in json.loads(listing)}
    assert closed["916/KH-UBND"] == "" and closed["25/KH-UBND"]
    assert len(json.loads(run(capsys, "tasks", "--format", "json")[1])) == 40  # the only one in force
    assert "audit" not in run(capsys, "audit", "--action", "plan.close")[2]
    assert "plan.close" in run(capsys, "audit", "--action", "plan.close")[1]
