"""Appendices of other shapes than Plan 916's, written as a province would hold them.

* ``plan_2027_docx``: a 2027 plan in Word, "STT | Nội dung công việc | Cơ quan chủ trì | Cơ quan
  phối hợp | Thời hạn hoàn thành | Sản phẩm" (a line break inside a header cell), sections as
  rows "I | …" numbered on across them, explicit deadlines ("Trước 30/6/2027", "Tháng 9/2027",
  "31/12/2027", "Trước ngày 15 tháng 3 năm 2027").
* ``reordered_docx``: the columns in another order ("TT | Đơn vị chủ trì | Nhiệm vụ | Kết quả
  đầu ra | Thời gian thực hiện | Đơn vị phối hợp"), the lead agency and the timeframe merged
  down over two rows (``vMerge``), a section row one cell across the table ("II. …",
  ``gridSpan``), no note column.
* ``quarters_xlsx``: an Excel sheet, two title rows and a blank row above the header "STT |
  Nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian thực hiện | Sản phẩm dự kiến",
  quarter deadlines ("Quý I/2027" …), a timeframe merged over two rows, no section rows (one
  axis, named by the title).

``EXPECTED`` holds what each must give: tasks (code, task, leads, cadence, due date, expected
output). ``python -m tests.plan_shapes DIR`` writes the three files (to send them to a bot).
"""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

TITLE_2027 = "Kế hoạch thực hiện chuyển đổi số năm 2027"


class Expected(NamedTuple):
    code: str
    task: str
    lead: tuple[str, ...]
    coordinating: tuple[str, ...]
    cadence: str
    due_on: date | None
    expected_output: str


def _document(preamble: list[tuple[str, bool]]) -> Any:
    import docx

    document = docx.Document()
    for text, heading in preamble:
        if heading:
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    return document


def _save(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _fill(cell: Any, text: str) -> None:
    """The cell's text, one paragraph per line."""
    lines = text.split("\n")
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


# --------------------------------------------------------------------------- (a) a 2027 plan

PLAN_2027_ROWS = [
    ("I", "Hoàn thiện thể chế", "", "", "", ""),
    ("1", "Xây dựng quy chế quản lý dữ liệu số của tỉnh", "Sở Thông tin và Truyền thông",
     "Sở Tư pháp; Văn phòng UBND tỉnh", "Trước 30/6/2027", "Quyết định của UBND tỉnh"),
    ("2", "Rà soát thủ tục hành chính trực tuyến toàn trình", "Văn phòng UBND tỉnh",
     "Các sở, ban, ngành", "Tháng 9/2027", "Báo cáo rà soát\nDanh mục thủ tục"),
    ("II", "Phát triển hạ tầng số", "", "", "", ""),
    ("3", "Nâng cấp trung tâm dữ liệu tỉnh", "Sở Thông tin và Truyền thông", "Sở Tài chính",
     "31/12/2027", "Trung tâm dữ liệu đạt cấp độ 3"),
    ("4", "Phủ sóng 5G tại các khu công nghiệp", "Sở Công Thương",
     "UBND cấp huyện", "Trước ngày 15 tháng 3 năm 2027", ""),
]

EXPECTED_2027 = [
    Expected("1.1", "Xây dựng quy chế quản lý dữ liệu số của tỉnh", ("Sở Thông tin và Truyền thông",),
             ("Sở Tư pháp", "Văn phòng UBND tỉnh"), "once", date(2027, 6, 30),
             "Quyết định của UBND tỉnh"),
    Expected("1.2", "Rà soát thủ tục hành chính trực tuyến toàn trình", ("Văn phòng UBND tỉnh",),
             ("Các sở, ban, ngành",), "once", date(2027, 9, 30),
             "Báo cáo rà soát; Danh mục thủ tục"),
    Expected("2.3", "Nâng cấp trung tâm dữ liệu tỉnh", ("Sở Thông tin và Truyền thông",),
             ("Sở Tài chính",), "once", date(2027, 12, 31), "Trung tâm dữ liệu đạt cấp độ 3"),
    Expected("2.4", "Phủ sóng 5G tại các khu công nghiệp", ("Sở Công Thương",),
             ("UBND cấp huyện",), "once", date(2027, 3, 15), ""),
]


def plan_2027_docx() -> bytes:
    document = _document([
        ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH", False),
        ("Số: 120/KH-UBND", False),
        ("Kế hoạch số 120/KH-UBND ngày 15 tháng 1 năm 2027 của UBND tỉnh", False),
        (TITLE_2027, True),
        ("Phụ lục: Danh mục nhiệm vụ", False),
    ])
    header = ("STT", "Nội dung công việc", "Cơ quan chủ trì", "Cơ quan phối hợp",
              "Thời hạn\nhoàn thành", "Sản phẩm")
    table = document.add_table(rows=1 + len(PLAN_2027_ROWS), cols=6)
    for column, text in enumerate(header):
        _fill(table.cell(0, column), text)
    for row, cells in enumerate(PLAN_2027_ROWS, 1):
        for column, text in enumerate(cells):
            _fill(table.cell(row, column), text)
    return _save(document)


# --------------------------------------------------------------------------- (b) another order

REORDERED_EXPECTED = [
    Expected("1.1a", "Triển khai nền tảng họp trực tuyến", ("Sở Nội vụ", "Sở Tư pháp"), (),
             "quarterly", None, "Hệ thống họp trực tuyến"),
    Expected("1.1b", "Đào tạo cán bộ sử dụng nền tảng", ("Sở Nội vụ", "Sở Tư pháp"), (),
             "quarterly", None, "Hệ thống họp trực tuyến"),
    Expected("1.2", "Số hóa hồ sơ lưu trữ", ("Văn phòng UBND tỉnh",), ("Sở Nội vụ",),
             "once", date(2027, 12, 31), "Kho hồ sơ số"),
    Expected("2.1", "Kết nối cơ sở dữ liệu dân cư", ("Công an tỉnh",),
             ("Sở Thông tin và Truyền thông",), "once", date(2027, 9, 30), "Báo cáo kết nối"),
    Expected("2.2", "Thanh toán không dùng tiền mặt", ("Ngân hàng Nhà nước chi nhánh tỉnh",),
             (), "once", date(2027, 9, 30), "Báo cáo kết nối"),
]


def reordered_docx() -> bytes:
    document = _document([("Kế hoạch số 45/KH-UBND ngày 3 tháng 2 năm 2027", False),
                          ("Kế hoạch cải cách hành chính năm 2027", True)])
    header = ("TT", "Đơn vị\nchủ trì", "Nhiệm vụ", "Kết quả đầu ra", "THỜI GIAN THỰC HIỆN",
              "Đơn vị phối hợp")
    rows: list[tuple[str, ...]] = [
        ("I. Chính quyền số", "", "", "", "", ""),
        ("1", "Sở Nội vụ\nSở Tư pháp", "Triển khai nền tảng họp trực tuyến",
         "Hệ thống họp trực tuyến", "Định kỳ hàng quý", ""),
        ("", "", "Đào tạo cán bộ sử dụng nền tảng", "", "", ""),
        ("2", "Văn phòng UBND tỉnh", "Số hóa hồ sơ lưu trữ", "Kho hồ sơ số", "Năm 2027",
         "Sở Nội vụ"),
        ("II. Kinh tế số", "", "", "", "", ""),
        ("1", "Công an tỉnh", "Kết nối cơ sở dữ liệu dân cư", "Báo cáo kết nối", "Quý III/2027",
         "Sở Thông tin và Truyền thông"),
        ("2", "Ngân hàng Nhà nước chi nhánh tỉnh", "Thanh toán không dùng tiền mặt", "", "", ""),
    ]
    table = document.add_table(rows=1 + len(rows), cols=6)
    for column, text in enumerate(header):
        _fill(table.cell(0, column), text)
    for row, cells in enumerate(rows, 1):
        if not any(cells[1:]):  # a section row: one cell across the table
            merged = table.cell(row, 0).merge(table.cell(row, 5))
            _fill(merged, cells[0])
            continue
        for column, text in enumerate(cells):
            _fill(table.cell(row, column), text)
    # Merged down: row 1's STT, lead, output and timeframe over row 2 (its cells left empty);
    # row 5's output and timeframe over row 6.
    for column in (0, 1, 3, 4):
        table.cell(2, column).merge(table.cell(3, column))
    for column in (3, 4):
        table.cell(6, column).merge(table.cell(7, column))
    return _save(document)


# --------------------------------------------------------------------------- (c) an Excel sheet

QUARTERS_TITLE = "Danh mục nhiệm vụ phát triển du lịch năm 2027"
QUARTERS_EXPECTED = [
    Expected("1.1", "Tổ chức tuần lễ du lịch Hạ Long", ("Sở Du lịch",), ("UBND cấp huyện",),
             "once", date(2027, 3, 31), "Chương trình tuần lễ"),
    Expected("1.2", "Quảng bá điểm đến trên nền tảng số", ("Sở Du lịch",),
             ("Sở Thông tin và Truyền thông", "Báo Quảng Ninh"), "once", date(2027, 6, 30),
             "Bộ ấn phẩm số"),
    Expected("1.3", "Khảo sát sự hài lòng của du khách", ("Sở Du lịch",), (), "once",
             date(2027, 6, 30), "Báo cáo khảo sát"),
    Expected("1.4", "Tổng kết mùa du lịch", ("Sở Văn hóa và Thể thao",), ("Sở Du lịch",),
             "once", date(2027, 12, 31), "Báo cáo tổng kết"),
]


def quarters_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Phụ lục"
    ws["A1"] = QUARTERS_TITLE
    ws.merge_cells("A1:F1")
    ws["A2"] = "(Kèm theo Kế hoạch số 77/KH-UBND ngày 20 tháng 1 năm 2027 của UBND tỉnh)"
    ws.merge_cells("A2:F2")
    header = ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian\nthực hiện",
              "Sản phẩm (dự kiến)")
    rows: list[tuple[object, ...]] = [
        (1, "Tổ chức tuần lễ du lịch Hạ Long", "Sở Du lịch", "UBND cấp huyện", "Quý I/2027",
         "Chương trình tuần lễ"),
        (2, "Quảng bá điểm đến trên nền tảng số", "Sở Du lịch",
         "Sở Thông tin và Truyền thông\nBáo Quảng Ninh", "Quý II/2027", "Bộ ấn phẩm số"),
        (3, "Khảo sát sự hài lòng của du khách", "Sở Du lịch", None, None, "Báo cáo khảo sát"),
        (4, "Tổng kết mùa du lịch", "Sở Văn hóa và Thể thao", "Sở Du lịch", "Quý IV/2027",
         "Báo cáo tổng kết"),
    ]
    for column, text in enumerate(header, 1):
        ws.cell(4, column, text)
    for row, cells in enumerate(rows, 5):
        for column, value in enumerate(cells, 1):
            if value is not None:
                ws.cell(row, column, value)
    ws.merge_cells("C5:C7")  # one lead over three rows
    ws.merge_cells("E6:E7")  # one quarter over two rows
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHAPES = {"plan_2027.docx": (plan_2027_docx, EXPECTED_2027),
          "reordered.docx": (reordered_docx, REORDERED_EXPECTED),
          "quarters.xlsx": (quarters_xlsx, QUARTERS_EXPECTED)}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    target.mkdir(parents=True, exist_ok=True)
    for name, (build, _) in SHAPES.items():
        (target / name).write_bytes(build())
        print(target / name)
