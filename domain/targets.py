"""Numeric targets: a task's (or a plan indicator's) value to reach in a year, the lines people
type to set one ("5.2c 2026 ≥ 60%") or to report a value ("đạt 75%"), and how values compare
with a target. Pure: no database, no clock.

A target is "at least" (the plan's "trên 60%", "tối thiểu 90%") unless it says "at most"
("không quá 50%"). Values in % lie between 0 and 100; other units (communes, units…) are counts
or amounts, never negative.

Subjects: a task code of the plan's appendix ("5.2c") or a plan-level indicator's code, which
starts with letters ("CT1": "chỉ tiêu" 1) so that it never reads as a task code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

PERCENT = "%"
MAX_UNIT = 16
MAX_NOTE = 500
MAX_VALUE = 1_000_000_000
FIRST_YEAR, LAST_YEAR = 2000, 2100


class Direction(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class TargetInputError(ValueError):
    """A target line or a value that cannot be used; ``code`` names the rule broken:
    ``format``, ``subject``, ``year``, ``number``, ``percent_range``, ``negative``, ``too_large``,
    ``unit``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class TargetSpec:
    """A target as typed: whose (task or indicator code), which year, the value and unit."""

    subject: str
    year: int
    value: float
    unit: str = PERCENT
    direction: Direction = Direction.AT_LEAST


_TASK_CODE = re.compile(r"^\d{1,2}\.\d{1,3}[a-z]{0,2}$")
_INDICATOR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,15}$")
_NUMBER = r"(\d{1,12}(?:[.,]\d{1,4})?)"
_AT_MOST = ("≤", "<=", "<", "at most", "tối đa", "toi da", "không quá", "khong qua", "dưới", "max")
_AT_LEAST = ("≥", ">=", ">", "at least", "tối thiểu", "toi thieu", "trên", "tren", "đạt", "dat",
             "min", "over")
_LINE = re.compile(r"^\s*(?P<subject>\S+)\s+(?P<year>\S+)\s+(?P<rest>.+?)\s*$")
_VALUE = re.compile(rf"^(?P<word>[^\d]*?)\s*{_NUMBER}\s*(?P<unit>.*?)\s*$")
# The words around a reported value: "đạt 75%", "reached 75 %", "= 75", "75% xã".
_REPORT_WORDS = ("đạt được", "dat duoc", "đạt", "dat", "reached", "value", "giá trị", "gia tri",
                 "kết quả", "ket qua", "=", ":")


def is_task_code(subject: str) -> bool:
    return bool(_TASK_CODE.match(subject))


def is_indicator_code(subject: str) -> bool:
    return bool(_INDICATOR_CODE.match(subject)) and not is_task_code(subject)


def _number(text: str) -> float:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise TargetInputError("number") from exc
    if value > MAX_VALUE:
        raise TargetInputError("too_large")
    return float(round(value, 2))


def check_value(value: float, unit: str) -> float:
    """``value`` if it fits ``unit`` (a % between 0 and 100, anything else not negative)."""
    if value < 0:
        raise TargetInputError("negative")
    if unit == PERCENT and value > 100:
        raise TargetInputError("percent_range")
    if value > MAX_VALUE:
        raise TargetInputError("too_large")
    return value


def _direction(word: str) -> Direction:
    word = word.strip().lower()
    if not word:
        return Direction.AT_LEAST
    if word in _AT_MOST:
        return Direction.AT_MOST
    if word in _AT_LEAST:
        return Direction.AT_LEAST
    raise TargetInputError("format")


def _unit(text: str) -> str:
    unit = " ".join(text.split())
    if unit.lower() in ("%", "phần trăm", "phan tram", "percent", "pct"):
        return PERCENT
    if not unit:
        return ""
    if len(unit) > MAX_UNIT or any(not (c.isalnum() or c in " ./-%") for c in unit):
        raise TargetInputError("unit")
    return unit


def parse_target_line(text: str) -> TargetSpec:
    """``"5.2c 2026 60%"``, ``"5.2d 2026 ≥ 90 %"``, ``"CT1 2016 70%"``, ``"4.4b 2026 ≤ 5 vụ"``."""
    match = _LINE.match(" ".join(text.split()))
    if match is None:
        raise TargetInputError("format")
    subject = match["subject"]
    if not (is_task_code(subject.lower()) or is_indicator_code(subject)):
        raise TargetInputError("subject")
    subject = subject.lower() if is_task_code(subject.lower()) else subject.upper()
    if not match["year"].isdigit() or not FIRST_YEAR <= int(match["year"]) <= LAST_YEAR:
        raise TargetInputError("year")
    value = _VALUE.match(match["rest"])
    if value is None:
        raise TargetInputError("number")
    unit = _unit(value["unit"])
    number = check_value(_number(value[2]), unit)
    return TargetSpec(subject, int(match["year"]), number, unit, _direction(value["word"]))


def parse_value(text: str, unit: str) -> float:
    """A value reported against a target in ``unit``: ``"75"``, ``"75%"``, ``"đạt 75,5 %"``,
    ``"reached 75"``. The unit may be repeated; another unit is refused."""
    clean = " ".join(text.split()).lower()
    for word in _REPORT_WORDS:
        if clean.startswith(word):
            clean = clean[len(word):].strip()
            break
    match = re.fullmatch(rf"{_NUMBER}\s*(.*)", clean)
    if match is None:
        raise TargetInputError("number")
    said = match[2].strip()
    if said and _unit(said).lower() != unit.lower():
        raise TargetInputError("unit")
    return check_value(_number(match[1]), unit)


def meets(value: float, target: float, direction: str) -> bool:
    return value <= target if direction == Direction.AT_MOST else value >= target


@dataclass(frozen=True)
class Progress:
    """Where a set of agencies stands against one target: the average of their latest values,
    how many reported and how many of those meet the target."""

    average: float | None
    reporting: int
    meeting: int

    @property
    def met(self) -> bool | None:
        return None if self.average is None else self.meeting == self.reporting


def progress(values: Sequence[float], target: float, direction: str) -> Progress:
    """The progress of ``values`` (one per agency: its latest) against ``target``."""
    if not values:
        return Progress(None, 0, 0)
    average = round(sum(values) / len(values), 2)
    return Progress(average, len(values), sum(1 for v in values if meets(v, target, direction)))


@dataclass(frozen=True)
class PlanTarget:
    """A target the plan's text sets (seeded with ``source="plan"``)."""

    subject: str
    year: int
    value: float
    unit: str
    direction: Direction
    name: str  # for an indicator: what it measures (the plan's words)
    note: str  # where the plan says it


_PARTICIPATION = ("Tỷ lệ nội dung, vấn đề người dân có quyền được biết, được bàn, được tham gia hoặc "
                  "kiểm tra, giám sát trước khi cơ quan có thẩm quyền quyết định")
_ONLINE = "Mục II.2.5 và Ghi chú của nhiệm vụ 5.2d: dịch vụ công trực tuyến mức độ 3, 4"
_DESKS = "Mục II.2.5 và Ghi chú của nhiệm vụ 5.2e: Bộ phận tiếp nhận và trả kết quả hiện đại cấp xã"

# Plan 916's numeric targets. The appendix's notes sit one row below the task they speak of
# (a page of the PDF shifted them): the "level 3-4 online services" note is on 5.2d's row but
# is 5.2c's target (Sở Thông tin và Truyền thông's task), and the "one-stop desks in communes"
# note on 5.2e's row is 5.2d's. The body (section II.2.5) says the same of each task.
PLAN_TARGETS: tuple[PlanTarget, ...] = (
    *(PlanTarget("CT1", year, value, PERCENT, Direction.AT_LEAST, _PARTICIPATION, "Mục II.2.1")
      for year, value in ((2016, 70), (2017, 80), (2018, 90), (2019, 95), (2020, 100))),
    PlanTarget("5.2c", 2016, 60, PERCENT, Direction.AT_LEAST, "", _ONLINE),
    PlanTarget("5.2c", 2020, 90, PERCENT, Direction.AT_LEAST, "", _ONLINE),
    PlanTarget("5.2d", 2016, 90, PERCENT, Direction.AT_LEAST, "", _DESKS),
    PlanTarget("5.2d", 2017, 100, PERCENT, Direction.AT_LEAST, "", _DESKS),
)
