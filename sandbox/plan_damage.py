"""Damaged copies of Plan 916, generated from the seed: truncations at many offsets, rows
duplicated, removed, swapped and garbled, tabs lost, markup and control characters. Each
variant says what a reader of the document would expect of it (``Variant.expect``):

* ``refused``: the copy is damaged: parsing must raise ``PlanFormatError`` naming the line;
* ``same``: it still says exactly what the seed says;
* ``other``: a genuinely valid, different plan (importing it over the seed needs ``--retire``);
* ``edit``: a misspelt word in a task text, an edit no importer can tell from a real one.

Used by tests/test_plan_damage.py and bench/adversary.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from domain.plan_parser import parse_plan
from models.agencies import bundled

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


def join_lines(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8")


def row_text(index: int) -> str:
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


def structure_ok(lines: list[str]) -> bool:
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
    if not structure_ok(lines):
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
        yield Variant("duplicated", f"line {i + 1}", join_lines(lines), expect)


def removals() -> Iterator[Variant]:
    """Each non-blank line of the table removed."""
    for i in TABLE:
        lines = LINES[:i] + LINES[i + 1:]
        if i in ROWS and structure_ok(lines):
            texts = tuple(t for n, t in zip(ROWS, SEED_TEXTS, strict=True) if n != i)
            yield Variant("removed", f"line {i + 1}", join_lines(lines), "other", texts)
        else:
            yield Variant("removed", f"line {i + 1}", join_lines(lines), "refused")


def swaps() -> Iterator[Variant]:
    """Each pair of adjacent non-blank lines of the table swapped."""
    for i in TABLE:
        if i + 1 not in TABLE:
            continue
        lines = [*LINES[:i], LINES[i + 1], LINES[i], *LINES[i + 2:]]
        if structure_ok(lines):
            yield Variant("swapped", f"lines {i + 1}-{i + 2}", join_lines(lines), "other",
                          tuple(SEED_TEXTS))
        else:
            yield Variant("swapped", f"lines {i + 1}-{i + 2}", join_lines(lines), "refused")


def replace_line(i: int, new: str | list[str]) -> bytes:
    return join_lines(LINES[:i] + (new if isinstance(new, list) else [new]) + LINES[i + 1:])


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
                data = join_lines(LINES[:i]) + b"\n" + new + b"\n" + join_lines(LINES[i + 1:])
            else:
                data = replace_line(i, new)
            yield Variant("garbled", f"line {i + 1}: {what}", data, "refused")
        words = LINES[i].split("\t")[2].split(" ")
        longest = max(range(len(words)), key=lambda k: len(words[k]))
        word = words[longest]
        words[longest] = word[1] + word[0] + word[2:]  # two letters swapped
        cells = LINES[i].split("\t")
        cells[2] = " ".join(words)
        yield Variant("garbled", f"line {i + 1}: a misspelt word", replace_line(i, "\t".join(cells)),
                      "edit")


def tabs_lost() -> Iterator[Variant]:
    """Tabs lost: each row's last tab, first tab or all of them; and three rows at once."""
    for i in ROWS:
        line = LINES[i]
        last = line.rindex("\t")
        yield Variant("tabs lost", f"line {i + 1}: last tab", replace_line(i, line[:last] + line[last + 1:]),
                      "refused")
        yield Variant("tabs lost", f"line {i + 1}: first tab", replace_line(i, line.replace("\t", " ", 1)),
                      "refused")
        yield Variant("tabs lost", f"line {i + 1}: all tabs", replace_line(i, line.replace("\t", " ")),
                      "refused")
    for first in range(0, 39, 6):
        lines = list(LINES)
        for i in ROWS[first:first + 3]:
            lines[i] = lines[i].rstrip("\t") if lines[i].endswith("\t") else lines[i].replace("\t", "", 1)
        yield Variant("tabs lost", f"rows {first + 1}-{first + 3}", join_lines(lines), "refused")


MARKUP = ("<script>Tài</script> & chính", "&amp;", "<b>Sở</b>", "&#60;", "a > b", "Sở Y tế <")


def markup() -> Iterator[Variant]:
    """Markup in each row's lead cell; in every column of a few rows; in an axis heading."""
    for i in ROWS:
        for payload in MARKUP:
            cells = LINES[i].split("\t")
            cells[3] = f"{cells[3] or 'UBND cấp xã'} {payload}"
            yield Variant("markup", f"line {i + 1}: lead {payload!r}", replace_line(i, "\t".join(cells)),
                          "refused")
    for i in ROWS[::8]:
        for column in range(7):
            cells = LINES[i].split("\t")
            cells[column] = f"{cells[column]}<i>x</i>"
            yield Variant("markup", f"line {i + 1}: column {column + 1}",
                          replace_line(i, "\t".join(cells)), "refused")
    axis = next(i for i in TABLE if _kind(LINES[i]) == "axis")
    for payload in ("<script>x</script>", "&amp;"):
        yield Variant("markup", f"line {axis + 1}: axis heading {payload!r}",
                      replace_line(axis, LINES[axis].replace("</b>", f"{payload}</b>")), "refused",
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
                          replace_line(i, "\t".join(cells)), "refused")
    axis = next(i for i in TABLE if _kind(LINES[i]) == "axis")
    blank = next(i for i in range(TABLE_START, len(LINES)) if not LINES[i])
    for char in ("\x0b", "\u200b"):
        for i, line in ((axis, LINES[axis][:10] + char + LINES[axis][10:]), (0, LINES[0] + char),
                        (blank, char)):
            yield Variant("control", f"line {i + 1}: U+{ord(char):04X}", replace_line(i, line),
                          "refused")


GENERATORS: tuple[Callable[[], Iterator[Variant]], ...] = (
    truncations, duplications, removals, swaps, garbled, tabs_lost, markup, controls)
VARIANTS = [v for generate in GENERATORS for v in generate()]
ROW_KINDS = {"garbled", "markup", "tabs lost"}  # damage inside one task row: the code is named
# Refusals of the whole file, which no line can be blamed for.
UNPLACED = ("not UTF-8 text", "no appendix table found")
