"""views/render_pool.py: heavy renders in a worker process, in the caller's language."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from domain.periods import Period
from views import render_pool
from views.i18n import gettext, use_locale


def _pid_and_word() -> tuple[int, str]:
    return os.getpid(), gettext("Details")


@pytest.fixture
def pool() -> Iterator[None]:
    render_pool.start()
    try:
        yield
    finally:
        render_pool.stop()


def test_without_start_it_renders_here() -> None:
    assert render_pool.run(_pid_and_word)[0] == os.getpid()


def test_renders_in_a_worker_in_the_callers_language(pool: None) -> None:
    with use_locale("en"):
        pid, english = render_pool.run(_pid_and_word)
        here = gettext("Details")
    with use_locale("vi"):
        _pid, vietnamese = render_pool.run(_pid_and_word)
        vi_here = gettext("Details")
    assert pid != os.getpid()
    assert (english, vietnamese) == (here, vi_here) and english != vietnamese


def test_a_chart_from_the_worker_is_the_same_png(pool: None) -> None:
    from views.charts import Bar, ChartData, _render_chart, render_chart

    data = ChartData("Tiến độ", [Bar("Trục 1", 6, 10, (("done", 6), ("not_started", 4)))], [])
    png = render_chart(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) == pytest.approx(len(_render_chart(data)), rel=0.05)


def _rows_seen(rows: list[Period]) -> tuple[int, list[Period]]:
    return os.getpid(), rows


def test_arguments_reach_the_worker_unchanged(pool: None) -> None:
    """The arguments are pickled in the caller's thread, in steps (the event loop may run
    between objects), and arrive as they were sent."""
    from datetime import date


    rows = [Period(f"2026-Q{q}", "quarter", date(2026, 3 * q - 2, 1), date(2026, 3 * q, 28),
                                 date(2026, 3 * q, 28)) for q in range(1, 5)] * 500
    pid, seen = render_pool.run(_rows_seen, rows)
    assert pid != os.getpid() and seen == rows
