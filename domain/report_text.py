"""Reports in the officer's own words: "3.1b xong", "4.2a đang làm 60%", "5.1 vướng: chưa có kinh
phí", "6.1b done, evidence 12/BC-SYT", the same without diacritics ("da xong", "dang lam 60%").

:func:`parse_report` turns one message into a plain :class:`ParsedReport`: the task code, the
state (done / in progress / blocked), the percent, the reason (blocked) or note (otherwise), the
document numbers cited (each with its date), and the :class:`Ambiguity` items the caller must ask
about with buttons. Nothing is guessed: a message with two codes, an unknown code, no clear state,
an impossible percent or "done 60%" comes back with the doubtful field empty and the choices to
offer.

How a message is read:

- Normalised first: NFC, one space between words. Keywords are matched on the folded text (lower
  case, no marks), and a word typed with marks must carry the keyword's marks (a subset of them):
  "da xong" and "đã xong" are "done", but "vương" is not "vướng" and "kết quả" is not a keyword.
- Codes: the caller's codes (the tasks the member may report on) wherever they stand as a word;
  any other ``<axis>.<row>[letter]`` shape ("3.1", "7.2b") is a code the member cannot report on,
  unless a unit follows it ("1.5 tỷ", "8.30 giờ"). Codes inside document numbers and dates are not
  codes ("ngày 20.12.2026").
- States: done (xong, hoàn thành, hoàn tất, done, completed, finished), in progress (đang làm,
  đang thực hiện, đang triển khai, in progress, ongoing, underway), blocked (vướng, vướng mắc,
  gặp khó khăn, ách tắc, blocked, stuck). A negated one ("chưa xong", "không vướng", "not done")
  states nothing; "chưa thực hiện" / "not started" has no report state. Two different states are
  unclear.
- Percent: "60%", "60 phần trăm", "60 percent", or a number right after an in-progress phrase
  ("đang làm 60"). A percent alone implies the state: 0-99 in progress, 100 done. A report's
  percent is a whole number: 0-99 in progress; "150%" or "62,5%" is out of range.
- The rest of the message (without code, state and percent words, and polite particles at its
  ends such as "rồi", "ạ", "dạ") is the reason of a blocked report and the note of any other.
  Document numbers stay in it: they are the officer's words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.collation import base_letter, fold, syllable
from domain.docnumber import DocumentNumber, find_dates, find_document_numbers

DONE, IN_PROGRESS, BLOCKED = "done", "in_progress", "blocked"
STATES = (DONE, IN_PROGRESS, BLOCKED)
MAX_IN_PROGRESS = 99


class AmbiguityKind(StrEnum):
    NO_CODE = "no_code"
    SEVERAL_CODES = "several_codes"  # options: the codes named
    UNKNOWN_CODE = "unknown_code"  # options: the caller's codes it could mean ("3.1" -> 3.1a, 3.1b)
    STATE_UNCLEAR = "state_unclear"  # options: the states it could be
    PERCENT_OUT_OF_RANGE = "percent_out_of_range"  # options: none (ask for a whole number 0-99)
    SEVERAL_PERCENTS = "several_percents"  # options: the percents named
    PERCENT_CONFLICT = "percent_conflict"  # "done 60%", "in progress 100%"; options: done, in_progress


@dataclass(frozen=True)
class Ambiguity:
    kind: AmbiguityKind
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedReport:
    """What one message says. A field in doubt is empty (None) and named in ``ambiguities``."""

    text: str  # the normalised message; spans of ``documents`` refer to it
    code: str | None
    state: str | None
    percent: int | None
    reason: str
    note: str
    documents: tuple[DocumentNumber, ...]
    ambiguities: tuple[Ambiguity, ...]
    unknown_codes: tuple[str, ...] = ()  # code-shaped words that are not the caller's codes

    @property
    def clear(self) -> bool:
        return not self.ambiguities

    @property
    def document_number(self) -> str:
        """The first document number cited ("" if none)."""
        return self.documents[0].number if self.documents else ""

    def ambiguity(self, kind: AmbiguityKind) -> Ambiguity | None:
        return next((a for a in self.ambiguities if a.kind == kind), None)


# --------------------------------------------------------------------------- vocabulary

_DONE_WORDS = ("đã hoàn thành xong", "đã hoàn thành", "hoàn thành xong", "hoàn thành", "đã hoàn tất",
               "hoàn tất", "đã thực hiện xong", "thực hiện xong", "đã làm xong", "làm xong", "đã xong",
               "xong", "done", "completed", "complete", "finished", "accomplished")
_PROGRESS_WORDS = ("vẫn đang thực hiện", "đang thực hiện", "đang triển khai", "đang tiến hành",
                   "vẫn đang làm", "đang làm", "đang xử lý", "in progress", "ongoing", "on going",
                   "underway", "under way", "working on it", "working on")
_BLOCKED_WORDS = ("đang gặp vướng mắc", "gặp vướng mắc", "bị vướng mắc", "đang vướng mắc", "vướng mắc",
                  "bị vướng", "đang vướng", "vướng", "đang gặp khó khăn", "gặp khó khăn", "khó khăn",
                  "bị ách tắc", "ách tắc", "blocked", "stuck")
# Said, but no report state: the caller asks.
_NOT_STARTED_WORDS = ("chưa thực hiện", "chưa triển khai", "chưa làm", "chưa bắt đầu", "not started",
                      "not yet started", "incomplete", "unfinished")
_NEGATIONS = ("chưa được", "chưa bị", "chưa", "không bị", "không", "ko", "not yet", "not", "never",
              "isn't", "hasn't been", "hasn't", "haven't", "wasn't")
_PERCENT_LEADS = ("được", "đạt", "khoảng", "tầm", "about", "around", "at")
_LEADING_FILLERS = ("em xin báo cáo", "xin báo cáo", "em báo cáo", "báo cáo:", "dạ", "vâng", "kính gửi",
                    "và", "and")
_TRAILING_FILLERS = ("rồi ạ", "rồi nhé", "rồi nha", "rồi", "ạ", "nhé", "nha", "nhe", "ok", "okay",
                     "thanks", "cảm ơn", "xin cảm ơn")
_CODE_CUES = ("nhiệm vụ", "nv", "mục", "mã", "task", "item", "code")
_UNITS = r"(?:%|ty|trieu|nghin|ngan|dong|km|ha|tan|nguoi|ho|kg|m2|m|lan|h|gio|phut|am|pm|usd|vnd)"

_WORD_GAP = r"[\s\-]+"
_CODE_SHAPE = re.compile(r"(?<![\w.,/])(\d{1,2})\.(\d{1,2})(?:[.\-]?([a-z]))?(?![\w/%]|[.,]\d)")
_UNIT_AFTER = re.compile(rf"\s?{_UNITS}(?![^\W_])")
_TIME_BEFORE = re.compile(r"(?:^|\s)(?:luc|at)\s$")
_PERCENT = re.compile(r"(?<![\w.,/])(\d{1,3}(?:[.,]\d{1,3})?)\s?(?:%|(?:phan tram|percent|pct)(?![^\W_]))")
_NUMBER_LEAD = re.compile(r"\s*(?:duoc|dat|khoang|tam|about|around|at)(?![^\W_])")
_BARE_NUMBER = re.compile(r"\s*[,:]?\s*(\d{1,3})(?![\d.,/%])(?!\s*[^\W\d_])")


def _body(words: str) -> str:
    """Regex for ``words`` in folded text: any marks, any case, spaces or hyphens between words."""
    return _WORD_GAP.join(re.escape(w) for w in fold(words).split())


def _pattern(words: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W_]){_body(words)}(?![^\W_])")


@dataclass(frozen=True)
class _Phrase:
    proper: str
    state: str | None
    pattern: re.Pattern[str]


def _phrases() -> list[_Phrase]:
    table: list[tuple[str, str | None]] = [(w, DONE) for w in _DONE_WORDS]
    table += [(w, IN_PROGRESS) for w in _PROGRESS_WORDS] + [(w, BLOCKED) for w in _BLOCKED_WORDS]
    table += [(w, None) for w in _NOT_STARTED_WORDS]
    table.sort(key=lambda entry: -len(entry[0]))  # longest first: "đã xong" before "xong"
    return [_Phrase(w, state, _pattern(w)) for w, state in table]


_PHRASES = _phrases()


def typed_as(typed: str, proper: str) -> bool:
    """Could someone who means ``proper`` have typed ``typed``? Word by word: a word typed without
    marks matches; one typed with marks must carry the proper word's tone and letters, some marks
    possibly left off ("vuớng" is "vướng"; "vương" and "kết" are other words)."""
    typed_words, proper_words = re.split(_WORD_GAP, typed.strip()), proper.split()
    if len(typed_words) != len(proper_words):
        return False
    for word, meant in zip(typed_words, proper_words, strict=True):
        if fold(word) == word.lower():
            continue
        letters, tone = syllable(word)
        meant_letters, meant_tone = syllable(meant)
        if tone != meant_tone or len(letters) != len(meant_letters):
            return False
        if any(a != b and a != base_letter(b) for a, b in zip(letters, meant_letters, strict=True)):
            return False
    return True


# --------------------------------------------------------------------------- reading


Span = tuple[int, int]


@dataclass
class _Reading:
    text: str
    folded: str
    masked: list[Span]
    removed: list[Span]

    def free(self, start: int, end: int) -> bool:
        return not any(start < b and a < end for a, b in self.masked + self.removed)

    def words_before(self, start: int, options: Sequence[str]) -> Span | None:
        """The span of one of ``options`` (as typed) ending right before ``start``."""
        for option in sorted(options, key=len, reverse=True):
            match = re.search(rf"(?<![^\W_]){_body(option)}\s*$", self.folded[:start])
            if match and typed_as(self.text[match.start():match.end()].strip(), option):
                return match.start(), start
        return None


def _normalise(message: str) -> str:
    return " ".join(unicodedata.normalize("NFC", message).split())


def _canonical(code: str) -> str:
    """``"3.1B"``, ``"3.1.b"``, ``"3.1-b"`` -> ``"3.1b"``."""
    return re.sub(r"(\d)[.\-]([a-z])$", r"\1\2", fold(code.strip()))


def same_code(typed: str, code: str) -> bool:
    """Whether ``typed`` (``"/report 3.1B"``) names the task ``code`` (``"3.1b"``)."""
    return _canonical(typed) == _canonical(code)


def parse_report(message: str, codes: Iterable[str], *, implied_code: str | None = None) -> ParsedReport:
    """Read one message. ``codes``: the task codes the member may report on (as the caller spells
    them). ``implied_code``: the task meant when the message names none (a reply to one task's
    reminder or form)."""
    text = _normalise(message)
    reading = _Reading(text, fold(text), [], [])
    documents = find_document_numbers(text)
    reading.masked += [(d.start, d.end_with_date) for d in documents]
    reading.masked += [(d.start, d.end) for d in find_dates(text)]
    known = {_canonical(c): c for c in codes}

    code, unknown, code_doubts = _read_code(reading, known, implied_code)
    found_states, said_negative, phrase_ends = _read_states(reading)
    percents, percent_doubts = _read_percents(reading, phrase_ends)
    state, percent, state_doubts = _decide(found_states, said_negative, percents)
    rest = _rest(reading)
    return ParsedReport(
        text=text, code=code, state=state, percent=percent,
        reason=rest if state == BLOCKED else "", note="" if state == BLOCKED else rest,
        documents=tuple(documents), ambiguities=tuple(code_doubts + percent_doubts + state_doubts),
        unknown_codes=tuple(unknown))


def _read_code(reading: _Reading, known: dict[str, str],
               implied: str | None) -> tuple[str | None, list[str], list[Ambiguity]]:
    named: list[str] = []  # canonical codes, in order
    unknown: list[str] = []
    spans: list[Span] = []

    def open_at(match: re.Match[str]) -> bool:
        start, end = match.span()
        return reading.free(start, end) and not any(start < b and a < end for a, b in spans)

    for canonical in sorted(known, key=len, reverse=True):  # the caller's codes, any shape
        for match in re.finditer(rf"(?<![\w.]){re.escape(canonical)}(?![^\W_]|[.,]\d)", reading.folded):
            if open_at(match):
                spans.append(match.span())
    for match in _CODE_SHAPE.finditer(reading.folded):
        if not open_at(match):
            continue
        canonical = _canonical(match.group())
        if canonical not in known and (_UNIT_AFTER.match(reading.folded, match.end())
                                       or _TIME_BEFORE.search(reading.folded[:match.start()])):
            continue  # "1.5 tỷ", "lúc 8.30": a number, not a code
        spans.append(match.span())
    for start, end in sorted(spans):
        canonical = _canonical(reading.folded[start:end])
        target = named if canonical in known else unknown
        if canonical not in target:
            target.append(canonical)
        cue = reading.words_before(start, _CODE_CUES)
        reading.removed.append((cue[0] if cue else start, end))
    return _code_decision(named, unknown, known, implied)


def _code_decision(named: list[str], unknown: list[str], known: dict[str, str],
                   implied: str | None) -> tuple[str | None, list[str], list[Ambiguity]]:
    if len(named) == 1 and not unknown:
        return known[named[0]], [], []
    if not named and not unknown:
        if implied is not None:
            return known.get(_canonical(implied), implied), [], []
        return None, [], [Ambiguity(AmbiguityKind.NO_CODE, tuple(known.values()))]
    if named:
        options = [known[c] for c in named] + [c for u in unknown for c in _could_mean(u, known)]
        return None, unknown, [Ambiguity(AmbiguityKind.SEVERAL_CODES, tuple(dict.fromkeys(options)))]
    options = [c for u in unknown for c in _could_mean(u, known)]
    return None, unknown, [Ambiguity(AmbiguityKind.UNKNOWN_CODE, tuple(dict.fromkeys(options)))]


def _could_mean(unknown: str, known: dict[str, str]) -> list[str]:
    """The caller's codes of the same row: "3.1" or "3.1c" -> 3.1a, 3.1b."""
    row = re.sub(r"[a-z]$", "", unknown)
    return [spelled for canonical, spelled in known.items()
            if canonical.startswith(row) and re.fullmatch(r"[a-z]?", canonical[len(row):])]


def _read_states(reading: _Reading) -> tuple[list[str], bool, list[int]]:
    """(positive states in the order said, whether a negated or state-less phrase was said, where
    in-progress phrases end). Only the first phrase of each state leaves the note: a later
    "hoàn thành" is part of what the officer wrote."""
    found: list[tuple[int, int, str | None]] = []
    for phrase in _PHRASES:  # longest first, so "đã xong" is taken before "xong"
        for match in phrase.pattern.finditer(reading.folded):
            start, end = match.span()
            if (any(start < b and a < end for a, b, _ in found) or not reading.free(start, end)
                    or not typed_as(reading.text[start:end], phrase.proper)):
                continue
            negated = phrase.state is None or reading.words_before(start, _NEGATIONS) is not None
            found.append((start, end, None if negated else phrase.state))
    states: list[str] = []
    progress_ends = []
    for start, end, state in sorted(found):
        if state is None or state in states:
            continue
        states.append(state)
        reading.removed.append((start, end))
        if state == IN_PROGRESS:
            progress_ends.append(end)
    negative = any(state is None for _, _, state in found)
    return states, negative, progress_ends


def _read_percents(reading: _Reading, progress_ends: list[int]) -> tuple[list[float], list[Ambiguity]]:
    values: list[float] = []
    for match in _PERCENT.finditer(reading.folded):
        if reading.free(*match.span()):
            values.append(float(match.group(1).replace(",", ".")))
            _remove_with_lead(reading, match.start(), match.end())
    for end in progress_ends:
        lead = _NUMBER_LEAD.match(reading.folded, end)
        number = _BARE_NUMBER.match(reading.folded, lead.end() if lead else end)
        if number and reading.free(*number.span(1)):
            values.append(float(number.group(1)))
            reading.removed.append((end, number.end()))
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        return [], [Ambiguity(AmbiguityKind.SEVERAL_PERCENTS, tuple(_shown(v) for v in distinct))]
    if distinct and (not distinct[0].is_integer() or not 0 <= distinct[0] <= 100):
        return [], [Ambiguity(AmbiguityKind.PERCENT_OUT_OF_RANGE)]
    return distinct, []


def _remove_with_lead(reading: _Reading, start: int, end: int) -> None:
    """Remove a percent with the words that lead to it ("đạt khoảng 70%")."""
    while (lead := reading.words_before(start, _PERCENT_LEADS)) is not None:
        start = lead[0]
    reading.removed.append((start, end))


def _shown(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _decide(states: list[str], negative: bool,
            percents: list[float]) -> tuple[str | None, int | None, list[Ambiguity]]:
    percent = int(percents[0]) if percents else None
    if len(states) > 1:
        return None, percent, [Ambiguity(AmbiguityKind.STATE_UNCLEAR, tuple(states))]
    state = states[0] if states else None
    if state is None and percent is not None:
        state = DONE if percent == 100 else IN_PROGRESS
    if state is None:
        options = (IN_PROGRESS, BLOCKED) if negative else STATES
        return None, percent, [Ambiguity(AmbiguityKind.STATE_UNCLEAR, options)]
    if percent is not None and ((state == DONE and percent < 100)
                                or (state == IN_PROGRESS and percent > MAX_IN_PROGRESS)):
        return None, percent, [Ambiguity(AmbiguityKind.PERCENT_CONFLICT, (DONE, IN_PROGRESS))]
    if state == DONE:
        percent = None  # "hoàn thành 100%": done says it all
    return state, percent, []


def _rest(reading: _Reading) -> str:
    """The message without the words read as code, state and percent; polite particles trimmed."""
    kept, at = [], 0
    for start, end in sorted(reading.removed):
        if start > at:
            kept.append(reading.text[at:start])
        at = max(at, end)
    kept.append(reading.text[at:])
    rest = re.sub(r"\s+([,.;:!?)])", r"\1", " ".join(" ".join(kept).split()))
    previous = None
    while rest != previous:
        previous = rest
        rest = rest.strip(" ,.;:-–—!/")
        rest = _trim(rest, _LEADING_FILLERS, leading=True)
        rest = _trim(rest, _TRAILING_FILLERS, leading=False)
    return rest


def _trim(rest: str, fillers: Sequence[str], *, leading: bool) -> str:
    """``rest`` without one filler at its start (or end). Typed without marks, a filler must stand
    alone there ("Da, ..." but not "Da so xa ...", which may be "Đa số xã")."""
    folded = fold(rest)
    for filler in sorted(fillers, key=len, reverse=True):
        body = _body(filler.rstrip(":"))
        match = (re.match(rf"{body}(?![^\W_])", folded) if leading
                 else re.search(rf"(?<![^\W_]){body}$", folded))
        if match is None:
            continue
        typed = rest[match.start():match.end()]
        if not typed_as(typed, filler.rstrip(":")):
            continue
        other = rest[match.end():] if leading else rest[:match.start()]
        alone = not other.strip() or (other.lstrip()[:1] in ",.;:!-" if leading
                                      else other.rstrip()[-1:] in ",.;:!-")
        if alone or fold(typed) != typed.lower():
            return other
    return rest
