"""Vietnamese letters: alphabetical order and the marks on them.

Vietnamese writes two kinds of marks on Latin letters. Some make another letter of the
alphabet (ă â đ ê ô ơ ư: the alphabet is a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y);
the others are the five tones on a syllable's vowel (huyền ` hỏi ̉ ngã ~ sắc ´ nặng .; no mark is
ngang). Code-point order gets both wrong ("Vân Đồn" before "Đầm Hà" because Đ is U+0110;
"Hoành Bồ" before "Hải Hà" because ả is U+1EA3), so names shown to people are sorted with
:func:`vi_key`: letters first (the whole name), then tones (ngang, huyền, hỏi, ngã, sắc, nặng),
case ignored, numbers by value ("Phường 2" before "Phường 10").

:func:`fold` removes every mark (đ -> d too) and case: the form keyword matching uses, so
"da xong" typed without diacritics matches "đã xong".
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import TypeAlias

# The alphabet, with f j w z (foreign names) where the Latin alphabet puts them.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_WEIGHT = {letter: i for i, letter in enumerate(_ALPHABET, start=1)}
_OTHER_LETTERS = 1000  # letters of other scripts sort after z, by code point

# Combining marks that make another letter of the alphabet, and the tones (in collation order).
_BREVE, _CIRCUMFLEX, _HORN = "\u0306", "\u0302", "\u031b"
_QUALITY = {("a", _BREVE): "ă", ("a", _CIRCUMFLEX): "â", ("e", _CIRCUMFLEX): "ê",
            ("o", _CIRCUMFLEX): "ô", ("o", _HORN): "ơ", ("u", _HORN): "ư"}
NGANG, HUYEN, HOI, NGA, SAC, NANG = range(6)
_TONE_OF_MARK = {"\u0300": HUYEN, "\u0309": HOI, "\u0303": NGA, "\u0301": SAC, "\u0323": NANG}

Weight: TypeAlias = tuple[int, int]
Key: TypeAlias = tuple[tuple[Weight, ...], tuple[int, ...], str]

_SEPARATOR: Weight = (0, 0)
_DIGITS, _LETTERS = 1, 2


def split_letter(char: str) -> tuple[str, int]:
    """One character -> (its letter of the alphabet, lower case; its tone).

    ``"Ậ"`` -> ``("â", NANG)``; ``"đ"`` -> ``("đ", NGANG)``; ``"é"`` -> ``("e", SAC)``. Marks that are
    neither Vietnamese letters nor tones (ö, ç) are dropped from the letter.
    """
    decomposed = unicodedata.normalize("NFD", char.lower())
    base, marks = decomposed[:1], decomposed[1:]
    tone = NGANG
    for mark in marks:
        if mark in _TONE_OF_MARK:
            tone = _TONE_OF_MARK[mark]
        else:
            base = _QUALITY.get((base, mark), base)
    return base, tone


def base_letter(letter: str) -> str:
    """The letter without what makes it another letter: ``ă â`` -> ``a``, ``đ`` -> ``d``."""
    return "d" if letter == "đ" else unicodedata.normalize("NFD", letter)[:1]


def fold(text: str) -> str:
    """Lower case without any mark: ``"Đã XONG rồi"`` -> ``"da xong roi"``.

    One character in gives one character out, so a position in the folded text is the same
    position in ``text`` (a keyword found in one is cut from the other)."""
    out = []
    for char in text:
        if char.isalpha():
            out.append(base_letter(split_letter(char)[0]))
        elif unicodedata.combining(char):
            out.append(" ")  # a stray mark that NFC could not compose: keep the length
        else:
            out.append(char)
    return "".join(out)


def remove_diacritics(text: str) -> str:
    """``"Đầm Hà"`` -> ``"Dam Ha"``: every Vietnamese mark removed, case kept."""
    return "".join(_strip(char) for char in unicodedata.normalize("NFC", text))


def _strip(char: str) -> str:
    if char in "đĐ":
        return "d" if char == "đ" else "D"
    if unicodedata.combining(char):
        return ""
    return unicodedata.normalize("NFD", char)[:1] or char


def syllable(word: str) -> tuple[str, int]:
    """A written syllable -> (its letters without tone, its tone): ``"Hoà"`` and ``"hòa"`` ->
    ``("hoa", HUYEN)`` (the tone belongs to the syllable, wherever it is placed)."""
    letters, tone = [], NGANG
    for char in unicodedata.normalize("NFC", word):
        letter, mark = split_letter(char)
        letters.append(letter)
        tone = mark if mark != NGANG else tone
    return "".join(letters), tone


@lru_cache(maxsize=4096)
def _char_weight(char: str) -> tuple[int, Weight, int]:
    """What one character of an NFC text adds to its key: (kind, primary weight, tone), kind
    _DIGIT_CHAR, _LETTER_CHAR, _MARK_CHAR (a combining mark: nothing) or _OTHER_CHAR (a
    separator). Cached: a name has a few dozen characters out of a small alphabet, so the
    ranking's thousands of names cost lookups, not Unicode decompositions."""
    if char.isdigit() and char.isascii():
        return _DIGIT_CHAR, _SEPARATOR, NGANG
    if char.isalpha():
        letter, tone = split_letter(char)
        return _LETTER_CHAR, (_LETTERS, _LETTER_WEIGHT.get(letter, _OTHER_LETTERS + ord(letter))), tone
    if unicodedata.combining(char):
        return _MARK_CHAR, _SEPARATOR, NGANG
    return _OTHER_CHAR, _SEPARATOR, NGANG


_DIGIT_CHAR, _LETTER_CHAR, _MARK_CHAR, _OTHER_CHAR = range(4)


def vi_key(text: str) -> Key:
    """Sort key for Vietnamese alphabetical order: ``sorted(names, key=vi_key)``.

    Primary: letters of the alphabet (a < ă < â < b … d < đ < e …), digit runs by value, any run
    of spaces and punctuation as one separator that sorts before everything. Secondary: the
    tone of each syllable. Last: the text itself, so equal keys only for equal texts."""
    primary: list[Weight] = []
    tones: list[int] = []
    word_tone: int | None = None
    digits = ""
    for char in unicodedata.normalize("NFC", text):
        kind, weight, tone = _char_weight(char)
        if kind == _DIGIT_CHAR:
            digits += char
            continue
        if digits:
            primary.append((_DIGITS, int(digits)))
            digits = ""
        if kind == _LETTER_CHAR:
            primary.append(weight)
            word_tone = tone if tone != NGANG or word_tone is None else word_tone
        elif kind == _OTHER_CHAR:
            if word_tone is not None:
                tones.append(word_tone)
                word_tone = None
            if primary and primary[-1] != _SEPARATOR:
                primary.append(_SEPARATOR)
    if digits:
        primary.append((_DIGITS, int(digits)))
    if word_tone is not None:
        tones.append(word_tone)
    while primary and primary[-1] == _SEPARATOR:
        primary.pop()
    return tuple(primary), tuple(tones), text


def vi_sort_text(text: str) -> str:
    """:func:`vi_key` as one string with the same order: ``a < b`` exactly when
    ``vi_key(a) < vi_key(b)``. Strings compare in C, a key's nested tuples weight by weight,
    which made sorting thousands of agencies with shared name prefixes slow.

    Each weight is its kind (as 1-3) and its value in base 0x10000 after a digit count, so
    longer numbers are larger; each part ends with U+0000, below every weight, so a shorter
    part that is a prefix of a longer one sorts first, as tuples do."""
    primary, tones, original = vi_key(text)
    out: list[str] = []
    for kind, value in primary:
        digits: list[str] = []
        while True:
            value, digit = divmod(value, 0x10000)
            digits.append(chr(digit))
            if not value:
                break
        out.append(chr(kind + 1) + chr(len(digits)) + "".join(reversed(digits)))
    out.append("\0")
    out.extend(chr(tone + 1) for tone in tones)
    out.append("\0")
    out.append(original)
    return "".join(out)


# Agencies' names as sort texts, kept between calls: /status, the ranking, the drill-downs and the
# digests sort the same few thousand names again and again (ten thousand for a country), and
# names seldom change; computing the keys was most of a country ranking's time. Bounded (a
# text is a few dozen characters).
name_sort_text = lru_cache(maxsize=1 << 15)(vi_sort_text)
