"""``dondoc export``: XLSX in the appendix layout with a summary, CSV with a BOM, headers in
the chosen language, Vietnamese text intact, one-line refusals."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from bot.cli import main
from sandbox.status_data import Seeded, oracle, seed_status
from tests.test_report_doc import ask_explanations, ask_extensions

Q3 = "2026-Q3"


@pytest.fixture
def seeded(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Seeded:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_DEFAULT_LANGUAGE", raising=False)
    return seed_status(engine)


def _expected(engine: Engine) -> dict[str, int]:
    from datetime import date

    from models.rollup import parse_period
    from models.types import utcnow

    period = parse_period(Q3)
    today: date = utcnow().date()
    return oracle(engine, period.start, period.end, today)


def test_xlsx_in_vietnamese(engine: Engine, seeded: Seeded, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q3.xlsx"
    assert main(["export", "--period", Q3, "--format", "xlsx", "--output", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Phụ lục", "Chi tiết", "Tổng hợp", "Giải trình", "Gia hạn", "Phối hợp",
                               "Xếp hạng"]
    appendix, detail, summary, explanations, extensions, coordination, ranking = book.worksheets
    assert appendix.title == "Phụ lục"
    assert ranking["A1"].value == "Xếp hạng — Quý 3/2026"
    # No explanation was requested: its sheet holds the (Vietnamese) header alone.
    assert explanations.title == "Giải trình" and explanations.max_row == 1
    # Nor any extension.
    assert extensions.max_row == 1
    assert [c.value for c in extensions[1]][:6] == ["Mã nhiệm vụ", "Đơn vị", "Kỳ báo cáo", "Hạn ban đầu",
                                                    "Hạn khi đề nghị", "Hạn đề nghị"]
    # Nor any coordinating contribution.
    assert coordination.title == "Phối hợp" and coordination.max_row == 1
    assert [c.value for c in coordination[1]][:3] == ["Mã nhiệm vụ", "Nhiệm vụ cụ thể", "Đơn vị chủ trì"]
    assert [c.value for c in explanations[1]][:2] == ["Mã nhiệm vụ", "Đơn vị"]
    assert ranking.title == "Xếp hạng" and ranking["A1"].value == "Xếp hạng — Quý 3/2026"
    header = [c.value for c in detail[2]]
    assert header[0] == "Trục" and "Nhiệm vụ cụ thể" in header and "Đơn vị chủ trì" in header
    rows = list(detail.iter_rows(min_row=3, values_only=True))
    agency_col = header.index("Đơn vị")
    assert len([r for r in rows if r[agency_col]]) == _expected(engine)["owed"]
    # Every task of the plan appears, in the appendix's order, Vietnamese intact.
    codes = list(dict.fromkeys(r[3] for r in rows))
    assert len(codes) == 40 and codes[0] == "1.1"
    assert any("Tham gia của người dân ở cấp cơ sở" in str(r[0]) for r in rows)
    assert any(r[agency_col] == "UBND phường Hồng Gai" for r in rows)
    totals = next(r for r in summary.iter_rows(values_only=True) if r[0] == "Tổng cộng")
    assert totals[1] == _expected(engine)["owed"]


def test_csv_has_a_bom_and_english_headers(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "q3.csv"
    assert main(["export", "--period", Q3, "--output", str(out), "--language", "en"]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    owed = [r for r in rows if r["Agency"]]
    expected = _expected(engine)
    assert len(owed) == expected["owed"]
    assert sum(r["State"] == "Verified" for r in owed) == expected["verified"]
    assert all(r["Deadline"] == "2026-09-30" for r in owed)


def test_bad_period_is_one_line(seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--period", "2026-Q7", "--output", str(tmp_path / "x.xlsx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dondoc: error:") and "2026-Q4" in err and err.count("\n") == 1


def test_a_big_workbook_never_rescans_its_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    """A province's export has thousands of rows; asking the sheet for its last row after each
    one read every cell again (30 s of CPU for 4,000 rows). The rows are written once, and the
    file still holds every row, typed and formatted."""
    from datetime import date

    from openpyxl.worksheet.worksheet import Worksheet

    from domain.access import Scope
    from models.export import DetailRow, ExportData
    from models.rollup import AgencyLine, Counts, Rollup, parse_period
    from views import export as views
    from views.i18n import use_locale

    period = parse_period(Q3)
    rows = [DetailRow(1, "Trục", "1", "Nội dung", "1.1", "Nhiệm vụ", "Sở Nội vụ", "", "2026",
                      period.key, f"UBND xã {i:04d}", period.end, "reported", date(2026, 9, 1),
                      "=1+1" if i == 7 else "ghi chú", "", "") for i in range(1500)]
    counts = Counts(owed=1500, reported=1500)
    data = ExportData(period, Rollup(period, date(2026, 10, 1), Scope(), counts, [], {}, []),
                      rows, [AgencyLine(i, f"UBND xã {i:04d}", "commune", counts) for i in range(300)])
    scans = 0
    real = Worksheet.max_row

    def counted(sheet: Worksheet) -> int:
        nonlocal scans
        scans += 1
        return real.fget(sheet)

    monkeypatch.setattr(Worksheet, "max_row", property(counted))
    with use_locale("vi"):
        content = views.write_xlsx(data)
    assert scans <= 3
    monkeypatch.undo()
    book = openpyxl.load_workbook(io.BytesIO(content))
    detail, summary = book["Chi tiết"], book["Tổng hợp"]
    assert book["Phụ lục"].max_row == 2 + 1 + 1500  # the title, headers, the axis row, the rows
    assert detail.max_row == 2 + 1500 and summary.max_row == 6 + 300
    assert detail["N10"].value == "=1+1" and detail["N10"].data_type == "s"  # a note, not a formula
    assert detail["K3"].number_format == "DD/MM/YYYY" and detail["K3"].alignment.wrap_text
    assert summary.cell(row=summary.max_row, column=len(views.summary_headers()) + 1).number_format == "0%"


def test_the_appendix_sheet_keeps_the_plan_s_layout(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    """Axis rows merged across every column (bold), the appendix's columns with its Ghi chú,
    a task's cells merged down over its agencies, percent for work in progress, dates."""
    from datetime import date

    ask_explanations(engine)
    out = tmp_path / "q3.xlsx"
    assert main(["export", "--period", Q3, "--output", str(out)]) == 0
    sheet = openpyxl.load_workbook(out)["Phụ lục"]
    header = [c.value for c in sheet[2]]
    assert header[:8] == ["STT", "Mã nhiệm vụ", "Nội dung", "Nhiệm vụ cụ thể", "Đơn vị chủ trì",
                          "Đơn vị phối hợp", "Thời gian thực hiện", "Ghi chú"]
    assert {"Đơn vị", "Tình trạng", "Tỷ lệ hoàn thành", "Thời hạn hiện hành", "Người xác nhận"} <= set(header)
    last = openpyxl.utils.get_column_letter(len(header))
    merged = {str(r) for r in sheet.merged_cells.ranges}
    axis_rows = [row for row in range(3, sheet.max_row + 1)
                 if str(sheet.cell(row=row, column=1).value or "").startswith("Trục nội dung ")]
    assert len(axis_rows) == 6 and all(f"A{r}:{last}{r}" in merged for r in axis_rows)
    assert all(sheet.cell(row=r, column=1).font.bold for r in axis_rows)
    first_axis = sheet.cell(row=axis_rows[0], column=1).value
    assert first_axis == "Trục nội dung 1: Tham gia của người dân ở cấp cơ sở"
    # The first task (owed by every district and commune) has one row per agency, its own
    # cells merged down over them.
    first_task = axis_rows[0] + 1
    assert sheet.cell(row=first_task, column=2).value == "1.1"
    span = next(r for r in sheet.merged_cells.ranges if r.min_row == first_task and r.min_col == 2)
    agencies = [sheet.cell(row=r, column=header.index("Đơn vị") + 1).value
                for r in range(span.min_row, span.max_row + 1)]
    assert len(agencies) > 1 and all(agencies) and "UBND phường Hồng Gai" in agencies
    # The plan's Ghi chú holds its targets where it has them.
    notes = [sheet.cell(row=r, column=8).value for r in range(3, sheet.max_row + 1)]
    assert any(n and "%" in str(n) for n in notes)
    state, percent = header.index("Tình trạng") + 1, header.index("Tỷ lệ hoàn thành") + 1
    in_progress = [r for r in range(3, sheet.max_row + 1)
                   if sheet.cell(row=r, column=state).value == "Đang thực hiện"]
    assert in_progress and all(sheet.cell(row=r, column=percent).value == 0.5 for r in in_progress)
    assert all(sheet.cell(row=r, column=percent).number_format == "0%" for r in in_progress)
    others = [r for r in range(3, sheet.max_row + 1) if r not in in_progress]
    assert all(sheet.cell(row=r, column=percent).value is None for r in others)
    due = header.index("Thời hạn hiện hành") + 1
    dues = {sheet.cell(row=r, column=due).value for r in range(3, sheet.max_row + 1)} - {None}
    assert {d.date() if hasattr(d, "date") else d for d in dues} == {date(2026, 9, 30)}
    # The item's latest explanation request beside it.
    agency, explained = header.index("Đơn vị") + 1, header.index("Giải trình") + 1
    found = {}
    for r in range(3, sheet.max_row + 1):
        text = sheet.cell(row=r, column=explained).value
        if text:
            found[text] = sheet.cell(row=r, column=agency).value
    assert found == {"Yêu cầu ngày 12/10/2026; đã giải trình ngày 18/10/2026: Thiếu kinh phí, sẽ xong "
                     "trong tháng 12": "UBND phường Hồng Gai",
                     "Yêu cầu ngày 10/12/2026; chưa giải trình (hạn 20/12/2026)": "UBND phường Hồng Gai"}


def _by_header(sheet: object, header: list[str], row: int) -> dict[str, object]:
    return {name: sheet.cell(row=row, column=i + 1).value  # type: ignore[attr-defined]
            for i, name in enumerate(header)}


def test_the_appendix_sheet_has_the_class_both_dates_the_verifier_and_the_extension(
        engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    """Every owing agency's row carries its official class (the four of domain.official), the
    due date in force beside the first one, the verifier's full name (verified items only) and
    its latest extension request; the sheet "Extensions" lists every request."""
    from datetime import date

    from models.rollup import parse_period
    from models.types import utcnow

    approved, refused, pending = ask_extensions(engine)
    out = tmp_path / "h2.xlsx"
    assert main(["export", "--period", "2026-H2", "--output", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    sheet = book["Phụ lục"]
    header = [str(c.value) for c in sheet[2]]
    assert header[8:] == ["Đơn vị", "Tình trạng", "Phân loại kết quả", "Tỷ lệ hoàn thành",
                          "Thời hạn hiện hành", "Hạn ban đầu", "Người xác nhận", "Nội dung báo cáo",
                          "Gia hạn", "Giải trình"]
    rows = [_by_header(sheet, header, r) for r in range(3, sheet.max_row + 1)]
    owed = [r for r in rows if r["Đơn vị"]]
    period = parse_period("2026-H2")
    expected = oracle(engine, period.start, period.end, utcnow().date())
    assert len(owed) == expected["owed"]
    classes = [r["Phân loại kết quả"] for r in owed]
    assert classes.count("Hoàn thành đúng hạn") == expected["on_time"]
    assert classes.count("Hoàn thành quá hạn") == expected["late"]
    assert classes.count("Đang thực hiện trong hạn") == expected["within"]
    assert classes.count("Quá hạn (chưa hoàn thành)") == expected["overdue"]
    assert expected["overdue"] and expected["late"] + expected["on_time"]
    # The verifier by full name on verified rows, nobody elsewhere.
    verified = [r for r in owed if r["Tình trạng"] == "Đã xác nhận"]
    assert verified and all(r["Người xác nhận"] == "Nguyễn Văn Điều Phối" for r in verified)
    assert all(r["Người xác nhận"] in (None, "") for r in owed if r not in verified)

    def day(value: object) -> object:
        return value.date() if hasattr(value, "date") else value

    extended = {r["Gia hạn"]: (day(r["Thời hạn hiện hành"]), day(r["Hạn ban đầu"]))
                for r in owed if r["Gia hạn"]}
    assert extended == {
        "Đề nghị gia hạn đến 15/10/2026: đã chấp thuận": (date(2026, 10, 15), date(2026, 9, 30)),
        "Đề nghị gia hạn đến 16/10/2026: không chấp thuận: Không có căn cứ":
            (date(2026, 9, 30), date(2026, 9, 30)),
        "Đề nghị gia hạn đến 17/10/2026: chờ duyệt gia hạn": (date(2026, 9, 30), date(2026, 9, 30)),
    }
    # Items never extended: the first due date is the one in force.
    assert all(day(r["Hạn ban đầu"]) == day(r["Thời hạn hiện hành"]) for r in owed if not r["Gia hạn"])

    requests = list(book["Gia hạn"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], day(r[3]), day(r[4]), day(r[5]), r[6], r[7], r[9], day(r[10]), r[11], r[12])
            for r in requests] == [
        (approved, "UBND phường Hồng Gai", date(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 15),
         "Chờ kinh phí bổ sung 0", "Đầu mối Hồng Gai", "Đã chấp thuận", date(2026, 10, 15), None,
         "Nguyễn Văn Điều Phối"),
        (refused, "UBND phường Hồng Gai", date(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 16),
         "Chờ kinh phí bổ sung 1", "Đầu mối Hồng Gai", "Không chấp thuận", None, "Không có căn cứ",
         "Nguyễn Văn Điều Phối"),
        (pending, "UBND phường Hồng Gai", date(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 17),
         "Chờ kinh phí bổ sung 2", "Đầu mối Hồng Gai", "Chờ duyệt gia hạn", None, None, None),
    ]


def test_the_bots_export_is_read_and_written_in_the_render_worker(
        engine: Engine, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """/export's whole workbook (the rows read, then written) comes from the render worker, on
    its own engine of the same database: this process's for_actor is never called."""
    import pickle
    from zoneinfo import ZoneInfo

    from handlers.export import workbook
    from models import export
    from models.db import EngineRef, session_scope
    from models.members import load_actor
    from models.rollup import parse_period
    from models.status import ChoosePlan, PlanOption
    from sandbox.status_data import ADMIN, TODAY
    from views import render_pool
    from views.i18n import use_locale

    with session_scope(engine) as s:
        actor = load_actor(s, ADMIN, [])
    args = (EngineRef(engine), actor, parse_period(Q3), TODAY, ZoneInfo("Asia/Ho_Chi_Minh"), 0)
    with use_locale("vi"):
        here, viewer_here = workbook(*args)
        monkeypatch.setattr(export, "for_actor", lambda *_a: pytest.fail("read in this process"))
        render_pool.start()
        try:
            there, viewer = render_pool.run(workbook, *args)
        finally:
            render_pool.stop()
    assert viewer == viewer_here
    sheets = [list(openpyxl.load_workbook(io.BytesIO(b)).worksheets[1].iter_rows(values_only=True))
              for b in (here, there)]
    assert sheets[0] == sheets[1] and len(sheets[0]) > 50
    # An EngineRef crosses as its URL; here it is the engine itself.
    assert args[0].get() is engine
    assert pickle.loads(pickle.dumps(args[0])).get().url == engine.url
    # What /export may raise there crosses back whole (the plan choice with its plans).
    choice = ChoosePlan([PlanOption(1, "916/KH-UBND", "Kế hoạch 916")])
    assert pickle.loads(pickle.dumps(choice)).plans == choice.plans
