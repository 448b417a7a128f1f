"""Numeric targets: the lines people type (a target, a reported value), how values stand against
a target, and the `dondoc target` commands an operator uses (add, list, remove, seed, record)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from domain.targets import (
    PLAN_TARGETS,
    Direction,
    TargetInputError,
    TargetSpec,
    meets,
    parse_target_line,
    parse_value,
    progress,
)

# --- the lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "spec"), [
    ("5.2c 2026 60%", TargetSpec("5.2c", 2026, 60.0)),
    ("5.2D 2026 ≥ 90 %", TargetSpec("5.2d", 2026, 90.0)),
    ("ct1 2016 70,5%", TargetSpec("CT1", 2016, 70.5)),
    ("4.4b 2026 ≤ 5 vụ", TargetSpec("4.4b", 2026, 5.0, "vụ", Direction.AT_MOST)),
    ("4.4b 2026 tối đa 5 vụ", TargetSpec("4.4b", 2026, 5.0, "vụ", Direction.AT_MOST)),
    ("5.2d 2017 trên 100 xã", TargetSpec("5.2d", 2017, 100.0, "xã")),
])
def test_a_typed_target_line_reads_as_its_subject_year_value_and_direction(line: str,
                                                                           spec: TargetSpec) -> None:
    assert parse_target_line(line) == spec


@pytest.mark.parametrize(("line", "code"), [
    ("5.2c", "format"), ("5.2c 2026", "format"), ("5.2c năm 60%", "year"), ("5.2c 1999 60%", "year"),
    ("5.2c 2026 120%", "percent_range"), ("5.2c 2026 abc", "number"), ("?? 2026 60%", "subject"),
    ("5.2c 2026 khoảng 60%", "format"), ("5.2c 2026 60 <b>x</b>", "unit"),
])
def test_a_bad_target_line_is_refused_with_the_rule_it_breaks(line: str, code: str) -> None:
    with pytest.raises(TargetInputError) as raised:
        parse_target_line(line)
    assert raised.value.code == code


@pytest.mark.parametrize(("text", "unit", "value"), [
    ("75", "%", 75.0), ("75%", "%", 75.0), ("đạt 75,5 %", "%", 75.5), ("Đạt 100%", "%", 100.0),
    ("reached 80", "%", 80.0), ("12 xã", "xã", 12.0), ("0", "%", 0.0),
])
def test_a_reported_value_is_read_in_vietnamese_and_english(text: str, unit: str, value: float) -> None:
    assert parse_value(text, unit) == value


@pytest.mark.parametrize(("text", "unit", "code"), [
    ("101%", "%", "percent_range"), ("-5", "%", "number"), ("nhiều", "%", "number"),
    ("12 huyện", "xã", "unit"), ("", "%", "number"),
])
def test_a_bad_value_is_refused(text: str, unit: str, code: str) -> None:
    with pytest.raises(TargetInputError) as raised:
        parse_value(text, unit)
    assert raised.value.code == code


def test_values_stand_against_a_target_as_an_average_and_a_count_meeting_it() -> None:
    assert meets(60, 60, "at_least") and not meets(59.9, 60, "at_least")
    assert meets(5, 5, "at_most") and not meets(6, 5, "at_most")
    result = progress([80, 50, 65], 60, "at_least")
    assert (result.average, result.reporting, result.meeting, result.met) == (65.0, 3, 2, False)
    assert progress([], 60, "at_least").average is None


def test_the_plan_s_targets_are_the_ones_its_text_sets() -> None:
    found = {(t.subject, t.year): (t.value, t.unit) for t in PLAN_TARGETS}
    assert found[("CT1", 2016)] == (70, "%") and found[("CT1", 2020)] == (100, "%")
    # The appendix's note on 5.2d's row speaks of 5.2c (online services at levels 3-4).
    assert found[("5.2c", 2016)] == (60, "%") and found[("5.2c", 2020)] == (90, "%")
    assert found[("5.2d", 2016)] == (90, "%") and found[("5.2d", 2017)] == (100, "%")


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    assert main(["init", "--start", "2026-10-01"]) == 0
    capsys.readouterr()
    return db_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "target", "list", "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_an_operator_adds_lists_and_removes_targets(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "target", "add", "--task", "5.2c", "--year", "2026", "--value", "60",
                       "--note", "Kế hoạch 916")
    assert code == 0 and "5.2c 2026: ≥ 60%" in out
    code, out, _ = run(capsys, "target", "add", "--task", "4.4b", "--year", "2026", "--value", "5",
                       "--unit", "vụ", "--at-most")
    assert code == 0 and "4.4b 2026: ≤ 5 vụ" in out
    rows = listed(capsys)
    assert [(r["subject"], r["year"], r["value"], r["unit"], r["direction"], r["source"]) for r in rows] == [
        ("4.4b", 2026, 5.0, "vụ", "at_most", "admin"), ("5.2c", 2026, 60.0, "%", "at_least", "admin")]
    assert rows[1]["note"] == "Kế hoạch 916" and "mức độ 3" in str(rows[1]["text"])
    code, out, _ = run(capsys, "target", "remove", str(rows[0]["id"]))
    assert code == 0 and "removed" in out
    assert [r["subject"] for r in listed(capsys)] == ["5.2c"]
    assert listed(capsys, "--year", "2027") == []


@pytest.mark.parametrize(("argv", "words"), [
    (["--task", "9.9", "--year", "2026", "--value", "60"], "no such task"),
    (["--task", "5.2c", "--year", "2026", "--value", "160"], "between 0 and 100"),
    (["--task", "5.2c", "--year", "2026", "--value", "sáu mươi"], "must be a number"),
    (["--task", "5.2c", "--year", "1900", "--value", "60"], "between 2000 and 2100"),
    (["--indicator", "5.2c", "--year", "2026", "--value", "60"], "starts with a letter"),
    (["--year", "2026", "--value", "60"], "either --task"),
])
def test_a_bad_target_is_refused_in_one_line_and_nothing_is_stored(
        cli: str, capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    code, out, err = run(capsys, "target", "add", *argv)
    assert code == 1 and not out and err.count("\n") == 1 and words in err
    assert listed(capsys) == []


def test_a_second_target_for_the_same_task_and_year_is_refused(
        cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "target", "add", "--task", "5.2c", "--year", "2026", "--value", "60")[0] == 0
    code, _, err = run(capsys, "target", "add", "--task", "5.2c", "--year", "2026", "--value", "70")
    assert code == 1 and "already has a target for 2026" in err and "dondoc target remove" in err
    assert [r["value"] for r in listed(capsys)] == [60.0]
    code, _, err = run(capsys, "target", "remove", "999")
    assert code == 1 and "no target with id 999" in err


def test_the_plan_s_targets_are_seeded_once_and_a_value_is_recorded(
        cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "target", "seed")
    assert code == 0 and out.strip() == "9 plan targets added, 0 already there."
    code, out, _ = run(capsys, "target", "seed")
    assert code == 0 and out.strip() == "0 plan targets added, 9 already there."
    rows = listed(capsys, "--year", "2016")
    assert {(r["subject"], r["value"], r["source"]) for r in rows} == {
        ("CT1", 70.0, "plan"), ("5.2c", 60.0, "plan"), ("5.2d", 90.0, "plan")}
    assert "được biết, được bàn" in str(next(r for r in rows if r["subject"] == "CT1")["text"])
    code, out, _ = run(capsys, "target", "record", "ct1", "--year", "2016", "--value", "72")
    assert code == 0 and "72 recorded for ct1 (2016)" in out
    code, _, err = run(capsys, "target", "record", "CT1", "--year", "2016", "--value", "172")
    assert code == 1 and "does not fit" in err
    code, _, err = run(capsys, "target", "record", "CT1", "--year", "2031", "--value", "72")
    assert code == 1 and "no target for 2031" in err
