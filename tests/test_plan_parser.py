"""Tests of the pure plan parser against the 916/KH-UBND appendix and malformed inputs."""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from domain.plan_parser import (
    CADENCES,
    ParsedPlan,
    ParsedTask,
    PlanFormatError,
    normalize_cadence,
    parse_deadline,
    parse_plan,
    split_agencies,
)

DATA = Path(__file__).parent.parent / "models" / "data" / "plan916.txt"
APPENDIX = DATA.read_bytes()
APPENDIX_TEXT = APPENDIX.decode("utf-8")

HEADER = "STT\tNội dung\tNhiệm vụ cụ thể\tTrách nhiệm cụ thể\t\tThời gian thực hiện\tGhi chú"
SUBHEADER = "\t\t\tĐơn vị chủ trì\tĐơn vị phối hợp\t\t"
AXIS = "<b>Trục nội dung: Tham gia</b>\t\t\t\t\t\t"

BODY = """

## **KẾ HOẠCH**

### **Thực hiện Chỉ thị số 03-CT/TU ngày 29/12/2015 của Ban Thường vụ Tỉnh ủy**

Ủy ban nhân dân Tỉnh xây dựng Kế hoạch thực hiện Chỉ thị số 03-CT/TU, cụ thể như sau:

## **I. MỤC ĐÍCH, YÊU CẦU**

- Tạo sự chuyển biến mạnh mẽ về nhận thức và hành động của đội ngũ cán bộ, công chức.

| Năm | Chỉ số |
|---|---|
| 2016 | 37 |

**Nguyễn Đức Long**

"""
FULL = (BODY.encode("utf-8")) + APPENDIX
BODY_LINES = BODY.count("\n")


def doc(*rows: str) -> bytes:
    return "\n".join([HEADER, SUBHEADER, *rows]).encode("utf-8")


@pytest.fixture(scope="module")
def plan() -> ParsedPlan:
    return parse_plan(APPENDIX, source="plan916.txt")


@pytest.fixture(scope="module")
def by_code(plan: ParsedPlan) -> dict[str, ParsedTask]:
    return {t.code: t for t in plan.tasks}


def _line_of(text: str, needle: str) -> int:
    hits = [i for i, line in enumerate(text.split("\n"), 1) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# --------------------------------------------------------------------------- the seed


def test_data_file_is_the_appendix() -> None:
    assert APPENDIX_TEXT.startswith(
        "# NHIỆM VỤ CỤ THỂ NÂNG CAO CHẤT LƯỢNG QUẢN TRỊ VÀ HÀNH CHÍNH CÔNG TỈNH QUẢNG NINH\n"
    )
    assert APPENDIX_TEXT.endswith("Thường xuyên\t")


def test_plan_metadata(plan: ParsedPlan) -> None:
    assert plan.number == "916/KH-UBND"
    assert plan.issued_on == datetime.date(2016, 2, 25)
    assert plan.title == (
        "NHIỆM VỤ CỤ THỂ NÂNG CAO CHẤT LƯỢNG QUẢN TRỊ VÀ HÀNH CHÍNH CÔNG TỈNH QUẢNG NINH"
    )


def test_axes(plan: ParsedPlan) -> None:
    assert [(a.number, a.name) for a in plan.axes] == [
        (1, "Tham gia của người dân ở cấp cơ sở"),
        (2, "Công khai, minh bạch"),
        (3, "Trách nhiệm giải trình với người dân"),
        (4, "Kiểm soát tham nhũng trong khu vực công"),
        (5, "Thủ tục hành chính công"),
        (6, "Cung ứng dịch vụ công"),
    ]


def test_task_counts_codes_positions(plan: ParsedPlan) -> None:
    assert len(plan.tasks) == 40
    assert Counter(t.axis for t in plan.tasks) == {1: 4, 2: 7, 3: 3, 4: 11, 5: 7, 6: 8}
    codes = [t.code for t in plan.tasks]
    assert len(set(codes)) == 40
    assert codes == [
        "1.1", "1.2", "1.3", "1.4",
        "2.1", "2.2a", "2.2b", "2.3a", "2.3b", "2.3c", "2.3d",
        "3.1a", "3.1b", "3.2",
        "4.1a", "4.1b", "4.1c", "4.2a", "4.2b", "4.2c", "4.3", "4.4a", "4.4b", "4.4c", "4.4d",
        "5.1", "5.2a", "5.2b", "5.2c", "5.2d", "5.2e", "5.3",
        "6.1a", "6.1b", "6.2", "6.3", "6.4a", "6.4b", "6.4c", "6.5",
    ]  # fmt: skip
    assert [t.position for t in plan.tasks] == list(range(1, 41))
    assert all(t.cadence in CADENCES for t in plan.tasks)
    assert all(t.lead for t in plan.tasks)
    assert all(t.task and t.timeframe for t in plan.tasks)


def test_each_task_points_at_its_line(plan: ParsedPlan) -> None:
    lines = APPENDIX_TEXT.split("\n")
    for t in plan.tasks:
        assert t.task in " ".join(lines[t.line - 1].split()), t.code
    # every tab row of the file that carries a task text is one task: nothing dropped
    task_lines = [
        i
        for i, line in enumerate(lines, 1)
        if "\t" in line
        and len(line.split("\t")) > 2
        and line.split("\t")[2].strip()
        and not line.startswith("STT\t")
    ]
    assert task_lines == [t.line for t in plan.tasks]


def test_only_warning_is_row_without_content(plan: ParsedPlan) -> None:
    line = _line_of(APPENDIX_TEXT, "Hướng dẫn, kiểm tra, đôn đốc")
    assert plan.warnings == (f"line {line}: row 4 of axis 1 has no content",)


def test_axis_1(by_code: dict[str, ParsedTask]) -> None:
    t = by_code["1.1"]
    assert (t.axis, t.row, t.content) == (1, "1", "Tri thức công dân")
    assert t.task.startswith("Tăng cường thông tin, tuyên truyền về Pháp lệnh số 34/2007")
    assert t.lead == ("UBND cấp huyện", "UBND cấp xã")
    assert t.coordinating == ("Các cơ quan truyền thông",)
    assert t.coordination_note == ""
    assert (t.timeframe, t.cadence, t.note) == ("Định kỳ hàng quý", "quarterly", "")

    t = by_code["1.2"]
    assert t.content == "Cơ hội tham gia; Chất lượng bầu cử"
    assert t.lead == ("Sở Nội vụ", "UBND cấp huyện", "UBND cấp xã")
    assert t.coordinating == ("Các cơ quan liên quan",)
    assert (t.timeframe, t.cadence) == ("Trước và trong quá trình bầu cử", "election")

    t = by_code["1.3"]
    assert (t.lead, t.coordinating, t.cadence) == (("UBND cấp xã",), (), "quarterly")

    t = by_code["1.4"]  # own STT, empty content: not a continuation
    assert (t.row, t.content) == ("4", "")
    assert t.lead == ("Sở Nội vụ", "UBND cấp huyện")
    assert t.cadence == "ongoing"


def test_axis_2(by_code: dict[str, ParsedTask]) -> None:
    assert by_code["2.1"].cadence == "december"
    assert by_code["2.1"].timeframe == "Tháng 12 hàng năm"

    a, b = by_code["2.2a"], by_code["2.2b"]
    assert (a.row, a.content, a.lead, a.cadence) == (
        "2",
        "Ngân sách cấp xã",
        ("UBND cấp xã",),
        "quarterly",
    )
    assert (b.row, b.content) == ("2", "Ngân sách cấp xã")
    assert b.task.startswith("Bồi dưỡng, nâng cao nghiệp vụ")
    assert b.lead == ("Sở Tài chính", "UBND cấp huyện")
    assert (b.timeframe, b.cadence) == ("Hàng năm", "annual")

    t = by_code["2.3a"]  # new STT right after a page break
    assert t.content == "Quy hoạch/ kế hoạch sử dụng đất và khung giá đất"
    assert t.cadence == "after_approval"

    t = by_code["2.3b"]  # every merged cell inherited, coordinating not
    assert t.task.startswith("Lấy ý kiến đóng góp của người dân")
    assert (t.row, t.content) == ("3", "Quy hoạch/ kế hoạch sử dụng đất và khung giá đất")
    assert t.lead == ("UBND cấp xã",)
    assert t.timeframe == "Ngay sau khi cấp có thẩm quyền phê duyệt"
    assert t.cadence == "after_approval"
    assert (t.coordinating, t.coordination_note) == ((), "")

    t = by_code["2.3c"]  # an instruction in the coordinating column, not two agencies
    assert t.lead == ("Văn phòng UBND tỉnh", "Sở Tài nguyên và Môi trường", "UBND cấp huyện")
    assert t.coordinating == ()
    assert t.coordination_note == "Đăng tin trên cổng thông tin điện tử của tỉnh; của địa phương"

    t = by_code["2.3d"]  # trailing ';' dropped
    assert t.lead == ("Văn phòng UBND tỉnh", "Sở Tài nguyên và Môi trường")
    assert t.coordinating == ("UBND cấp huyện", "UBND cấp xã")
    assert t.cadence == "after_approval"


def test_axis_3(by_code: dict[str, ParsedTask]) -> None:
    a, b = by_code["3.1a"], by_code["3.1b"]
    assert a.content == b.content == "Mức độ và hiệu quả tiếp xúc với chính quyền"
    assert b.lead == ("Các cơ quan hành chính nhà nước",)
    t = by_code["3.2"]
    assert t.content == "Ban Thanh tra nhân dân; Ban Giám sát đầu tư cộng đồng"
    assert t.coordinating == ("Sở Kế hoạch và Đầu tư", "UBMTTQ tỉnh")
    assert t.cadence == "annual"


def test_axis_4(by_code: dict[str, ParsedTask]) -> None:
    t = by_code["4.1a"]
    assert t.lead == ("Sở Tư pháp", "Thanh tra tỉnh", "UBND cấp huyện", "UBND cấp xã")
    b, c = by_code["4.1b"], by_code["4.1c"]
    assert b.lead == ("Các Sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã")
    assert c.task.startswith("Công khai đầy đủ hộp thư điện tử")
    assert c.lead == b.lead
    assert (c.timeframe, c.cadence) == ("Thường xuyên", "ongoing")
    assert c.coordinating == ()
    assert c.content == "Kiểm soát tham nhũng trong chính quyền địa phương"

    assert by_code["4.2b"].lead == ("Sở Y tế",)
    assert by_code["4.2c"].lead == ("Sở Giáo dục và Đào tạo", "UBND cấp huyện", "UBND cấp xã")
    t = by_code["4.3"]
    assert (t.timeframe, t.cadence) == ("Sau khi cấp có thẩm quyền phê duyệt", "after_approval")

    t = by_code["4.4a"]  # new STT after a page break, with a note (typo kept)
    assert t.content == "Quyết tâm chống tham nhũng"
    assert t.lead == ("Thanh tra tỉnh",)
    assert t.note == "Thông báo tuyên dụng công khai trên các phương tiện thông tin đại chúng"
    assert (by_code["4.4b"].timeframe, by_code["4.4b"].cadence) == ("Định kỳ", "periodic")
    assert by_code["4.4b"].note == ""  # notes are not inherited

    t = by_code["4.4c"]  # inherits lead, has its own timeframe
    assert t.lead == ("Các Sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã")
    assert (t.timeframe, t.cadence) == ("Tháng 12 hàng năm", "december")
    assert by_code["4.4d"].lead == ("Sở Nội vụ", "UBND cấp huyện")


def test_axis_5(by_code: dict[str, ParsedTask]) -> None:
    group = [by_code[f"5.2{x}"] for x in "abcde"]
    assert {t.row for t in group} == {"2"}
    assert {t.content for t in group} == {"Thực hiện công khai các thủ tục hành chính"}
    assert group[0].line < group[1].line - 3  # across the page break
    assert group[0].coordinating == ("Sở Tư pháp", "Các cơ quan đơn vị liên quan")
    assert group[1].coordinating == (
        "Sở Tư pháp",
        "Sở Thông tin và Truyền thông",
        "Các cơ quan có liên quan",
    )

    c = by_code["5.2c"]
    assert c.lead == ("Sở Thông tin và Truyền thông",)
    assert c.coordinating == ("Các Sở, ban, ngành", "UBND cấp huyện")
    assert (c.timeframe, c.cadence, c.note) == ("Theo lộ trình", "roadmap", "")

    d = by_code["5.2d"]
    assert (d.cadence, d.lead) == ("roadmap", ("UBND cấp huyện", "UBND cấp xã"))
    assert d.note == (
        "Năm 2016, các dịch vụ công được cung cấp trực tuyến ở mức độ 3,4 đạt trên 60%. "
        "Đến năm 2020 đạt trên 90%."
    )
    e = by_code["5.2e"]
    assert e.cadence == "ongoing"
    assert e.note.startswith("Đến hết năm 2016 triển khai trên 90%")
    assert e.coordinating == ("Sở Nội vụ", "UBND cấp huyện", "Các cơ quan liên quan")
    assert by_code["5.3"].row == "3"


def test_axis_6(by_code: dict[str, ParsedTask]) -> None:
    assert by_code["6.1b"].cadence == "quarterly"
    assert by_code["6.2"].lead == ("Bảo hiểm xã hội tỉnh",)
    assert by_code["6.2"].coordinating == (
        "UBND cấp huyện",
        "UBND cấp xã",
        "Các phương tiện thông tin đại chúng",
    )
    group = [by_code[f"6.4{x}"] for x in "abc"]
    assert {t.content for t in group} == {"Cơ sở hạ tầng căn bản"}
    assert group[0].lead == (
        "Sở Nông nghiệp và Phát triển nông thôn",
        "UBND cấp huyện",
        "UBND cấp xã",
    )
    assert (group[1].lead, group[1].cadence) == (("Sở Công thương",), "master_plan")
    assert group[1].timeframe == "Theo quy hoạch, kế hoạch"
    assert group[2].coordinating == ("Ban Xây dựng nông thôn mới",)
    assert group[2].cadence == "master_plan"

    t = by_code["6.5"]
    assert t.content == "An ninh, trật tự"
    assert t.lead == ("Công an tỉnh", "Công an cấp huyện", "Công an cấp xã")
    assert t.coordinating == ()


def test_cadence_histogram(plan: ParsedPlan) -> None:
    assert Counter(t.cadence for t in plan.tasks) == {
        "ongoing": 21,
        "after_approval": 5,
        "quarterly": 4,
        "annual": 2,
        "december": 2,
        "roadmap": 2,
        "master_plan": 2,
        "election": 1,
        "periodic": 1,
    }


# --------------------------------------------------------------------------- variants


def _shift(p: ParsedPlan, offset: int) -> tuple[ParsedTask, ...]:
    return tuple(dataclasses.replace(t, line=t.line - offset) for t in p.tasks)


def test_full_document_parses_like_the_appendix(plan: ParsedPlan) -> None:
    full = parse_plan(FULL)
    assert (full.number, full.issued_on, full.title, full.axes) == (
        plan.number,
        plan.issued_on,
        plan.title,
        plan.axes,
    )
    assert _shift(full, BODY_LINES) == plan.tasks
    assert len(full.warnings) == len(plan.warnings) == 1


def test_bom_and_crlf_accepted(plan: ParsedPlan) -> None:
    crlf = b"\xef\xbb\xbf" + FULL.replace(b"\n", b"\r\n")
    other = parse_plan(crlf)
    assert _shift(other, BODY_LINES) == plan.tasks
    assert other.axes == plan.axes and other.number == plan.number


def test_nfd_input_is_normalized(plan: ParsedPlan) -> None:
    nfd = unicodedata.normalize("NFD", APPENDIX_TEXT).encode("utf-8")
    assert nfd != APPENDIX
    assert parse_plan(nfd) == plan


def test_deterministic(plan: ParsedPlan) -> None:
    again = parse_plan(APPENDIX)
    assert again == plan
    assert hash(again.tasks) == hash(plan.tasks)
    assert [t.code for t in parse_plan(FULL).tasks] == [t.code for t in plan.tasks]


def test_results_are_frozen(plan: ParsedPlan) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.tasks[0].code = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.title = "x"  # type: ignore[misc]


def test_changed_timeframe_changes_cadence() -> None:
    line = APPENDIX_TEXT.split("\n")[_line_of(APPENDIX_TEXT, "Đóng góp tự nguyện") - 1]
    edited = _replace_once(
        APPENDIX_TEXT, line, line.replace("Định kỳ hàng quý", "Hàng năm")
    ).encode("utf-8")
    tasks = {t.code: t for t in parse_plan(edited).tasks}
    assert (tasks["1.3"].timeframe, tasks["1.3"].cadence) == ("Hàng năm", "annual")
    assert tasks["1.1"].cadence == "quarterly"


def test_changed_timeframe_propagates_to_inheriting_rows() -> None:
    old = "\tUBND cấp xã\t\tNgay sau khi cấp có thẩm quyền phê duyệt\t\n\t\tLấy ý kiến"
    new = "\tUBND cấp xã\t\tTheo lộ trình\t\n\t\tLấy ý kiến"
    tasks = {t.code: t for t in parse_plan(_replace_once(APPENDIX_TEXT, old, new).encode()).tasks}
    assert tasks["2.3a"].cadence == tasks["2.3b"].cadence == "roadmap"
    assert tasks["2.3c"].cadence == "after_approval"


def test_unknown_timeframe_is_other_with_warning() -> None:
    line_no = _line_of(APPENDIX_TEXT, "Đóng góp tự nguyện")
    line = APPENDIX_TEXT.split("\n")[line_no - 1]
    edited = _replace_once(APPENDIX_TEXT, line, line.replace("Định kỳ hàng quý", "Theo tiến độ"))
    p = parse_plan(edited.encode())
    t = next(t for t in p.tasks if t.code == "1.3")
    assert (t.timeframe, t.cadence, t.due_on) == ("Theo tiến độ", "other", None)
    assert any(w.startswith(f"line {line_no}:") and "Theo tiến độ" in w for w in p.warnings)


def test_an_explicit_deadline_is_a_one_off_with_its_date() -> None:
    line = APPENDIX_TEXT.split("\n")[_line_of(APPENDIX_TEXT, "Đóng góp tự nguyện") - 1]
    edited = _replace_once(APPENDIX_TEXT, line, line.replace("Định kỳ hàng quý", "Quý I/2016"))
    t = next(t for t in parse_plan(edited.encode()).tasks if t.code == "1.3")
    assert (t.timeframe, t.cadence, t.due_on) == ("Quý I/2016", "once", datetime.date(2016, 3, 31))


def test_a_deadline_that_is_no_date_is_other_with_a_warning() -> None:
    line_no = _line_of(APPENDIX_TEXT, "Đóng góp tự nguyện")
    line = APPENDIX_TEXT.split("\n")[line_no - 1]
    edited = _replace_once(APPENDIX_TEXT, line, line.replace("Định kỳ hàng quý", "Trước 30/2/2027"))
    p = parse_plan(edited.encode())
    t = next(t for t in p.tasks if t.code == "1.3")
    assert (t.cadence, t.due_on) == ("other", None)
    assert f"line {line_no}: the deadline 'Trước 30/2/2027' is not a date (day is out of range " \
        "for month); cadence set to 'other'" in p.warnings


def test_adding_a_task_to_a_single_group_letters_it() -> None:
    line = APPENDIX_TEXT.split("\n")[_line_of(APPENDIX_TEXT, "Đóng góp tự nguyện") - 1]
    extra = "\t\tThêm nhiệm vụ mới\t\t\t\t"
    edited = _replace_once(APPENDIX_TEXT, line, line + "\n" + extra)
    p = parse_plan(edited.encode())
    codes = [t.code for t in p.tasks[:5]]
    assert codes == ["1.1", "1.2", "1.3a", "1.3b", "1.4"]
    t = p.tasks[3]
    assert (t.content, t.lead, t.timeframe) == (
        "Đóng góp tự nguyện",
        ("UBND cấp xã",),
        "Định kỳ hàng quý",
    )


def test_minimal_document_and_inheritance_resets_per_axis() -> None:
    p = parse_plan(
        doc(
            "<b>Trục nội dung: A</b>",
            "1\tX\tViệc một\tSở Nội vụ\t\tHàng năm\t",
            "Trực nội dung: B",
            "1\tY\tViệc hai\t\t\t\t",
        )
    )
    assert [a.name for a in p.axes] == ["A", "B"]
    assert [t.code for t in p.tasks] == ["1.1", "2.1"]
    second = p.tasks[1]
    assert (second.lead, second.timeframe, second.cadence) == ((), "", "other")
    assert any("no lead agency" in w for w in p.warnings)
    assert any("no timeframe" in w for w in p.warnings)


def test_non_table_lines_between_chunks_are_ignored_with_warning() -> None:
    p = parse_plan(doc(AXIS, "1\tX\tViệc một\tSở Nội vụ\t\tHàng năm\t", "", "- 2 -", "", HEADER,
                       SUBHEADER, "\t\tViệc hai\t\t\t\t"))  # fmt: skip
    assert [t.code for t in p.tasks] == ["1.1a", "1.1b"]
    assert p.warnings == ("line 6: ignored text outside the table: '- 2 -'",)


# --------------------------------------------------------------------------- malformed


def _error(data: bytes) -> PlanFormatError:
    with pytest.raises(PlanFormatError) as info:
        parse_plan(data)
    assert isinstance(info.value, ValueError)
    return info.value


def test_empty_file() -> None:
    assert str(_error(b"")) == "the file is empty"
    assert str(_error(b"\xef\xbb\xbf \r\n\n")) == "the file is empty"
    assert _error(b"").line is None


def test_not_utf8() -> None:
    data = "Kế hoạch".encode("cp1258", errors="replace") + b"\xff\xfe"
    err = _error(APPENDIX[:10] + b"\xff" + APPENDIX[10:])
    assert str(err) == "not UTF-8 text: invalid byte at offset 10"
    assert "not UTF-8 text" in str(_error(data))


def test_no_table() -> None:
    err = _error(BODY.encode())
    assert str(err).startswith("no appendix table found: expected a header row with the columns")
    assert "STT | Nội dung | Nhiệm vụ cụ thể" in str(err)


def test_wrong_columns() -> None:
    bad = APPENDIX_TEXT.replace("\tThời gian thực hiện\tGhi chú", "\tThời hạn\tGhi chú")
    err = _error(bad.encode())
    line = APPENDIX_TEXT.split("\n").index(HEADER) + 1  # the first header row
    assert err.line == line
    assert str(err).startswith(f"line {line}: the table header has the wrong columns: expected ")
    assert "Thời gian thực hiện" in str(err) and "found STT" in str(err) and "Thời hạn" in str(err)


def test_wrong_columns_on_a_repeated_header() -> None:
    err = _error(doc(AXIS, "1\tX\tViệc\tSở Nội vụ\t\tHàng năm\t", "STT\tNội dung\tViệc"))
    assert err.line == 5
    assert "wrong columns" in str(err)


def test_row_with_too_many_or_too_few_cells() -> None:
    """Every row of the converted table has exactly seven cells: one more or one less means a
    tab was added or lost, and the cells after it would land in the wrong columns."""
    line_no = _line_of(APPENDIX_TEXT, "Đóng góp tự nguyện")
    line = APPENDIX_TEXT.split("\n")[line_no - 1]
    bad = _replace_once(APPENDIX_TEXT, line, line.rstrip("\t") + "\tghi chú\tthừa")
    err = _error(bad.encode())
    assert err.line == line_no and err.task == "1.3"
    assert str(err) == f"line {line_no}: task 1.3: the row has 8 cells, expected 7 " + (
        "(STT | Nội dung | Nhiệm vụ cụ thể | Trách nhiệm cụ thể | (empty) | "
        "Thời gian thực hiện | Ghi chú): a tab lost or added?"
    )
    # extra empty cells too: a tab added before the empty ones shifts the cells after it
    assert "has 10 cells" in str(_error(_replace_once(APPENDIX_TEXT, line, line + "\t\t\t").encode()))
    assert "has 6 cells" in str(_error(_replace_once(APPENDIX_TEXT, line, line[:-1]).encode()))


def test_data_row_before_any_axis() -> None:
    err = _error(doc("1\tX\tViệc\tSở Nội vụ\t\tHàng năm"))
    assert err.line == 3 and "before any axis heading" in str(err)


def test_empty_task_text() -> None:
    err = _error(doc(AXIS, "1\tX\t\tSở Nội vụ\t\tHàng năm\t"))
    assert err.line == 4 and "no task text" in str(err)


def test_no_axis_and_no_task() -> None:
    err = _error(doc())
    assert err.line == 1 and "no axis heading row" in str(err)
    err = _error(doc(AXIS))
    assert err.line == 1 and "no task rows" in str(err)


def test_header_without_subheader() -> None:
    err = _error("\n".join([HEADER, AXIS, "1\tX\tViệc\tSở Nội vụ\t\tHàng năm"]).encode())
    assert err.line == 2 and "sub-header" in str(err)


def test_continuation_without_a_numbered_row() -> None:
    err = _error(doc(AXIS, "\t\tViệc\tSở Nội vụ\t\tHàng năm\t"))
    assert err.line == 4 and "no STT" in str(err)


def test_repeated_stt_that_is_not_the_current_group() -> None:
    err = _error(doc(AXIS, "1\tX\tA\tSở Nội vụ\t\tHàng năm\t", "2\tY\tB\t\t\t\t",
                      "1\tX\tC\t\t\t\t"))
    assert err.line == 6 and "appears again" in str(err)


def test_source_is_named_in_errors() -> None:
    with pytest.raises(PlanFormatError) as info:
        parse_plan(doc(AXIS, "1\tX\t\tSở\t\t\t"), source="upload.txt")
    assert str(info.value).startswith("upload.txt: line 4: ")
    assert info.value.line == 4


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("cell", "names", "note"),
    [
        ("", (), ""),
        ("  ", (), ""),
        ("UBND cấp huyện, UBND cấp xã", ("UBND cấp huyện", "UBND cấp xã"), ""),
        ("Sở Nội vụ;  UBND   cấp huyện ;", ("Sở Nội vụ", "UBND cấp huyện"), ""),
        (";;Sở Y tế;;", ("Sở Y tế",), ""),
        ("Các Sở, ban, ngành; UBND cấp huyện", ("Các Sở, ban, ngành", "UBND cấp huyện"), ""),
        ("các sở, ban, ngành", ("các sở, ban, ngành",), ""),
        ("Sở, ban, ngành, địa phương", (), "Sở, ban, ngành, địa phương"),
        ("Sở, ban, ngành; Sở Tư pháp", ("Sở, ban, ngành", "Sở Tư pháp"), ""),
        ("Các Sở,ban,  ngành", ("Các Sở,ban, ngành",), ""),
        (
            "Công an tỉnh; Công an cấp huyện, cấp xã",
            ("Công an tỉnh", "Công an cấp huyện", "Công an cấp xã"),
            "",
        ),
        ("UBND cấp huyện, cấp xã", ("UBND cấp huyện", "UBND cấp xã"), ""),
        ("Công an tỉnh, cấp huyện", ("Công an tỉnh", "Công an cấp huyện"), ""),
        ("UBND cấp xã; UBND cấp xã", ("UBND cấp xã",), ""),
        (
            "Đăng tin trên cổng thông tin điện tử của tỉnh; của địa phương",
            (),
            "Đăng tin trên cổng thông tin điện tử của tỉnh; của địa phương",
        ),
        ("Sở Tư pháp; phối hợp khi cần", (), "Sở Tư pháp; phối hợp khi cần"),
        (
            "Uỷ ban MTTQ tỉnh; Ủy ban nhân dân tỉnh",
            ("Uỷ ban MTTQ tỉnh", "Ủy ban nhân dân tỉnh"),
            "",
        ),
        ("Ban Xây dựng nông thôn mới", ("Ban Xây dựng nông thôn mới",), ""),
        ("Kho bạc Nhà nước tỉnh, Cục Thuế tỉnh", ("Kho bạc Nhà nước tỉnh", "Cục Thuế tỉnh"), ""),
    ],
)
def test_split_agencies(cell: str, names: tuple[str, ...], note: str) -> None:
    assert split_agencies(cell) == (names, note)


def test_split_agencies_normalizes_nfc() -> None:
    names, note = split_agencies(unicodedata.normalize("NFD", "Sở Nội vụ; Sở Y tế"))
    assert names == ("Sở Nội vụ", "Sở Y tế") and note == ""
    assert all(unicodedata.is_normalized("NFC", n) for n in names)


@pytest.mark.parametrize(
    ("timeframe", "cadence"),
    [
        ("Định kỳ hàng quý", "quarterly"),
        ("định kỳ  hàng QUÝ", "quarterly"),
        ("Tháng 12 hàng năm", "december"),
        ("Hàng năm", "annual"),
        (" hàng năm. ", "annual"),
        ("Định kỳ", "periodic"),
        ("Thường xuyên", "ongoing"),
        ("Ngay sau khi cấp có thẩm quyền phê duyệt", "after_approval"),
        ("Sau khi cấp có thẩm quyền phê duyệt", "after_approval"),
        ("Trước và trong quá trình bầu cử", "election"),
        ("Theo lộ trình", "roadmap"),
        ("Theo quy hoạch, kế hoạch", "master_plan"),
        (unicodedata.normalize("NFD", "Thường xuyên"), "ongoing"),
        ("Quý I/2016", "once"),
        ("Trước 30/6/2027", "once"),
        ("Năm 2027 và các năm tiếp theo", "other"),
        ("", "other"),
    ],
)
def test_normalize_cadence(timeframe: str, cadence: str) -> None:
    assert normalize_cadence(timeframe) == cadence


@pytest.mark.parametrize(
    ("timeframe", "due"),
    [
        ("Trước 30/6/2027", datetime.date(2027, 6, 30)),
        ("trước ngày 30/06/2027.", datetime.date(2027, 6, 30)),
        ("31/12/2027", datetime.date(2027, 12, 31)),
        ("Trước ngày 15 tháng 3 năm 2027", datetime.date(2027, 3, 15)),
        ("Quý II/2027", datetime.date(2027, 6, 30)),
        ("Quý 4 năm 2027", datetime.date(2027, 12, 31)),
        ("Trong quý I/2028", datetime.date(2028, 3, 31)),
        ("Tháng 9/2027", datetime.date(2027, 9, 30)),
        ("Tháng 2 năm 2028", datetime.date(2028, 2, 29)),
        ("Năm 2027", datetime.date(2027, 12, 31)),
        ("Trong năm 2027", datetime.date(2027, 12, 31)),
        ("6 tháng đầu năm 2027", datetime.date(2027, 6, 30)),
        ("THOI HAN: quy iii/2027", None),  # words before the deadline that are not a deadline's
        ("Tháng 12 hàng năm", None),
        ("Hàng năm", None),
        ("Quý V/2027", None),
        ("Năm 1890", None),
    ],
)
def test_parse_deadline(timeframe: str, due: datetime.date | None) -> None:
    assert parse_deadline(timeframe) == due


def test_cadences_constant() -> None:
    assert len(set(CADENCES)) == len(CADENCES) == 11
    assert "other" in CADENCES and "once" in CADENCES
