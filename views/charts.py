"""The status chart: the four official classes (domain.official) by axis and by agency level,
stacked bars in four colours told apart by colour-blind readers (views.labels: the Okabe-Ito
palette, hatches on the two late classes), as a PNG readable on a phone.

Rendered with matplotlib's Agg backend through the object API (no pyplot state, so it is safe
in a worker thread); DejaVu Sans, which ships with matplotlib, draws Vietnamese diacritics."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from domain.official import OFFICIAL_CLASSES
from models.rollup import Counts, Rollup
from views import render_pool
from views.html import clip
from views.i18n import format_percent
from views.i18n import gettext as _
from views.labels import OFFICIAL_COLOURS, OFFICIAL_HATCHES, axis_name, level_name, official_name
from views.rollup import period_label

# Segments of a bar, left to right: the official classes in reporting order (completed on
# time, completed late, within the deadline, overdue).
SEGMENTS = tuple(which.value for which in OFFICIAL_CLASSES)


@dataclass(frozen=True)
class Bar:
    label: str
    done: int
    owed: int
    classes: tuple[tuple[str, int], ...] = ()  # (official class, items) in SEGMENTS order

    @property
    def ratio(self) -> float:
        return self.done / self.owed if self.owed else 0.0


@dataclass(frozen=True)
class ChartData:
    title: str
    axes: list[Bar]
    levels: list[Bar]


def chart_data(rollup: Rollup) -> ChartData:
    """What the chart shows, in the current language (tests compare it with /status)."""
    def bar_of(label: str, counts: Counts) -> Bar:
        return Bar(label, counts.done, counts.owed,
                   tuple((which.value, n) for which, n in counts.by_official().items()))

    return ChartData(
        title=_("Completion — {period}").format(period=period_label(rollup.period)),
        axes=[bar_of(f"{a.number}. {axis_name(a.number, a.name)}", a.counts) for a in rollup.axes],
        levels=[bar_of(level_name(level), counts) for level, counts in rollup.levels.items()])


def _wrap(label: str, width: int = 28) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _panel(ax: object, bars: list[Bar], heading: str) -> None:
    """Horizontal bars stacked by official class, in the classes' colours (views.labels)."""
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    shown = bars[::-1]  # matplotlib draws the first bar at the bottom
    labels = [_wrap(clip(b.label, 84)) for b in shown]
    ax.barh(labels, [100] * len(shown), color="#eeeeee")
    left = [0.0] * len(shown)
    for which in SEGMENTS:
        widths = [100 * dict(b.classes).get(which, 0) / b.owed if b.owed else 0.0 for b in shown]
        ax.barh(labels, widths, left=left, color=OFFICIAL_COLOURS[which], hatch=OFFICIAL_HATCHES[which],
                edgecolor="white", linewidth=0.5, label=official_name(which))
        left = [x + w for x, w in zip(left, widths, strict=True)]
    for y, b in enumerate(shown):
        ax.text(min(b.ratio * 100 + 2, 80), y, f"{format_percent(b.ratio)}  ({b.done}/{b.owed})",
                va="center", fontsize=11,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_title(heading, loc="left", fontsize=13, fontweight="bold")
    ax.tick_params(axis="y", labelsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def render_chart(data: ChartData) -> bytes:
    """A PNG (about 1000 x 1300 px): axes on top, agency levels below; drawn in the render
    worker when the bot runs one (views/render_pool.py)."""
    return render_pool.run(_render_chart, data)


def _render_chart(data: ChartData) -> bytes:
    rows = max(1, len(data.levels))
    # matplotlib is imported for the first chart, not by a bot that never draws one.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5.8 + 0.7 * rows), dpi=125)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [len(data.axes) or 1, rows]})
    _panel(top, data.axes, _("By axis"))
    _panel(bottom, data.levels, _("By agency level"))
    handles, names = top.get_legend_handles_labels()
    figure.legend(handles, names, loc="lower center", ncol=2, fontsize=10, frameon=False)
    figure.suptitle(data.title, fontsize=15, fontweight="bold")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
