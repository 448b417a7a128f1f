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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli import main
from domain.plan_parser import ParsedPlan, PlanFormatError, parse_plan
from models import registry
from models.agencies import bundled
from models.db import make_engine
from tests.conftest import load_plan916
from tests.db_dump import dump

SEED = bundled("plan916.txt")
TEXT = SEED.decode("utf-8")
LINES = TEXT.split("\n")
HEADER_LINE = LINES[6]
SUBHEADER_LINE = LINES[7]
TABLE_START = LINES.index(HEADER_LINE)  # index of the first header row
TABLE_OFFSET = len("\n".join(LINES[:TABLE_START]).encode()) + 1  # its byte offset


def _is_row(line: str) -> bool:
    cells = line.split("\t")
    return len(cells) == 7 and not line.startswith("STT\t") and bool(cells[2].strip())


ROWS = [i for i, line in enumerate(LINES) if _is_row(line)]  # line indexes of the 40 tasks
TABLE = [i for i in range(TABLE_START, len(LINES)) if LINES[i].strip()]  # non-blank lines
SEED_PLAN = parse_plan(SEED)
SEED_TEXTS = [t.task for t in SEED_PLAN.tasks]

Expect = Literal["refused", "same", "other", "edit"]


@dataclass(frozen=True)
class Variant:
    kind: str
    where: str
    data: bytes
    expect: Expect
    texts: tuple[str, ...] = ()  # "other": the task texts it must hold (a multiset)
    prefix: bool = False  # "other": ... in the seed's order
    note_lost: bool = False  # a cut right before the last row's note
    in_row: bool = True  # "refused": the damage is in a task row, so the message names its code


def _join(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8")


def _row_text(index: int) -> str:
    return " ".join(LINES[index].split("\t")[2].split())


# --------------------------------------------------------------------------- a model of a sound table


def _kind(line: str) -> str:
    if line.startswith("STT\t"):
        return "header"
    if line == SUBHEADER_LINE:
        return "sub"
    if line.startswith("<b>") and "nội dung:" in line:
        return "axis"
    return "row"


def _structure_ok(lines: list[str]) -> bool:
    """How a reader checks the table by its STT column and its headers: every header row has
    its sub-header row under it (and no sub-header row stands alone, and none ends the table);
    every axis heading is followed by rows numbered 1, 2, 3 … (an empty STT continues the row
    above; the same STT again only as the first row after a page break); no axis without rows;
    the last row ends with its (empty) last cell, as the seed's does."""
    if HEADER_LINE not in lines:
        return False
    prev, stt, axis_rows, after_break = "", 0, -1, False
    for line in lines[lines.index(HEADER_LINE):]:
        if not line.strip():
            continue
        kind = _kind(line)
        if (prev == "header") != (kind == "sub"):
            return False
        if kind == "axis":
            if axis_rows == 0:
                return False
            stt, axis_rows = 0, 0
        elif kind == "row":
            number = line.split("\t")[0]
            if axis_rows < 0 or (not number and not stt):
                return False
            if number and int(number) == stt and not after_break:
                return False
            if number and int(number) not in (stt, stt + 1):
                return False
            stt = int(number) if number else stt
            axis_rows += 1
        after_break, prev = kind == "sub", kind
    last_open = _kind(lines[-1]) == "row" and lines[-1].strip() and not lines[-1].endswith("\t")
    return prev not in ("header", "sub") and axis_rows > 0 and not last_open


def test_the_model_accepts_the_seed() -> None:
    assert _structure_ok(LINES)
    assert len(ROWS) == 40 and [_row_text(i) for i in ROWS] == SEED_TEXTS


# --------------------------------------------------------------------------- the variants


def truncations() -> Iterator[Variant]:
    """Every 50th byte through the table, each line end (before and after its line break),
    and each row cut right before its last cell."""
    offsets = set(range(TABLE_OFFSET, len(SEED), 50))
    position = 0
    for index, line in enumerate(LINES):
        end = position + len(line.encode())
        if index >= TABLE_START:
            offsets |= {end, end + 1}
            if index in ROWS:
                offsets.add(position + len(line.rsplit("\t", 1)[0].encode()) + 1)
        position = end + 1
    for offset in sorted(o for o in offsets if TABLE_OFFSET <= o <= len(SEED)):
        yield _truncation(offset)


def _truncation(offset: int) -> Variant:
    data, where = SEED[:offset], f"offset {offset}"
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return Variant("truncated", where, data, "refused")  # cut inside a character
    tail, j = lines[-1], len(lines) - 1
    note_lost = False
    if tail and tail != LINES[j]:
        if not (j in ROWS and tail.count("\t") == 6 and tail.endswith("\t")):
            return Variant("truncated", where, data, "refused")  # cut inside a line
        note_lost = True  # cut right before the row's note: a whole row with an empty note
    if not _structure_ok(lines):
        return Variant("truncated", where, data, "refused")
    kept = sum(1 for i in ROWS if i < j or (i == j and tail))
    if kept == len(ROWS) and not note_lost:
        return Variant("truncated", where, data, "same")
    return Variant("truncated", where, data, "other", tuple(SEED_TEXTS[:kept]), prefix=True,
                   note_lost=note_lost)


def duplications() -> Iterator[Variant]:
    """Each line of the table twice (a blank line too: that one changes nothing)."""
    for i in range(TABLE_START, len(LINES)):
        lines = LINES[: i + 1] + LINES[i:]
        expect: Expect = "same" if not LINES[i].strip() else "refused"
        yield Variant("duplicated", f"line {i + 1}", _join(lines), expect)


def removals() -> Iterator[Variant]:
    """Each non-blank line of the table removed."""
    for i in TABLE:
        lines = LINES[:i] + LINES[i + 1:]
        if i in ROWS and _structure_ok(lines):
            texts = tuple(t for n, t in zip(ROWS, SEED_TEXTS, strict=True) if n != i)
            yield Variant("removed", f"line {i + 1}", _join(lines), "other", texts)
        else:
            yield Variant("removed", f"line {i + 1}", _join(lines), "refused")


def swaps() -> Iterator[Variant]:
    """Each pair of adjacent non-blank lines of the table swapped."""
    for i in TABLE:
        if i + 1 not in TABLE:
            continue
        lines = [*LINES[:i], LINES[i + 1], LINES[i], *LINES[i + 2:]]
        if _structure_ok(lines):
            yield Variant("swapped", f"lines {i + 1}-{i + 2}", _join(lines), "other",
                          tuple(SEED_TEXTS))
        else:
            yield Variant("swapped", f"lines {i + 1}-{i + 2}", _join(lines), "refused")


def _replace_line(i: int, new: str | list[str]) -> bytes:
    return _join(LINES[:i] + (new if isinstance(new, list) else [new]) + LINES[i + 1:])


def _garbles(line: str) -> Iterator[tuple[str, str | list[str] | bytes]]:
    tabs = [k for k, ch in enumerate(line) if ch == "\t"]
    task = line.split("\t")[2]
    start = tabs[1] + 1  # the task cell
    middle = start + len(task) // 2
    space = line.index(" ", start)
    for n in (0, 2, 4):
        yield f"tab {n + 1} replaced by a space", line[: tabs[n]] + " " + line[tabs[n] + 1:]
    yield "a space in the task split into a tab", line[:space] + "\t" + line[space + 1:]
    yield "a line break in the task", [line[:middle], line[middle:]]
    yield "a stretch across a tab dropped", line[:middle] + line[tabs[3] + 3:]
    yield "a stretch replaced by U+FFFD", line[:middle] + "\ufffd\ufffd" + line[middle + 4:]
    yield "read as Latin-1", line.encode().decode("latin-1")
    yield "read as Windows-1252", line.encode().decode("cp1252", errors="ignore")
    yield "bytes that are not UTF-8", line[:middle].encode() + b"\xff\xfe" + line[middle:].encode()


def garbled() -> Iterator[Variant]:
    """Each task row garbled the ways a conversion or a transfer garbles text."""
    for i in ROWS:
        for what, new in _garbles(LINES[i]):
            if isinstance(new, bytes):
                data = _join(LINES[:i]) + b"\n" + new + b"\n" + _join(LINES[i + 1:])
            else:
                data = _replace_line(i, new)
            yield Variant("garbled", f"line {i + 1}: {what}", data, "refused")
        words = LINES[i].split("\t")[2].split(" ")
        longest = max(range(len(words)), key=lambda k: len(words[k]))
        word = words[longest]
        words[longest] = word[1] + word[0] + word[2:]  # two letters swapped
        cells = LINES[i].split("\t")
        cells[2] = " ".join(words)
        yield Variant("garbled", f"line {i + 1}: a misspelt word", _replace_line(i, "\t".join(cells)),
                      "edit")


def tabs_lost() -> Iterator[Variant]:
    """Tabs lost: each row's last tab, first tab or all of them; and three rows at once."""
    for i in ROWS:
        line = LINES[i]
        last = line.rindex("\t")
        yield Variant("tabs lost", f"line {i + 1}: last tab", _replace_line(i, line[:last] + line[last + 1:]),
                      "refused")
        yield Variant("tabs lost", f"line {i + 1}: first tab", _replace_line(i, line.replace("\t", " ", 1)),
                      "refused")
        yield Variant("tabs lost", f"line {i + 1}: all tabs", _replace_line(i, line.replace("\t", " ")),
                      "refused")
    for first in range(0, 39, 6):
        lines = list(LINES)
        for i in ROWS[first:first + 3]:
            lines[i] = lines[i].rstrip("\t") if lines[i].endswith("\t") else lines[i].replace("\t", "", 1)
        yield Variant("tabs lost", f"rows {first + 1}-{first + 3}", _join(lines), "refused")


MARKUP = ("<script>Tài</script> & chính", "&amp;", "<b>Sở</b>", "&#60;", "a > b", "Sở Y tế <")


def markup() -> Iterator[Variant]:
    """Markup in each row's lead cell; in every column of a few rows; in an axis heading."""
    for i in ROWS:
        for payload in MARKUP:
            cells = LINES[i].split("\t")
            cells[3] = f"{cells[3] or 'UBND cấp xã'} {payload}"
            yield Variant("markup", f"line {i + 1}: lead {payload!r}", _replace_line(i, "\t".join(cells)),
                          "refused")
    for i in ROWS[::8]:
        for column in range(7):
            cells = LINES[i].split("\t")
            cells[column] = f"{cells[column]}<i>x</i>"
            yield Variant("markup", f"line {i + 1}: column {column + 1}",
                          _replace_line(i, "\t".join(cells)), "refused")
    axis = next(i for i in TABLE if _kind(LINES[i]) == "axis")
    for payload in ("<script>x</script>", "&amp;"):
        yield Variant("markup", f"line {axis + 1}: axis heading {payload!r}",
                      _replace_line(axis, LINES[axis].replace("</b>", f"{payload}</b>")), "refused",
                      in_row=False)


CONTROLS = ("\x00", "\x0b", "\x1b", "\x7f", "\x85", "\x0c", "\u200b", "\u202e", "\ufeff", "\u2028",
            "\u00ad")


def controls() -> Iterator[Variant]:
    """Control and invisible characters in cells of every fifth row (each column in turn), in an
    axis heading, in the preamble and on a blank line."""
    for n, i in enumerate(ROWS[::5]):
        for k, char in enumerate(CONTROLS):
            cells = LINES[i].split("\t")
            column = (n + k) % 7
            cells[column] = cells[column][:3] + char + cells[column][3:]
            yield Variant("control", f"line {i + 1}: U+{ord(char):04X} in column {column + 1}",
                          _replace_line(i, "\t".join(cells)), "refused")
    axis = next(i for i in TABLE if _kind(LINES[i]) == "axis")
    blank = next(i for i in range(TABLE_START, len(LINES)) if not LINES[i])
    for char in ("\x0b", "\u200b"):
        for i, line in ((axis, LINES[axis][:10] + char + LINES[axis][10:]), (0, LINES[0] + char),
                        (blank, char)):
            yield Variant("control", f"line {i + 1}: U+{ord(char):04X}", _replace_line(i, line),
                          "refused")


GENERATORS: tuple[Callable[[], Iterator[Variant]], ...] = (
    truncations, duplications, removals, swaps, garbled, tabs_lost, markup, controls)
VARIANTS = [v for generate in GENERATORS for v in generate()]
ROW_KINDS = {"garbled", "markup", "tabs lost"}  # damage inside one task row: the code is named
# Refusals of the whole file, which no line can be blamed for.
UNPLACED = ("not UTF-8 text", "no appendix table found")


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
        _join(LINES[:14]): "line 14: axis 2 ('Công khai, minh bạch') has no task row",
        _join(LINES[:16] + LINES[15:]): "line 17: task 2.2b: the row repeats line 16 (task 2.2a)",
        _replace_line(16, LINES[16].replace("Sở Tài chính", "Sở <script>Tài</script> & chính")):
            "line 17: task 2.2b: the lead agencies cell holds markup",
        SEED * 4200: "the file has 65.4 MB; a plan document may have at most 2 MB",
    }
    lines = list(LINES)
    for i in ROWS[:3]:
        lines[i] = lines[i][:-1]
    cases[_join(lines)] = "line 10: task 1.1: the row has 6 cells, expected 7"
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
