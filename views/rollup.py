"""How a roll-up reads: the /status summary, its drill-down pages, and the digest. Shared by the
handlers and the digest dispatcher so both say the same numbers the same way.

Every text goes through the catalogs; long lists are split into pages (never cut off)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.periods import HALF, QUARTER, Period
from models.rollup import AgencyLine, Counts, ItemLine, Rollup, TaskLine
from views.contributions import count_line as contribution_count
from views.extension_lines import extended_text
from views.html import clip, esc, utf16_len
from views.i18n import format_date, format_number, format_percent, ngettext
from views.i18n import gettext as _
from views.labels import STATE_ICONS, axis_name, state_name

PAGE_LINES = 20
PAGE_CHARS = 3500  # leaves room for a header and a footer within a message (4,096)
BAR_WIDTH = 10


def level_count(level: str, done: int, owed: int) -> str:
    """``10/14 districts`` / ``10/14 huyện``."""
    values = {"done": format_number(done), "owed": format_number(owed)}
    if level == "district":
        return ngettext("{done}/{owed} district", "{done}/{owed} districts", owed).format(**values)
    if level == "commune":
        return ngettext("{done}/{owed} commune", "{done}/{owed} communes", owed).format(**values)
    if level == "department":
        return ngettext("{done}/{owed} department", "{done}/{owed} departments", owed).format(**values)
    return ngettext("{done}/{owed} agency", "{done}/{owed} agencies", owed).format(**values)


def period_label(period: Period) -> str:
    year = period.start.year
    if period.kind == QUARTER:
        return _("Q{quarter} {year}").format(quarter=(period.start.month - 1) // 3 + 1, year=year)
    if period.kind == HALF:
        if period.start.month == 1:
            return _("first half of {year}").format(year=year)
        return _("second half of {year}").format(year=year)
    return _("year {year}").format(year=year)


def bar(ratio: float, width: int = BAR_WIDTH) -> str:
    """``▓▓▓▓▓░░░░░ 52%``."""
    filled = round(max(0.0, min(1.0, ratio)) * width)
    return "▓" * filled + "░" * (width - filled) + " " + format_percent(ratio)


def counts_lines(counts: Counts) -> list[str]:
    """The state breakdown, one figure a line."""
    n = format_number
    return [
        _("Items owed: <b>{n}</b>").format(n=n(counts.owed)),
        _("✅ Done: {done} (verified {verified}, awaiting verification {reported})").format(
            done=n(counts.done), verified=n(counts.verified), reported=n(counts.reported)),
        *(_("{icon} {state}: {n}").format(icon=STATE_ICONS[state], state=state_name(state), n=n(value))
          for state, value in (("in_progress", counts.in_progress), ("blocked", counts.blocked),
                               ("returned", counts.returned), ("not_started", counts.not_started))),
        _("⏰ Overdue: <b>{n}</b>").format(n=n(counts.overdue)),
    ]


def summary_lines(rollup: Rollup, scope_label: str) -> list[str]:
    """The /status summary (and the body of a digest)."""
    lines = [_("📊 <b>Plan status — {period}</b>").format(period=esc(period_label(rollup.period))),
             _("Scope: {scope} · as of {date}").format(scope=esc(scope_label),
                                                     date=format_date(rollup.today)),
             "", *counts_lines(rollup.totals), "", _("<b>Completion by axis</b>")]
    for axis in rollup.axes:
        lines.append(f"{axis.number}. {esc(clip(axis_name(axis.number, axis.name), 200))}")
        lines.append(f"<code>{bar(axis.counts.ratio)}</code> ({format_number(axis.counts.done)}/"
                     f"{format_number(axis.counts.owed)})")
    by_class = [t for t in rollup.tasks if t.owed_by_class and t.counts.owed]
    if by_class:
        lines += ["", _("<b>Tasks owed by a class of agencies</b>")]
        lines += [task_class_line(t) for t in by_class]
    if rollup.most_overdue:
        lines += ["", _("<b>Most overdue agencies</b>")]
        lines += [ngettext("• {agency}: {n} overdue item", "• {agency}: {n} overdue items",
                           a.counts.overdue).format(agency=esc(clip(a.name, 200)),
                                                    n=format_number(a.counts.overdue))
                  for a in rollup.most_overdue]
    return lines


def task_class_line(task: TaskLine) -> str:
    parts = [level_count(level, c.done, c.owed) for level, c in task.by_level.items() if c.owed]
    return f"{esc(clip(task.code, 20))}: " + " · ".join(parts)


def axis_lines(rollup: Rollup, number: int) -> list[str]:
    """Tasks of one axis with their completion (two lines a task)."""
    return [line for task in rollup.tasks if task.axis_number == number
            for line in task_lines(task).split("\n")]


def task_lines(task: TaskLine) -> str:
    """One task of an axis: its code and text, then its completion."""
    c = task.counts
    head = f"<b>{esc(clip(task.code, 20))}</b> {esc(clip(task.text, 90))}"
    if not c.owed:
        return head + "\n   " + _("nothing due in this period")
    late = " · " + _("⏰ {n} overdue").format(n=format_number(c.overdue)) if c.overdue else ""
    return f"{head}\n   <code>{bar(c.ratio)}</code> {format_number(c.done)}/{format_number(c.owed)}{late}"


def agency_state_lines(agencies: Sequence[AgencyLine]) -> list[str]:
    """One line per agency: its items of a task by state."""
    lines = []
    for a in agencies:
        c = a.counts
        states = [f"{STATE_ICONS[s]} {state_name(s)}" for s, n in _nonzero(c) if n]
        if c.owed > 1:
            states = [f"{STATE_ICONS[s]} {n}" for s, n in _nonzero(c) if n]
        late = " ⏰" if c.overdue else ""
        lines.append(f"• {esc(clip(a.name, 200))}: {', '.join(states)}{late}")
    return lines


def _nonzero(c: Counts) -> list[tuple[str, int]]:
    return [("verified", c.verified), ("reported", c.reported), ("in_progress", c.in_progress),
            ("blocked", c.blocked), ("returned", c.returned), ("not_started", c.not_started)]


def item_state_lines(items: Sequence[ItemLine]) -> list[str]:
    """An agency's items: task, state, due day."""
    lines = []
    for item in items:
        late = " · " + _("⏰ overdue") if item.overdue else ""
        reason = ("\n   " + _("Reason: {reason}").format(reason=esc(clip(item.reason, 200)))
                  if item.reason else "")
        if item.contributions:  # coordinating agencies' contributions to the lead's item
            reason += "\n   " + contribution_count(item.contributions)
        lines.append(f"{STATE_ICONS.get(item.state, '')} <b>{esc(clip(item.task_code, 20))}</b> "
                     f"{esc(clip(item.task_text, 70))}\n   {esc(state_name(item.state))} · "
                     + (extended_text(item.due_on, item.original_due_on)
                        or _("due {date}").format(date=format_date(item.due_on, "short"))) + late + reason)
    return lines


def paginate(lines: Sequence[str], *, max_lines: int = PAGE_LINES,
             max_chars: int = PAGE_CHARS) -> list[list[str]]:
    """Split lines into pages of at most ``max_lines`` lines and ``max_chars`` characters."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        length = utf16_len(line) + 1
        if pages[-1] and (len(pages[-1]) >= max_lines or size + length > max_chars):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += length
    return pages


def changes_lines(now: dict[str, object], before: dict[str, object] | None) -> list[str]:
    """What changed since the previous digest (numbers as stored in digest snapshots)."""
    if before is None or before.get("period") != now.get("period"):
        return [_("First digest for this period.")]
    totals_now, totals_before = _totals(now), _totals(before)
    lines = [_("<b>Since the last digest</b>")]
    done = (totals_now["reported"] + totals_now["verified"]
            - totals_before["reported"] - totals_before["verified"])
    lines.append(_("✅ Done: {delta}").format(delta=_signed(done)))
    lines.append(_("🟢 Verified: {delta}").format(
        delta=_signed(totals_now["verified"] - totals_before["verified"])))
    lines.append(_("⏰ Overdue: {delta}").format(
        delta=_signed(totals_now["overdue"] - totals_before["overdue"])))
    lines.append(_("🔴 Blocked: {delta}").format(
        delta=_signed(totals_now["blocked"] - totals_before["blocked"])))
    return lines


def _totals(snapshot: dict[str, object]) -> dict[str, int]:
    totals = snapshot.get("totals", {})
    assert isinstance(totals, dict)
    return {k: int(totals.get(k, 0)) for k in
            ("owed", "reported", "verified", "overdue", "blocked")}


def _signed(n: int) -> str:
    return ("+" if n > 0 else "") + format_number(n) if n else "0"
