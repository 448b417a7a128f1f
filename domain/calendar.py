"""Vietnamese working days, the unit in which agencies count deadlines and overdue time.

Government offices work Monday-Friday and close on public holidays (Tết among them). The
government also swaps days around holidays by decree, which the `holidays` package only
partly knows, so admins can add extra days off and make-up working days (often Saturdays).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays

COUNTRY = "VN"
DEFAULT_WEEKEND: frozenset[int] = frozenset({5, 6})  # Saturday, Sunday (date.weekday())
# No real calendar goes this long without a working day; the cap turns a misconfiguration
# (e.g. a year of days off) into an error instead of an endless loop.
_MAX_SEARCH_DAYS = 366


class WorkingCalendar:
    """Answers "is this a working day?" and counts working days.

    Precedence, most specific first: an admin make-up working day is always a working day
    (even on a weekend or public holiday, because an admin listed it explicitly); an admin
    day off never is; then public holidays and the weekend are closed; the rest is open.
    """

    def __init__(
        self,
        *,
        days_off: Iterable[date] = (),
        working_days: Iterable[date] = (),
        weekend: frozenset[int] = DEFAULT_WEEKEND,
        language: str | None = None,
    ) -> None:
        self._days_off = frozenset(days_off)
        self._working_days = frozenset(working_days)
        self._weekend = frozenset(weekend)
        self._language = language
        self._holidays_by_year: dict[int, dict[date, str]] = {}
        self._validate()

    def _validate(self) -> None:
        """Reject contradictory settings early, where an admin can still fix them."""
        both = sorted(self._days_off & self._working_days)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"{listed}: listed both as a day off and as a working day")
        bad = sorted(w for w in self._weekend if not 0 <= w <= 6)
        if bad:
            raise ValueError(f"weekend days must be 0 (Monday) .. 6 (Sunday), got {bad}")
        if len(self._weekend) == 7:
            raise ValueError("a weekend of all seven days leaves no working days")

    def _holidays(self, year: int) -> dict[date, str]:
        """Public holidays of one year, loaded on first use: years are few, lookups many."""
        cached = self._holidays_by_year.get(year)
        if cached is None:
            found = holidays.country_holidays(COUNTRY, years=year, language=self._language)
            cached = dict(found.items())
            self._holidays_by_year[year] = cached
        return cached

    def holiday_name(self, d: date) -> str | None:
        """The public holiday's name on d (for messages like "moved because of Tết")."""
        return self._holidays(d.year).get(d)

    def is_working_day(self, d: date) -> bool:
        """True when offices are open on d."""
        if d in self._working_days:
            return True
        if d in self._days_off or d.weekday() in self._weekend:
            return False
        return d not in self._holidays(d.year)

    def _step_to_working(self, d: date, step: int) -> date:
        """d if it is a working day, else the nearest one in the direction of step (+1/-1)."""
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(d):
                return d
            d += timedelta(days=step)
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days of {d.isoformat()}")

    def on_or_before(self, d: date) -> date:
        """d, or the last working day before it: a reminder must reach people while at work."""
        return self._step_to_working(d, -1)

    def on_or_after(self, d: date) -> date:
        """d, or the first working day after it."""
        return self._step_to_working(d, 1)

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after d (n > 0) or before it (n < 0); d itself when n == 0.

        d itself never counts, so "1 working day after Friday" is Monday, the way people
        count overdue time.
        """
        step = 1 if n > 0 else -1
        for _ in range(abs(n)):
            d = self._step_to_working(d + timedelta(days=step), step)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b] when a <= b; minus the working days in [b, a) when b < a.

        The endpoints are chosen so this inverts add_working_days exactly:
        working_days_between(a, add_working_days(a, n)) == n, so "3 working days overdue"
        means the same whether it is counted or added.
        """
        if b < a:
            return -self._count(b - timedelta(days=1), a - timedelta(days=1))
        return self._count(a, b)

    def _count(self, a: date, b: date) -> int:
        """Working days in (a, b]."""
        count = 0
        d = a + timedelta(days=1)
        while d <= b:
            count += self.is_working_day(d)
            d += timedelta(days=1)
        return count
