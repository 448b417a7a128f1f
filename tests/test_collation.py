"""Vietnamese alphabetical order (vi_key) and the marks on letters (fold, remove_diacritics)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from domain.collation import (
    HOI,
    HUYEN,
    NANG,
    NGA,
    NGANG,
    SAC,
    fold,
    remove_diacritics,
    split_letter,
    syllable,
    vi_key,
    vi_sort_text,
)

DISTRICTS_CSV = Path(__file__).resolve().parent.parent / "models" / "data" / "quang_ninh_districts_2016.csv"


def vi_sorted(names: list[str]) -> list[str]:
    shuffled = list(names)
    random.Random(916).shuffle(shuffled)
    return sorted(shuffled, key=vi_key)


def test_the_alphabet_in_order() -> None:
    alphabet = list("aăâbcdđeêghiklmnoôơpqrstuưvxy")
    assert vi_sorted(alphabet) == alphabet
    assert vi_sorted([c.upper() for c in alphabet]) == [c.upper() for c in alphabet]


def test_tones_after_letters_in_dictionary_order() -> None:
    # ngang, huyền, hỏi, ngã, sắc, nặng
    assert vi_sorted(["mạ", "má", "mã", "mả", "mà", "ma"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]


def test_letters_decide_before_tones() -> None:
    # "mạ" has the heaviest tone but its letters come first.
    assert vi_sorted(["mác", "mạ"]) == ["mạ", "mác"]
    assert vi_sorted(["Hàm Yên", "Hà Nội", "Hà Nam"]) == ["Hà Nam", "Hà Nội", "Hàm Yên"]


def test_the_issue_complaints() -> None:
    # Code-point order put "Hoành Bồ" before "Hải Hà" and "Vân Đồn" before "Đầm Hà".
    assert sorted(["Hoành Bồ", "Hải Hà"]) == ["Hoành Bồ", "Hải Hà"]
    assert vi_sorted(["Hoành Bồ", "Hải Hà"]) == ["Hải Hà", "Hoành Bồ"]
    assert sorted(["Vân Đồn", "Đầm Hà"]) == ["Vân Đồn", "Đầm Hà"]
    assert vi_sorted(["Vân Đồn", "Đầm Hà"]) == ["Đầm Hà", "Vân Đồn"]


def test_d_before_dd_before_e() -> None:
    assert vi_sorted(["Đông Triều", "Eo Gió", "Dương Huy", "Đầm Hà"]) == [
        "Dương Huy", "Đầm Hà", "Đông Triều", "Eo Gió"]


def test_the_fourteen_districts_of_quang_ninh_as_a_reader_expects() -> None:
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    assert len(names) == 14
    assert vi_sorted(names) == [
        "UBND huyện Ba Chẽ", "UBND huyện Bình Liêu", "UBND huyện Cô Tô", "UBND huyện Đầm Hà",
        "UBND huyện Hải Hà", "UBND huyện Hoành Bồ", "UBND huyện Tiên Yên", "UBND huyện Vân Đồn",
        "UBND thành phố Cẩm Phả", "UBND thành phố Hạ Long", "UBND thành phố Móng Cái",
        "UBND thành phố Uông Bí", "UBND thị xã Đông Triều", "UBND thị xã Quảng Yên",
    ]


def test_bare_district_names() -> None:
    names = ["Hạ Long", "Móng Cái", "Cẩm Phả", "Uông Bí", "Quảng Yên", "Đông Triều", "Vân Đồn",
             "Tiên Yên", "Hải Hà", "Đầm Hà", "Bình Liêu", "Ba Chẽ", "Cô Tô", "Hoành Bồ"]
    assert vi_sorted(names) == ["Ba Chẽ", "Bình Liêu", "Cẩm Phả", "Cô Tô", "Đầm Hà", "Đông Triều",
                                "Hạ Long", "Hải Hà", "Hoành Bồ", "Móng Cái", "Quảng Yên", "Tiên Yên",
                                "Uông Bí", "Vân Đồn"]


def test_case_is_ignored() -> None:
    assert vi_sorted(["bình liêu", "Ba Chẽ", "BẢO LỘC"]) == ["Ba Chẽ", "BẢO LỘC", "bình liêu"]
    assert vi_key("Hạ Long")[:2] == vi_key("HẠ LONG")[:2] == vi_key("hạ long")[:2]


def test_tone_placement_does_not_matter() -> None:
    # Old ("hoà") and new ("hòa") placement of the tone are the same syllable.
    assert vi_key("Thanh Hoà")[:2] == vi_key("Thanh Hòa")[:2]
    assert vi_sorted(["Thanh Hóa", "Thanh Hoà", "Thanh Hoa"]) == ["Thanh Hoa", "Thanh Hoà", "Thanh Hóa"]


def test_decomposed_input_sorts_like_composed() -> None:
    composed, decomposed = "Đầm Hà", "Đa\u0302\u0300m Ha\u0300"
    assert vi_key(composed)[:2] == vi_key(decomposed)[:2]


def test_numbers_by_value_and_separators_first() -> None:
    assert vi_sorted(["Phường 10", "Phường 2", "Phường 1"]) == ["Phường 1", "Phường 2", "Phường 10"]
    assert vi_sorted(["Hàm", "Hà Nội", "Hà-Nam"]) == ["Hà-Nam", "Hà Nội", "Hàm"]
    assert vi_key("  Hạ   Long ")[:2] == vi_key("Hạ Long")[:2]


def test_equal_keys_only_for_equal_texts() -> None:
    assert vi_key("Hạ Long") != vi_key("HẠ LONG")
    assert vi_sorted(["b", "B", "a"]) == ["a", "B", "b"]


def test_split_letter() -> None:
    assert split_letter("Ậ") == ("â", NANG)
    assert split_letter("đ") == ("đ", NGANG)
    assert split_letter("ừ") == ("ư", HUYEN)
    assert split_letter("ở") == ("ơ", HOI)
    assert split_letter("ễ") == ("ê", NGA)
    assert split_letter("é") == ("e", SAC)
    assert syllable("Nguyễn") == ("nguyên", NGA)


def test_fold_removes_marks_and_keeps_positions() -> None:
    text = "Đã XONG rồi, Ủy ban ư ơ ă"
    assert fold(text) == "da xong roi, uy ban u o a"
    assert len(fold(text)) == len(text)
    assert fold("ĐẦM HÀ") == "dam ha"


def test_remove_diacritics_keeps_case() -> None:
    assert remove_diacritics("Đầm Hà") == "Dam Ha"
    assert remove_diacritics("ỦY BAN NHÂN DÂN tỉnh Quảng Ninh") == "UY BAN NHAN DAN tinh Quang Ninh"
    assert remove_diacritics("đường") == "duong"



def test_vi_sort_text_orders_exactly_like_vi_key() -> None:
    """The ranking sorts by vi_sort_text: every pair compares as with vi_key (letters, tones,
    numbers of any size, separators, other scripts, equal and prefix names)."""
    rng = random.Random(13)
    alphabet = "aăâbcdđeêghiklmnoôơpqrstuưvxyÀẢÃẠàáảãạĐđ0123456789  -,.()\u0300\u0301\u0323ẾệữöЖ中\t²"
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        names = [cell for row in csv.reader(handle) for cell in row]
    names += ["", "Phường 2", "Phường 10", "Phường 010", "x" + "9" * 30, "x" + "9" * 30 + "a", "Sở",
              "Sở Y tế"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(3000)]
    names += [rng.choice(names[:50]) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3)))
              for _ in range(3000)]
    for _ in range(50000):
        a, b = rng.choice(names), rng.choice(names)
        assert (vi_key(a) < vi_key(b)) == (vi_sort_text(a) < vi_sort_text(b)), (a, b)
        assert (vi_key(a) == vi_key(b)) == (vi_sort_text(a) == vi_sort_text(b)), (a, b)
    assert vi_sorted(names) == sorted(names, key=vi_sort_text)
