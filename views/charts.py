"""The status chart: completion by axis and by agency level, as a PNG readable on a phone.

Rendered with matplotlib's Agg backend through the object API (no pyplot state, so it is safe
in a worker thread); DejaVu Sans, which ships with matplotlib, draws Vietnamese diacritics."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from models.rollup import Counts, Rollup
from views.i18n import format_percent
from views.i18n import gettext as _
from views.labels import axis_name, level_name
from views.rollup import period_label


@dataclass(frozen=True)
class Bar:
    label: str
    done: int
    owed: int

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
        return Bar(label, counts.done, counts.owed)

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
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    labels = [_wrap(b.label) for b in bars][::-1]
    values = [b.ratio * 100 for b in bars][::-1]
    ax.barh(labels, [100] * len(bars), color="#e6e6e6")
    ax.barh(labels, values, color="#2b7bba")
    for y, b in enumerate(bars[::-1]):
        ax.text(min(b.ratio * 100 + 2, 80), y, f"{format_percent(b.ratio)}  ({b.done}/{b.owed})",
                va="center", fontsize=11)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_title(heading, loc="left", fontsize=13, fontweight="bold")
    ax.tick_params(axis="y", labelsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def render_chart(data: ChartData) -> bytes:
    """A PNG (about 1000 x 1300 px): axes on top, agency levels below."""
    rows = max(1, len(data.levels))
    figure = Figure(figsize=(8, 5.2 + 0.7 * rows), dpi=125)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [len(data.axes) or 1, rows]})
    _panel(top, data.axes, _("By axis"))
    _panel(bottom, data.levels, _("By agency level"))
    figure.suptitle(data.title, fontsize=15, fontweight="bold")
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
