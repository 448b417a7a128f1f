"""Exports write whatever text is stored, without failing: rows that older versions wrote with
control characters (U+000B from Word's Shift+Enter, U+001B, C1 controls, U+FFFE...), text that
looks like a formula, on both backends. The XLSX must open again and show the text sanitised;
the CSV must parse and never start a cell with a formula."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import col, select

from domain.access import EVERYTHING
from domain.periods import DueRules
from models.db import session_scope
from models.export import load
from models.registry import current_plan
from models.rollup import parse_period
from models.tables import Agency, Axis, Item, Member, MemberRole, Plan, Report, Task
from scheduler.deadlines import sync_items
from views.export import HEADERS, csv_text, write_csv, write_xlsx, xlsx_text
from views.i18n import use_locale
from views.rollup import state_name

ROOT = Path(__file__).parents[1]
TODAY = date(2026, 11, 16)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COLUMN = {key: index for index, (key, _label) in enumerate(HEADERS)}
with use_locale("vi"):
    VERIFIED = state_name("verified")
PERIOD = "2026-Q3"
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
SPECIAL = st.sampled_from([*CONTROLS, "\u2028", "\u2029", "\ufffe", "\uffff", "=", "+", "-", "@",
                           "=HYPERLINK(\"http://x\")", "<b>", "&amp", "\u202e", "🎉", "Hạ Long"])
# Anything a database could have been given (no lone surrogates: neither stores them).
STORED = st.lists(st.one_of(st.characters(exclude_categories=("Cs",)), SPECIAL), min_size=1, max_size=40) \
    .map("".join)


@dataclass(frozen=True)
class Target:
    report_id: int
    agency_id: int
    member_id: int
    task_id: int
    axis_id: int
    backend: str


@pytest.fixture
def target(plan_engine: Engine, db_url: str) -> Target:
    """One reported, verified item of Q3 2026, whose texts the tests overwrite."""
    with session_scope(plan_engine) as s:
        plan = current_plan(s)
        assert plan is not None
        plan.active_from = date(2026, 1, 1)
        s.flush()
        sync_items(s, plan, TODAY, DueRules())
        period = parse_period(PERIOD)
        item = s.exec(select(Item).where(col(Item.due_on) >= period.start, col(Item.due_on) <= period.end)
                      .order_by(col(Item.id))).first()
        assert item is not None and item.id is not None
        item.state = "verified"
        member = Member(telegram_user_id=777, role=MemberRole.COORDINATOR.value, full_name="Người duyệt")
        s.add(member)
        s.flush()
        assert member.id is not None
        report = Report(item_id=item.id, version=1, member_id=member.id, state="done", note="ghi chú",
                        document_number="1/BC", review_state="approved", reviewed_by=member.id)
        s.add(report)
        s.flush()
        task = s.get(Task, item.task_id)
        assert task is not None and report.id is not None and task.id is not None
        return Target(report.id, item.agency_id, member.id, task.id, task.axis_id,
                      "postgres" if db_url.startswith("postgresql") else "sqlite")


def store(engine: Engine, where: Target, value: str) -> None:
    """Write ``value`` into every text the export shows, the way an older version did: straight
    into the tables, without the normaliser."""
    if where.backend == "postgres":
        value = value.replace("\x00", "")  # PostgreSQL never could store NUL
    with session_scope(engine) as s:
        for table, column, row_id in [("report", "note", where.report_id),
                                      ("report", "document_number", where.report_id),
                                      ("agency", "name", where.agency_id),
                                      ("member", "full_name", where.member_id),
                                      ("task", "task", where.task_id), ("task", "content", where.task_id),
                                      ("axis", "name", where.axis_id)]:
            cut = value[:60] if column in ("document_number", "name") else value  # varchar sizes
            s.execute(text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": cut, "id": row_id})


def export(engine: Engine) -> tuple[bytes, bytes]:
    with session_scope(engine) as s:
        plan = s.exec(select(Plan)).one()
        data = load(s, plan, parse_period(PERIOD), TODAY, EVERYTHING, TZ)
        return write_xlsx(data), write_csv(data)


def _agency_row(engine: Engine, where: Target) -> tuple[str, str]:
    with session_scope(engine) as s:
        agency, note = s.get(Agency, where.agency_id), s.get(Report, where.report_id)
        assert agency is not None and note is not None
        return agency.name, note.note


@settings(max_examples=int(os.environ.get("DONDOC_HOSTILE_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=STORED)
def test_export_of_stored_hostile_text_never_fails(plan_engine: Engine, target: Target, value: str) -> None:
    store(plan_engine, target, value)
    xlsx, raw_csv = export(plan_engine)  # must not raise
    stored_name, stored_note = _agency_row(plan_engine, target)

    book = openpyxl.load_workbook(io.BytesIO(xlsx))  # and must open again
    appendix, detail = book.worksheets[0], book.worksheets[1]  # the appendix layout, the flat rows
    assert all(cell.data_type != "f" for row in appendix.iter_rows() for cell in row)
    # The one verified item is the one whose texts were overwritten.
    mine = [r for r in detail.iter_rows(min_row=3) if r[COLUMN["state"]].value == VERIFIED]
    assert len(mine) == 1
    assert mine[0][COLUMN["note"]].value == (xlsx_text(stored_note) or None)
    for cell in mine[0]:
        assert cell.data_type != "f"  # text stays text, even "=HYPERLINK(...)"
    assert mine[0][COLUMN["agency"]].value == (xlsx_text(stored_name) or None)

    parsed = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    notes = [r[COLUMN["note"]] for r in parsed[1:]]
    assert csv_text(stored_note) in notes
    for row in parsed[1:]:
        for value_in_csv in row:
            assert not value_in_csv.startswith(("=", "+", "-", "@"))
            assert not any(c in value_in_csv for c in CONTROLS if c not in "\t\n\r")


def test_what_the_issue_found_now_exports(plan_engine: Engine, target: Target, tmp_path: Path,
                                          db_url: str) -> None:
    """A note with U+000B (Word's Shift+Enter) and U+001B, through `dondoc export` (a real
    process): exit 0, the workbook opens, the note reads with a line break."""
    store(plan_engine, target, "Dòng một\x0bDòng hai \x1b[1m=1+1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=db_url, PYTHONPATH=str(ROOT))
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"q3.{fmt}"
        done = subprocess.run([sys.executable, "-m", "bot.cli", "export", "--period", PERIOD,
                               "--output", str(out)], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    book = openpyxl.load_workbook(tmp_path / "q3.xlsx")
    appendix = book.worksheets[0]
    column = [c.value for c in appendix[2]].index("Nội dung báo cáo") + 1
    notes = [c.value for c in appendix[openpyxl.utils.get_column_letter(column)] if c.value]
    assert "Dòng một\nDòng hai [1m=1+1" in notes
    with session_scope(plan_engine) as s:
        axis = s.get(Axis, target.axis_id)
        assert axis is not None  # the export read the stored rows and changed nothing
        assert "\x0b" in (s.get(Report, target.report_id) or Report()).note
