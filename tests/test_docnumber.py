"""Document numbers inside sentences (Decree 30/2020 number/symbol pattern) and their dates."""

from __future__ import annotations

from datetime import date

import pytest

from domain.docnumber import find_dates, find_document_numbers, first_document_number


def numbers(text: str) -> list[tuple[str, date | None]]:
    return [(d.number, d.date) for d in find_document_numbers(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("12/BC-SYT", "12/BC-SYT"),
    ("Kế hoạch số 916/KH-UBND", "916/KH-UBND"),
    ("Chỉ thị số 03-CT/TU của Tỉnh ủy", "03-CT/TU"),
    ("thực hiện Nghị định số 90/2013/NĐ-CP", "90/2013/NĐ-CP"),
    ("Số 125/BC-SYT", "125/BC-SYT"),
    ("Thông tư 01/2026/TT-BNV hướng dẫn", "01/2026/TT-BNV"),
    ("Quyết định số 1393/QĐ-TTg của Thủ tướng", "1393/QĐ-TTg"),
    ("Pháp lệnh số 34/2007/PL-UBTVQH11", "34/2007/PL-UBTVQH11"),
    ("Luật số 25/2018/QH14", "25/2018/QH14"),
    ("Nghị quyết 15-NQ/TW", "15-NQ/TW"),
    ("Công văn số 123/UBND-VX về việc", "123/UBND-VX"),
    ("Tờ trình 45/TTr-SNV", "45/TTr-SNV"),
    ("Chương trình 07/CTr-UBND", "07/CTr-UBND"),
    ("Quyết định 2355/QĐ-UBND", "2355/QĐ-UBND"),
    ("Nghị quyết số 01/2016/NQ-HĐND", "01/2016/NQ-HĐND"),
    ("Số: 16/BC-UBND-VX", "16/BC-UBND-VX"),
    ("(theo 45/BC-SNV)", "45/BC-SNV"),
    ("văn bản 12 / BC-SYT", "12/BC-SYT"),
    ("no diacritics: 90/2013/ND-CP", "90/2013/ND-CP"),
])
def test_finds_the_number_inside_a_sentence(text: str, expected: str) -> None:
    assert numbers(text) == [(expected, None)]


@pytest.mark.parametrize(("text", "expected"), [
    ("so 12/bc-syt", "12/BC-SYT"),
    ("nghi dinh 90/2013/nđ-cp", "90/2013/NĐ-CP"),
    ("quyet dinh 1393/qđ-ttg", "1393/QĐ-TTg"),
    ("chi thi 03-ct/tu", "03-CT/TU"),
])
def test_lower_case_typing_is_filed_upper_case(text: str, expected: str) -> None:
    assert numbers(text) == [(expected, None)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Số 125/BC-SYT ngày 20/12/2026", date(2026, 12, 20)),
    ("Báo cáo 12/BC-SYT ngày 20 tháng 12 năm 2026 của Sở Y tế", date(2026, 12, 20)),
    ("Nghị định số 90/2013/NĐ-CP ngày 08/8/2013 của Chính phủ", date(2013, 8, 8)),
    ("916/KH-UBND, ngày 25/02/2016", date(2016, 2, 25)),
    ("12/BC-SYT 20/12/2026", date(2026, 12, 20)),
    ("12/BC-SYT (20.12.2026)", date(2026, 12, 20)),
    ("12/BC-SYT ngay 20-12-2026", date(2026, 12, 20)),
    ("No. 12/BC-SYT dated 20/12/2026", date(2026, 12, 20)),
    ("12/BC-SYT of 2026-12-20", date(2026, 12, 20)),
])
def test_a_date_after_the_number_is_its_date(text: str, expected: date) -> None:
    found = find_document_numbers(text)
    assert [(d.number, d.date) for d in found] == [(found[0].number, expected)]
    assert "ngày" not in found[0].number and "2026" not in found[0].number.split("/")[0]


def test_the_issue_example_is_never_glued() -> None:
    text = "Số 125/BC-SYT ngày 20/12/2026"
    found = first_document_number(text)
    assert found is not None
    assert (found.number, found.date) == ("125/BC-SYT", date(2026, 12, 20))
    assert text[found.start:found.end] == "125/BC-SYT"
    assert text[found.start:found.end_with_date] == "125/BC-SYT ngày 20/12/2026"


def test_the_glued_form_stored_before_is_taken_apart() -> None:
    assert numbers("125/BC-SYTngày20/12/2026") == [("125/BC-SYT", date(2026, 12, 20))]


def test_several_numbers_each_with_its_own_date() -> None:
    text = ("Căn cứ Kế hoạch 916/KH-UBND ngày 25/02/2016 và Chỉ thị 03-CT/TU, Sở báo cáo tại "
            "văn bản 12/BC-SYT ngày 20/12/2026.")
    assert numbers(text) == [("916/KH-UBND", date(2016, 2, 25)), ("03-CT/TU", None),
                             ("12/BC-SYT", date(2026, 12, 20))]


def test_the_evidence_sentence_of_the_issue() -> None:
    assert numbers("Đã hoàn thành, minh chứng: Báo cáo số 12/BC-SYT") == [("12/BC-SYT", None)]


@pytest.mark.parametrize("text", [
    "Đã hoàn thành 3 nhiệm vụ",
    "60%",
    "đạt 60% kế hoạch",
    "20/12/2026",
    "ngày 20 tháng 12 năm 2026",
    "3/4 xã đã niêm yết",
    "trực 24/7",
    "2 lần/năm",
    "50/Năm",
    "3/Tháng",
    "Quý 4/2026",
    "Q4/2026",
    "tỷ lệ 90/100",
    "số 12",
    "mục 3.1b",
    "1.000 người",
    "COVID-19",
    "1/2 số hộ",
    "12/2026/tháng",
    "3/tháng",
    "12/BC",  # a type with no issuer: not the pattern
    "5/ab-cd",  # lower case, not a document type
    "",
])
def test_not_document_numbers(text: str) -> None:
    assert numbers(text) == []


def test_a_date_without_a_year_is_no_date_and_not_glued() -> None:
    assert numbers("12/BC-SYT ngày 20/12") == [("12/BC-SYT", None)]


def test_an_impossible_date_is_no_date() -> None:
    assert numbers("12/BC-SYT ngày 31/02/2026") == [("12/BC-SYT", None)]
    assert find_dates("ngày 31/02/2026") == []


def test_spans_point_into_the_text() -> None:
    text = "Sở đã gửi 12/BC-SYT và 13/BC-SYT."
    assert [text[d.start:d.end] for d in find_document_numbers(text)] == ["12/BC-SYT", "13/BC-SYT"]


def test_find_dates() -> None:
    text = "từ 01/10/2026 đến ngày 31 tháng 12 năm 2026, hạn 2027-01-15"
    found = find_dates(text)
    assert [d.value for d in found] == [date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 15)]
    assert text[found[1].start:found[1].end] == "31 tháng 12 năm 2026"


def test_longer_than_the_column_is_not_taken() -> None:
    assert numbers("12/BC-" + "-".join(["SYT"] * 20)) == []
