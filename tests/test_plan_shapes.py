"""Other appendix shapes (issue 14, item 4): headings mapped by synonyms in any order, explicit
deadlines as one-off tasks with their own date, a "Sản phẩm" column as the expected output, in
the registry, its items and re-imports. The documents are built by ``tests.plan_shapes``."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.access import EVERYTHING
from domain.periods import DueRules
from domain.plan_parser import ParsedPlan, PlanFormatError, parse_source
from domain.plan_readers import parse_document
from models import registry
from models.agencies import load_bundled_agencies
from models.db import session_scope
from models.rollup import compute_rollup, parse_period
from models.tables import Agency, Item, Plan, Task
from scheduler.deadlines import sync_items
from tests.plan_shapes import (
    EXPECTED_2027,
    QUARTERS_TITLE,
    SHAPES,
    TITLE_2027,
    Expected,
)

BUILT = {name: build() for name, (build, _) in SHAPES.items()}


def _expected(plan: ParsedPlan) -> list[Expected]:
    return [Expected(t.code, t.task, t.lead, t.coordinating, t.cadence, t.due_on, t.expected_output)
            for t in plan.tasks]


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_shape_gives_its_registry(name: str) -> None:
    plan = parse_document(BUILT[name], source=name)
    assert _expected(plan) == SHAPES[name][1]
    assert not plan.warnings  # no content column is no missing content


def test_the_2027_plan_s_preamble_sections_and_numbering_on_across_them() -> None:
    plan = parse_document(BUILT["plan_2027.docx"], source="plan_2027.docx")
    assert (plan.number, plan.issued_on, plan.title) == ("120/KH-UBND", date(2027, 1, 15), TITLE_2027)
    assert [(a.number, a.name) for a in plan.axes] == [(1, "Hoàn thiện thể chế"),
                                                       (2, "Phát triển hạ tầng số")]
    assert [t.timeframe for t in plan.tasks] == ["Trước 30/6/2027", "Tháng 9/2027", "31/12/2027",
                                                 "Trước ngày 15 tháng 3 năm 2027"]


def test_other_order_merged_cells_and_a_section_across_the_table() -> None:
    plan = parse_document(BUILT["reordered.docx"], source="reordered.docx")
    assert plan.number == "45/KH-UBND"
    assert [a.name for a in plan.axes] == ["Chính quyền số", "Kinh tế số"]
    assert plan.tasks[1].timeframe == "Định kỳ hàng quý"  # merged down with the lead


def test_a_sheet_without_sections_is_one_axis_named_by_its_title() -> None:
    plan = parse_document(BUILT["quarters.xlsx"], source="quarters.xlsx")
    assert (plan.number, plan.issued_on, plan.title) == ("77/KH-UBND", date(2027, 1, 20), QUARTERS_TITLE)
    assert [(a.number, a.name) for a in plan.axes] == [(1, QUARTERS_TITLE)]


# --------------------------------------------------------------------------- refused headers

def _sheet(header: tuple[str, ...], *rows: tuple[object, ...]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Kế hoạch số 9/KH-UBND ngày 2 tháng 1 năm 2027"])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROW = (1, "Việc một", "Sở Nội vụ", "Năm 2027")


@pytest.mark.parametrize(("header", "message"), [
    (("STT", "Nội dung công việc", "Cơ quan phối hợp", "Thời hạn hoàn thành"),
     "plan.xlsx: row 2: the table has no lead agencies column (Đơn vị chủ trì / Cơ quan chủ "
     "trì); found STT | Nội dung công việc | Cơ quan phối hợp | Thời hạn hoàn thành"),
    (("STT", "Cơ quan chủ trì", "Ghi chú", "Thời hạn"),
     "plan.xlsx: row 2: the table has no task column (Nhiệm vụ / Nội dung công việc); found STT "
     "| Cơ quan chủ trì | Ghi chú | Thời hạn"),
    (("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Kinh phí"),
     "plan.xlsx: row 2: the table header has a column dondoc does not read: 'Kinh phí'; it reads "
     "task (Nhiệm vụ / Nhiệm vụ cụ thể), lead agencies (Đơn vị chủ trì / Cơ quan chủ trì), "
     "coordinating agencies (Đơn vị phối hợp / Cơ quan phối hợp), timeframe (Thời gian thực hiện "
     "/ Thời hạn hoàn thành), expected output (Sản phẩm / Kết quả đầu ra), note (Ghi chú)"),
    (("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Cơ quan chủ trì"),
     "plan.xlsx: row 2: the table header names the lead agencies column twice (columns 3 and 4)"),
])
def test_a_header_without_a_required_column_or_with_an_unknown_one_is_refused(
        header: tuple[str, ...], message: str) -> None:
    with pytest.raises(PlanFormatError) as caught:
        parse_document(_sheet(header, ROW), source="plan.xlsx")
    assert str(caught.value) == message


def test_headings_are_compared_without_case_diacritics_or_line_breaks() -> None:
    header = ("so tt", "NOI DUNG\nCONG VIEC", "co quan chu tri", "Thoi han hoan thanh",
              "KET QUA DAU RA")
    plan = parse_document(_sheet(header, (1, "Việc một", "Sở Nội vụ", "Quý II/2027", "Báo cáo")),
                          source="plan.xlsx")
    assert _expected(plan) == [Expected("1.1", "Việc một", ("Sở Nội vụ",), (), "once",
                                        date(2027, 6, 30), "Báo cáo")]


def test_optional_columns_may_be_missing() -> None:
    plan = parse_document(_sheet(("Nhiệm vụ", "Đơn vị chủ trì"), ("Việc một", "Sở Nội vụ"),
                                 ("Việc hai", "Sở Tư pháp")), source="plan.xlsx")
    assert [(t.code, t.task, t.lead, t.cadence, t.due_on) for t in plan.tasks] == [
        ("1.1", "Việc một", ("Sở Nội vụ",), "other", None),
        ("1.2", "Việc hai", ("Sở Tư pháp",), "other", None)]
    assert plan.warnings == ("row 3: task has no timeframe; cadence set to 'other'",
                             "row 4: task has no timeframe; cadence set to 'other'")


def test_text_in_a_column_without_a_heading_is_refused() -> None:
    with pytest.raises(PlanFormatError) as caught:
        parse_document(_sheet(("STT", "Nhiệm vụ", "Đơn vị chủ trì"),
                              (1, "Việc một", "Sở Nội vụ", "Quý II/2027")), source="plan.xlsx")
    assert str(caught.value) == ("plan.xlsx: row 3: the row has text in a column without a "
                                 "heading (column 4): 'Quý II/2027'")


def test_the_rules_of_the_table_still_hold_in_another_shape() -> None:
    with pytest.raises(PlanFormatError) as caught:
        parse_document(_sheet(("STT", "Nhiệm vụ", "Đơn vị chủ trì"), (1, "Việc một", "Sở Nội vụ"),
                              (3, "Việc hai", "Sở Nội vụ")), source="plan.xlsx")
    assert str(caught.value) == ("plan.xlsx: row 4: task 1.3: the numbering of axis 1 jumps from "
                                 "row 1 to row 3 (row 2 missing?)")


def test_plan_916_s_header_is_still_read_as_plan_916_s() -> None:
    """A damaged Plan 916 header is refused as before, not read as another shape."""
    from domain.plan_parser import PlanSource, SourceRow

    header = ("STT", "Nội dung", "Nhiệm vụ cụ thể", "Trách nhiệm cụ thể", "", "Thời gian thực hiện",
              "Ghi chú")
    sub = (None, None, None, "Đơn vị chủ trì", "Đơn vị phối hợp", None, None)
    with pytest.raises(PlanFormatError) as caught:
        parse_source(PlanSource((), (SourceRow(1, (*header[:-1], "Ghi chq")), SourceRow(2, sub))))
    assert str(caught.value).startswith("row 1: the table header has a column dondoc does not "
                                        "read: 'Ghi chq'")


# --------------------------------------------------------------------------- in the registry

@pytest.fixture
def agencies_engine(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        load_bundled_agencies(s)
    return engine


def _import(engine: Engine, data: bytes, name: str, *, retire: bool = False,
            active_from: date = date(2027, 1, 1)) -> registry.ImportReport:
    parsed = parse_document(data, source=name)
    with session_scope(engine) as s:
        return registry.import_plan(s, parsed, raw=data, source_name=name, retire=retire,
                                    active_from=active_from)


def _tasks(session: Session, number: str) -> dict[str, Task]:
    plan = session.exec(select(Plan).where(Plan.number == number)).one()
    return {t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}


def test_the_registry_keeps_due_dates_and_expected_outputs(agencies_engine: Engine) -> None:
    report = _import(agencies_engine, BUILT["plan_2027.docx"], "plan_2027.docx")
    assert report.created and report.added == ["1.1", "1.2", "2.3", "2.4"]
    with session_scope(agencies_engine) as s:
        plan = s.exec(select(Plan).where(Plan.number == "120/KH-UBND")).one()
        views = registry.list_tasks(s, plan)
    assert [Expected(v.code, v.task, v.lead, v.coordinating, v.cadence, v.due_on, v.expected_output)
            for v in views] == EXPECTED_2027
    # The same document again changes nothing.
    again = _import(agencies_engine, BUILT["plan_2027.docx"], "plan_2027.docx")
    assert not again.changed and not again.applied


def test_a_re_import_shows_and_keeps_a_changed_output_and_date(agencies_engine: Engine) -> None:
    """The task's fields change; its items move to the new date (one item still, no second)."""
    _import(agencies_engine, BUILT["quarters.xlsx"], "quarters.xlsx")
    with session_scope(agencies_engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), date(2027, 1, 5), DueRules())
    parsed = parse_document(BUILT["quarters.xlsx"], source="quarters.xlsx")
    first = parsed.tasks[0]
    edited = dataclasses.replace(parsed, tasks=(
        dataclasses.replace(first, expected_output="Chương trình và báo cáo",
                            timeframe="Quý II/2027", due_on=date(2027, 6, 30)),
        *parsed.tasks[1:]))
    with session_scope(agencies_engine) as s:
        preview = registry.preview_import(s, edited)
    assert {(c.code, c.field, c.old, c.new) for c in preview.changes} == {
        ("1.1", "timeframe", "Quý I/2027", "Quý II/2027"),
        ("1.1", "due_on", "2027-03-31", "2027-06-30"),
        ("1.1", "expected_output", "Chương trình tuần lễ", "Chương trình và báo cáo")}
    with session_scope(agencies_engine) as s:
        registry.import_plan(s, edited, raw=b"edited", source_name="quarters.xlsx")
    with session_scope(agencies_engine) as s:
        task = _tasks(s, "77/KH-UBND")["1.1"]
        assert (task.due_on, task.expected_output) == (date(2027, 6, 30), "Chương trình và báo cáo")
        sync_items(s, s.exec(select(Plan)).one(), date(2027, 1, 6), DueRules())
        items = list(s.exec(select(Item).where(Item.task_id == task.id)))
        assert [(i.period_key, i.due_on) for i in items] == [("2027-06-30", date(2027, 6, 30))]


def test_one_off_tasks_owe_one_item_due_on_their_date(agencies_engine: Engine) -> None:
    """Items from the plan's start, due on the task's date; overdue the day after; counted in
    the /status period that holds the date."""
    _import(agencies_engine, BUILT["plan_2027.docx"], "plan_2027.docx")
    with session_scope(agencies_engine) as s:
        plan = s.exec(select(Plan).where(Plan.number == "120/KH-UBND")).one()
        assert sync_items(s, plan, date(2026, 12, 20), DueRules()) == 0  # not in force yet
        added = sync_items(s, plan, date(2027, 1, 2), DueRules())
        items = list(s.exec(select(Item, Task.code, Agency.name)
                            .join(Task, col(Task.id) == Item.task_id)
                            .join(Agency, col(Agency.id) == Item.agency_id)
                            .order_by(col(Task.position))))
        assert added == len(items)
        found = {(code, agency, i.period_key, i.period_kind, i.period_start, i.due_on)
                 for i, code, agency in items}
        assert ("1.1", "Sở Thông tin và Truyền thông", "2027-06-30", "once", date(2027, 1, 1),
                date(2027, 6, 30)) in found
        assert ("2.4", "Sở Công thương", "2027-03-15", "once", date(2027, 1, 1),
                date(2027, 3, 15)) in found
        assert {(code, i.due_on) for i, code, _ in items} == {
            ("1.1", date(2027, 6, 30)), ("1.2", date(2027, 9, 30)), ("2.3", date(2027, 12, 31)),
            ("2.4", date(2027, 3, 15))}
        assert sync_items(s, plan, date(2027, 4, 1), DueRules()) == 0  # one item, once
        q2 = parse_period("2027-Q2")
        before = compute_rollup(s, plan, q2, date(2027, 6, 30), EVERYTHING)
        after = compute_rollup(s, plan, q2, date(2027, 7, 1), EVERYTHING)
    assert (before.totals.owed, before.totals.overdue) == (1, 0)
    assert (after.totals.owed, after.totals.overdue) == (1, 1)


def test_a_preview_kept_in_chat_keeps_due_dates_and_outputs() -> None:
    """The plan a chat preview keeps (JSON in ``plan_import``) is the plan that is applied."""
    from models.plan_imports import plan_from_json, plan_json

    for name in SHAPES:
        plan = parse_document(BUILT[name], source=name)
        assert plan_from_json(plan_json(plan)) == plan


def test_import_plan_on_the_command_line_previews_another_shape(
        agencies_engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    path = tmp_path / "plan_2027.docx"
    path.write_bytes(BUILT["plan_2027.docx"])
    assert main(["import-plan", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Plan 120/KH-UBND would be imported: 4 tasks.\nNothing was changed")
    assert main(["import-plan", str(path), "--apply"]) == 0
    capsys.readouterr()
    with session_scope(agencies_engine) as s:
        tasks = _tasks(s, "120/KH-UBND")
        assert (tasks["1.1"].cadence, tasks["1.1"].due_on, tasks["1.1"].expected_output) == (
            "once", date(2027, 6, 30), "Quyết định của UBND tỉnh")
