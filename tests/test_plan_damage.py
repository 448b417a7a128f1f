"""Damaged copies of Plan 916, generated from the seed, against the importer.

Each variant is judged by what the document means, not by what the parser happens to do:

* ``refused``: the copy is damaged (cut inside a row, a row repeated, cells merged or split,
  markup or control characters, numbering that jumps or goes back, an axis left without rows):
  parsing raises ``PlanFormatError`` naming the line (and, for a task row, its code).
* ``same``: the copy still says exactly what the seed says (a cut right at the end of the table,
  a blank line repeated): it parses to the seed's registry.
* ``other``: the copy is a genuinely valid, different plan (cut at a row boundary; a row removed
  or two rows swapped where the numbering stays sound, as a reader of the table would say by its
  STT column): it holds only the seed's task texts, none invented, and importing it over the
  seed needs ``--retire`` (tasks retired, or codes that would carry another task's text).
* ``edit``: a misspelt word in a task text is an edit no importer can tell from a real one: it
  changes exactly that task's text, and the preview says so; nothing is retired.

A cut right before a note the row had is the one ambiguity of the format (the row looks
complete with an empty note): it is an ``other`` (a smaller plan, which needs ``--retire``).

Everything is parsed in memory; previews run on one SQLite registry (read-only), and a
sample of refusals goes through ``dondoc import-plan --apply --retire`` on SQLite and
PostgreSQL, with the whole database dumped before and after.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli import main
from domain.plan_parser import ParsedPlan, PlanFormatError, parse_plan
from models import registry
from models.db import make_engine
from sandbox.db_dump import dump
from sandbox.plan_damage import (
    LINES,
    ROW_KINDS,
    ROWS,
    SEED,
    SEED_PLAN,
    SEED_TEXTS,
    TEXT,
    UNPLACED,
    VARIANTS,
    Expect,
    Variant,
    join_lines,
    replace_line,
    row_text,
    structure_ok,
)
from tests.conftest import load_plan916


def test_the_model_accepts_the_seed() -> None:
    assert structure_ok(LINES)
    assert len(ROWS) == 40 and [row_text(i) for i in ROWS] == SEED_TEXTS




# --------------------------------------------------------------------------- judging them


def _meaning(plan: ParsedPlan) -> tuple[object, ...]:
    return (plan.number, plan.issued_on, plan.title, plan.axes,
            tuple((t.code, t.axis, t.row, t.content, t.task, t.lead, t.coordinating,
                   t.coordination_note, t.timeframe, t.cadence, t.note) for t in plan.tasks))


SEED_MEANING = _meaning(SEED_PLAN)


def _judge(variant: Variant, session: Session) -> str | None:
    """What is wrong with how the variant was handled, or None."""
    try:
        parsed = parse_plan(variant.data)
    except PlanFormatError as exc:
        if variant.expect != "refused":
            return f"refused ({exc}) but expected {variant.expect}"
        if exc.line is None and not str(exc).startswith(UNPLACED):
            return f"refused without naming the line: {exc}"
        # A row that lost all its tabs is text, not a row: the message says which task it follows.
        if (variant.kind in ROW_KINDS and variant.in_row and exc.task is None
                and "not a row" not in str(exc)
                and not str(exc).startswith(UNPLACED)):
            return f"refused without naming the task: {exc}"
        return None
    if variant.expect == "refused":
        return f"accepted ({len(parsed.tasks)} tasks) but it is damaged"
    if variant.expect == "same":
        return None if _meaning(parsed) == SEED_MEANING else "accepted with another meaning"
    report = registry.preview_import(session, parsed)
    if variant.expect == "edit":
        return _judge_edit(parsed, report)
    return _judge_other(variant, parsed, report)


def _judge_edit(parsed: ParsedPlan, report: registry.ImportReport) -> str | None:
    differ = [(a.code, a.task, b.task) for a, b in zip(SEED_PLAN.tasks, parsed.tasks, strict=True)
              if a != b]
    wanted = [registry.Change(code, "task", old, new) for code, old, new in differ]
    if len(differ) != 1 or report.changes != wanted or report.needs_retire or report.added:
        return f"an edit of one task text, but the preview says {report.to_dict()}"
    return None


def _judge_other(variant: Variant, parsed: ParsedPlan, report: registry.ImportReport) -> str | None:
    texts = [t.task for t in parsed.tasks]
    if variant.prefix and texts != list(variant.texts):
        return "accepted, but its tasks are not the seed's first ones"
    if Counter(texts) != Counter(variant.texts):
        return "accepted, but it holds other task texts than the document"
    if variant.note_lost and parsed.tasks[-1].note:
        return "a cut before the last note kept a note"
    if not report.needs_retire:
        return f"a different plan that imports without --retire: {report.to_dict()}"
    return None


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Engine]:
    """One SQLite registry holding Plan 916, for read-only previews."""
    path = tmp_path_factory.mktemp("damage") / "registry.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    load_plan916(engine)
    yield engine
    engine.dispose()


def test_there_are_many_variants_of_each_kind() -> None:
    kinds = Counter(v.kind for v in VARIANTS)
    assert min(kinds.values()) >= 30, kinds
    assert len(VARIANTS) >= 1500, kinds
    expects = Counter(v.expect for v in VARIANTS)
    assert expects["refused"] > 0.85 * len(VARIANTS), expects
    assert expects["same"] >= 2 and expects["other"] >= 20 and expects["edit"] == 40, expects


def test_each_variant_is_refused_or_means_what_it_says(seeded: Engine) -> None:
    before = dump(seeded)
    with Session(seeded) as session:
        failures = [f"{v.kind} at {v.where}: {problem}" for v in VARIANTS
                    if (problem := _judge(v, session)) is not None]
    assert not failures, f"{len(failures)} of {len(VARIANTS)}:\n" + "\n".join(failures[:80])
    assert dump(seeded) == before  # previews read only


def test_the_known_damage_of_the_issue_is_refused_with_its_row() -> None:
    """The copies the adversary sent: cut mid-row, cut at a row boundary mid-axis, a task row
    twice, tabs lost in three lines, markup in a lead cell, 65 MB."""
    cut = TEXT.index("Theo lộ trình")  # inside task 5.2c's row
    cases = {
        SEED[: len(TEXT[:cut].encode())]: ("line 56: task 5.2c: the table ends mid-row"),
        join_lines(LINES[:14]): "line 14: axis 2 ('Công khai, minh bạch') has no task row",
        join_lines(LINES[:16] + LINES[15:]): "line 17: task 2.2b: the row repeats line 16 (task 2.2a)",
        replace_line(16, LINES[16].replace("Sở Tài chính", "Sở <script>Tài</script> & chính")):
            "line 17: task 2.2b: the lead agencies cell holds markup",
        SEED * 4200: "the file has 65.4 MB; a plan document may have at most 2 MB",
    }
    lines = list(LINES)
    for i in ROWS[:3]:
        lines[i] = lines[i][:-1]
    cases[join_lines(lines)] = "line 10: task 1.1: the row has 6 cells, expected 7"
    for data, message in cases.items():
        with pytest.raises(PlanFormatError) as info:
            parse_plan(data, source="copy.txt")
        assert str(info.value).startswith(f"copy.txt: {message}"), str(info.value)


def test_nfd_and_crlf_copies_mean_the_same() -> None:
    for data in (unicodedata.normalize("NFD", TEXT).encode(), SEED.replace(b"\n", b"\r\n")):
        assert _meaning(parse_plan(data)) == SEED_MEANING


# --------------------------------------------------------------------------- through the command line


def _sample(expect: Expect, per_kind: int) -> list[Variant]:
    picked = []
    for kind in dict.fromkeys(v.kind for v in VARIANTS):
        of_kind = [v for v in VARIANTS if v.kind == kind and v.expect == expect]
        step = max(len(of_kind) // per_kind, 1)
        picked += of_kind[::step][:per_kind]
    return picked


@pytest.fixture
def cli_registry(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    engine = make_engine(db_url)
    load_plan916(engine)
    return engine


def _import(capsys: pytest.CaptureFixture[str], path: Path, data: bytes,
            *flags: str) -> tuple[int, str, str]:
    path.write_bytes(data)
    code = main(["import-plan", str(path), *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_refused_copies_leave_the_database_byte_for_byte(
        cli_registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(cli_registry)
    path = tmp_path / "copy.txt"
    sample = _sample("refused", per_kind=3)
    assert len(sample) == 24
    for variant in sample:
        code, out, err = _import(capsys, path, variant.data, "--apply", "--retire")
        assert code == 1 and out == "", variant.where
        assert err.startswith(f"dondoc: error: {path}: ") and err.count("\n") == 1, err
        assert dump(cli_registry) == before, variant.where


def test_valid_other_plans_need_retire(cli_registry: Engine, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(cli_registry)
    path = tmp_path / "copy.txt"
    for variant in _sample("other", per_kind=2):
        code, out, _ = _import(capsys, path, variant.data)  # the preview
        assert code == 0 and "Nothing was changed (preview)" in out and "--retire" in out
        code, out, err = _import(capsys, path, variant.data, "--apply")
        assert code == 1 and out == "" and err.count("\n") == 1 and "--retire" in err, err
        assert dump(cli_registry) == before, variant.where
    code, out, _ = _import(capsys, path, SEED, "--apply", "--retire")
    assert code == 0 and "no changes" in out
    assert dump(cli_registry) == before
