"""Reports in the officer's own words: code, state, percent, reason/note, documents, and what is
asked instead of guessed."""

from __future__ import annotations

from datetime import date

import pytest

from domain.report_text import (
    BLOCKED,
    DONE,
    IN_PROGRESS,
    STATES,
    AmbiguityKind,
    ParsedReport,
    parse_report,
    typed_as,
)

# The codes a commune focal point owes in Plan 916 (a realistic subset, with lettered rows).
CODES = ["1.1", "1.3", "2.1", "2.2a", "2.2b", "3.1a", "3.1b", "3.2", "4.2a", "4.2b", "5.1", "5.2a",
         "6.1a", "6.1b"]


def read(text: str, codes: list[str] | None = None, **kwargs: str) -> ParsedReport:
    return parse_report(text, CODES if codes is None else codes, **kwargs)


def kinds(parsed: ParsedReport) -> list[AmbiguityKind]:
    return [a.kind for a in parsed.ambiguities]


def summary(parsed: ParsedReport) -> tuple[str | None, str | None, int | None, str, str]:
    return parsed.code, parsed.state, parsed.percent, parsed.reason, parsed.note


# --------------------------------------------------------------------------- the examples

@pytest.mark.parametrize(("text", "expected"), [
    ("3.1b xong", ("3.1b", DONE, None, "", "")),
    ("4.2a đã xong rồi", ("4.2a", DONE, None, "", "")),
    ("4.2a đang làm 60%", ("4.2a", IN_PROGRESS, 60, "", "")),
    ("5.1 vướng: chưa có kinh phí", ("5.1", BLOCKED, None, "chưa có kinh phí", "")),
    ("3.1b done", ("3.1b", DONE, None, "", "")),
    ("4.2a in progress 60%", ("4.2a", IN_PROGRESS, 60, "", "")),
    ("5.1 blocked: no budget", ("5.1", BLOCKED, None, "no budget", "")),
    ("4.2a da xong", ("4.2a", DONE, None, "", "")),
    ("4.2a dang lam 60%", ("4.2a", IN_PROGRESS, 60, "", "")),
    ("5.1 vuong", ("5.1", BLOCKED, None, "", "")),
    ("5.1 vuong: chua co kinh phi", ("5.1", BLOCKED, None, "chua co kinh phi", "")),
])
def test_the_officers_words(text: str, expected: tuple[object, ...]) -> None:
    parsed = read(text)
    assert summary(parsed) == expected
    assert parsed.clear


def test_done_with_evidence_sentence() -> None:
    parsed = read("6.1b hoàn thành, minh chứng: Báo cáo số 12/BC-SYT ngày 20/12/2026")
    assert (parsed.code, parsed.state, parsed.percent) == ("6.1b", DONE, None)
    assert parsed.clear
    assert [(d.number, d.date) for d in parsed.documents] == [("12/BC-SYT", date(2026, 12, 20))]
    assert parsed.document_number == "12/BC-SYT"
    assert parsed.note == "minh chứng: Báo cáo số 12/BC-SYT ngày 20/12/2026"


# --------------------------------------------------------------------------- more ways to say it

@pytest.mark.parametrize(("text", "state"), [
    ("3.1b hoàn thành", DONE), ("3.1b Hoàn thành.", DONE), ("3.1b ĐÃ HOÀN THÀNH", DONE),
    ("3.1b đã hoàn thành xong", DONE), ("3.1b hoàn tất", DONE), ("3.1b xong roi", DONE),
    ("3.1b da hoan thanh", DONE), ("3.1b completed", DONE), ("3.1b finished", DONE),
    ("3.1b đã thực hiện xong", DONE), ("3.1b hoàn thành 100%", DONE), ("3.1b 100%", DONE),
    ("3.1b đang thực hiện", IN_PROGRESS), ("3.1b dang trien khai", IN_PROGRESS),
    ("3.1b ongoing", IN_PROGRESS), ("3.1b in-progress", IN_PROGRESS), ("3.1b underway", IN_PROGRESS),
    ("3.1b vướng mắc", BLOCKED), ("3.1b gặp vướng mắc", BLOCKED), ("3.1b gap kho khan", BLOCKED),
    ("3.1b stuck", BLOCKED), ("3.1b bị ách tắc", BLOCKED),
])
def test_states(text: str, state: str) -> None:
    parsed = read(text)
    assert (parsed.code, parsed.state, parsed.ambiguities) == ("3.1b", state, ())


@pytest.mark.parametrize(("text", "percent"), [
    ("4.2a đang làm được 60%", 60), ("4.2a đạt 60%", 60), ("4.2a đang làm 60", 60),
    ("4.2a đang thực hiện, khoảng 45 %", 45), ("4.2a 30 phần trăm", 30), ("4.2a 30 phan tram", 30),
    ("4.2a in progress, 75 percent", 75), ("4.2a 0%", 0), ("4.2a dang lam duoc 99", 99),
    ("4.2a: đang làm, đạt khoảng 70%", 70),
])
def test_percent(text: str, percent: int) -> None:
    parsed = read(text)
    assert (parsed.code, parsed.state, parsed.percent, parsed.ambiguities) == (
        "4.2a", IN_PROGRESS, percent, ())
    assert parsed.note == ""


def test_a_number_after_in_progress_that_counts_something_is_not_a_percent() -> None:
    parsed = read("4.2a đang làm 3 nhiệm vụ")
    assert (parsed.state, parsed.percent, parsed.note) == (IN_PROGRESS, None, "3 nhiệm vụ")


def test_code_cue_words_and_polite_particles_leave_no_note() -> None:
    assert summary(read("Dạ em báo cáo nhiệm vụ 3.1b đã hoàn thành ạ")) == ("3.1b", DONE, None, "", "")
    assert summary(read("Task 3.1b: done, thanks")) == ("3.1b", DONE, None, "", "")
    assert summary(read("Mục 6.1a xong rồi nhé")) == ("6.1a", DONE, None, "", "")


def test_the_note_keeps_the_officers_words() -> None:
    parsed = read("3.1b xong, đã niêm yết tại trụ sở UBND xã và hoàn thành báo cáo gửi huyện")
    assert parsed.state == DONE
    # Only the first "done" phrase is the state; the later one is part of the note.
    assert parsed.note == "đã niêm yết tại trụ sở UBND xã và hoàn thành báo cáo gửi huyện"


def test_input_is_normalised() -> None:
    decomposed = "4.2a  \u0111a\u0303   xong\n ro\u0302\u0300i"
    parsed = read(decomposed)
    assert summary(parsed) == ("4.2a", DONE, None, "", "")
    assert parsed.text == "4.2a đã xong rồi"


def test_codes_are_matched_whatever_their_case_and_spelling() -> None:
    assert read("3.1B xong").code == "3.1b"
    assert read("3.1.b xong").code == "3.1b"
    assert read("3.1-b xong").code == "3.1b"
    assert read("3.1b xong", codes=["3.1B"]).code == "3.1B"  # the caller's spelling comes back


def test_codes_of_any_shape_the_caller_has() -> None:
    assert read("II.3 xong", codes=["II.3", "II.4"]).code == "II.3"


def test_reply_to_one_task_implies_its_code() -> None:
    parsed = read("đã xong rồi", implied_code="4.2a")
    assert summary(parsed) == ("4.2a", DONE, None, "", "")
    assert parsed.clear
    # A code in the message wins over the implied one.
    assert read("3.1b xong", implied_code="4.2a").code == "3.1b"


# --------------------------------------------------------------------------- asked, never guessed

def test_no_code() -> None:
    parsed = read("xong rồi")
    assert parsed.code is None and parsed.state == DONE
    assert kinds(parsed) == [AmbiguityKind.NO_CODE]
    assert parsed.ambiguities[0].options == tuple(CODES)


def test_two_codes() -> None:
    parsed = read("3.1b và 4.2a xong")
    assert parsed.code is None and parsed.state == DONE
    found = parsed.ambiguity(AmbiguityKind.SEVERAL_CODES)
    assert found is not None and found.options == ("3.1b", "4.2a")
    assert parsed.note == ""


def test_same_code_twice_is_one_code() -> None:
    assert read("3.1b xong. Báo cáo 3.1b đã gửi").code == "3.1b"


def test_unknown_code_offers_the_rows_codes() -> None:
    parsed = read("3.1 xong")
    assert parsed.code is None and parsed.unknown_codes == ("3.1",)
    found = parsed.ambiguity(AmbiguityKind.UNKNOWN_CODE)
    assert found is not None and found.options == ("3.1a", "3.1b")
    parsed = read("3.1c xong")
    assert parsed.ambiguity(AmbiguityKind.UNKNOWN_CODE) is not None
    assert parsed.ambiguities[0].options == ("3.1a", "3.1b")


def test_code_the_member_does_not_owe() -> None:
    parsed = read("4.4d xong")
    assert parsed.code is None and parsed.unknown_codes == ("4.4d",)
    assert [(a.kind, a.options) for a in parsed.ambiguities] == [(AmbiguityKind.UNKNOWN_CODE, ())]


def test_known_and_unknown_code_together_is_asked() -> None:
    parsed = read("3.1b và 4.4d xong")
    assert parsed.code is None
    assert kinds(parsed) == [AmbiguityKind.SEVERAL_CODES]


@pytest.mark.parametrize("text", ["3.1b", "3.1b đã gửi báo cáo", "3.1b kết quả tốt", "3.1b vương",
                                  "3.1b chưa xong", "3.1b not done", "3.1b chưa thực hiện"])
def test_state_unclear(text: str) -> None:
    parsed = read(text)
    assert parsed.code == "3.1b" and parsed.state is None
    assert kinds(parsed) == [AmbiguityKind.STATE_UNCLEAR]


def test_negated_done_offers_the_other_states() -> None:
    found = read("3.1b chưa xong").ambiguity(AmbiguityKind.STATE_UNCLEAR)
    assert found is not None and found.options == (IN_PROGRESS, BLOCKED)
    found = read("3.1b").ambiguity(AmbiguityKind.STATE_UNCLEAR)
    assert found is not None and found.options == STATES


def test_two_states_is_asked() -> None:
    parsed = read("5.1 đang làm nhưng vướng kinh phí")
    assert parsed.state is None
    found = parsed.ambiguity(AmbiguityKind.STATE_UNCLEAR)
    assert found is not None and found.options == (IN_PROGRESS, BLOCKED)


def test_a_negated_state_next_to_a_clear_one() -> None:
    parsed = read("4.2a xong, không vướng gì")
    assert (parsed.state, parsed.ambiguities, parsed.note) == (DONE, (), "không vướng gì")


def test_done_sixty_percent() -> None:
    parsed = read("4.2a done 60%")
    assert (parsed.state, parsed.percent) == (None, 60)
    found = parsed.ambiguity(AmbiguityKind.PERCENT_CONFLICT)
    assert found is not None and found.options == (DONE, IN_PROGRESS)
    assert kinds(read("4.2a hoàn thành 60%")) == [AmbiguityKind.PERCENT_CONFLICT]
    assert kinds(read("4.2a đang làm 100%")) == [AmbiguityKind.PERCENT_CONFLICT]


@pytest.mark.parametrize("text", ["4.2a đang làm 150%", "4.2a đang làm 62,5%", "4.2a in progress 101%"])
def test_percent_out_of_range(text: str) -> None:
    parsed = read(text)
    assert (parsed.state, parsed.percent) == (IN_PROGRESS, None)
    assert kinds(parsed) == [AmbiguityKind.PERCENT_OUT_OF_RANGE]


def test_two_percents() -> None:
    parsed = read("4.2a đang làm 60%, dự kiến 80% vào tháng sau")
    assert parsed.percent is None
    found = parsed.ambiguity(AmbiguityKind.SEVERAL_PERCENTS)
    assert found is not None and found.options == ("60", "80")


# --------------------------------------------------------------------------- a code or a number?

@pytest.mark.parametrize("text", [
    "3.1b xong, đã chi 1.5 tỷ đồng",
    "3.1b xong lúc 8.30",
    "3.1b xong, 12.5 km đường",
    "3.1b xong ngày 20.12.2026",
    "3.1b xong, văn bản 12/BC-SYT",
    "3.1b xong, theo Nghị định 90/2013/NĐ-CP",
])
def test_numbers_are_not_codes(text: str) -> None:
    parsed = read(text)
    assert (parsed.code, parsed.state, parsed.ambiguities) == ("3.1b", DONE, ())


def test_a_sentence_with_a_count_has_no_code() -> None:
    parsed = read("Đã hoàn thành 3 nhiệm vụ")
    assert parsed.code is None and parsed.state == DONE
    assert kinds(parsed) == [AmbiguityKind.NO_CODE]
    assert parsed.documents == ()


def test_the_code_list_tells_a_code_from_a_number() -> None:
    # Without the caller's codes "5.1" is a code-shaped word the member cannot report on.
    assert read("5.1 xong", codes=[]).unknown_codes == ("5.1",)
    assert read("5.1 xong", codes=["5.1"]).code == "5.1"


# --------------------------------------------------------------------------- typed_as

@pytest.mark.parametrize(("typed", "proper", "expected"), [
    ("da xong", "đã xong", True), ("đã xong", "đã xong", True), ("DA XONG", "đã xong", True),
    ("vuớng", "vướng", True), ("vướng", "vướng", True), ("vuong", "vướng", True),
    ("vương", "vướng", False), ("vuông", "vướng", False), ("kết", "kẹt", False),
    ("đa xong", "đã xong", False), ("in-progress", "in progress", True), ("xong", "đã xong", False),
])
def test_typed_as(typed: str, proper: str, expected: bool) -> None:
    assert typed_as(typed, proper) is expected
