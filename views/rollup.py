"""How a roll-up reads: the /status summary, its drill-down pages, and the digest. Shared by the
handlers and the digest dispatcher so both say the same numbers the same way.

Every text goes through the catalogs; long lists are split into pages (never cut off)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.official import COMPLETED_STATES, OfficialClass
from domain.periods import HALF, QUARTER, Period
from models.rollup import AgencyLine, Counts, ItemLine, RankLine, Rollup, TaskLine
from views.contributions import count_line as contribution_count
from views.extension_lines import extended_text
from views.html import clip, esc, utf16_len
from views.i18n import format_date, format_number, format_percent, ngettext
from views.i18n import gettext as _
from views.labels import STATE_ICONS, axis_name, official_icon, official_name, state_name

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
    """The four official classes (domain.official), with the reports awaiting verification
    beside them, then the open items by state: one figure a line."""
    n = format_number
    return [
        _("Items owed: <b>{n}</b>").format(n=n(counts.owed)),
        *official_lines(counts),
        _("🔵 Completed, awaiting verification: {n} (verified {verified})").format(
            n=n(counts.awaiting), verified=n(counts.verified)),
        _("Not completed, by state: {states}").format(states=" · ".join(
            _("{icon} {state}: {n}").format(icon=STATE_ICONS[state], state=state_name(state), n=n(value))
            for state, value in (("in_progress", counts.in_progress), ("blocked", counts.blocked),
                                 ("returned", counts.returned), ("not_started", counts.not_started)))),
    ]


def official_lines(counts: Counts) -> list[str]:
    """One line per official class, in reporting order; overdue in bold, last (the backlog line
    goes after it, see views.status)."""
    n = format_number
    lines = [_("{icon} {name}: {n} ({share})").format(
        icon=official_icon(which), name=official_name(which), n=n(value),
        share=format_percent(value / counts.owed if counts.owed else 0.0))
        for which, value in counts.by_official().items() if which != OfficialClass.OVERDUE]
    lines.append(_("⏰ Overdue: <b>{n}</b>").format(n=n(counts.overdue)))
    return lines


def official_short(counts: Counts) -> str:
    """``✅ 12 · ⌛ 3 · 🔄 5 · ⏰ 2`` (a task's or an agency's line)."""
    return " · ".join(f"{official_icon(which)} {format_number(value)}"
                      for which, value in counts.by_official().items())


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
    return (f"{head}\n   <code>{bar(c.ratio)}</code> {format_number(c.done)}/{format_number(c.owed)}"
            f"\n   {official_short(c)}")


def agency_state_lines(agencies: Sequence[AgencyLine]) -> list[str]:
    """One line per agency: its items of a task by state."""
    lines = []
    for a in agencies:
        c = a.counts
        states = [f"{STATE_ICONS[s]} {state_name(s)}" for s, n in _nonzero(c) if n]
        if c.owed > 1:
            states = [f"{STATE_ICONS[s]} {n}" for s, n in _nonzero(c) if n]
        lines.append(f"• {esc(clip(a.name, 200))}: {', '.join(states)}\n   {official_short(c)}")
    return lines


def _nonzero(c: Counts) -> list[tuple[str, int]]:
    return [("verified", c.verified), ("reported", c.reported), ("in_progress", c.in_progress),
            ("blocked", c.blocked), ("returned", c.returned), ("not_started", c.not_started)]


def item_state_lines(items: Sequence[ItemLine]) -> list[str]:
    """An agency's items: task, state, due day."""
    lines = []
    for item in items:
        reason = ("\n   " + _("Reason: {reason}").format(reason=esc(clip(item.reason, 200)))
                  if item.reason else "")
        if item.contributions:  # coordinating agencies' contributions to the lead's item
            reason += "\n   " + contribution_count(item.contributions)
        done = (" · " + _("completed {date}").format(date=format_date(item.completed_on, "short"))
                if item.completed_on is not None and item.state in COMPLETED_STATES else "")
        lines.append(f"{STATE_ICONS.get(item.state, '')} <b>{esc(clip(item.task_code, 20))}</b> "
                     f"{esc(clip(item.task_text, 70))}\n   {esc(state_name(item.state))} · "
                     + (extended_text(item.due_on, item.original_due_on)
                        or _("due {date}").format(date=format_date(item.due_on, "short"))) + done
                     + f"\n   {official_icon(item.official)} {esc(official_name(item.official))}"
                     + reason)
    return lines


def rank_rate(rate: float | None) -> str:
    """The on-time rate as a percent; "—" when nothing is settled yet."""
    return "—" if rate is None else format_percent(rate)


def rank_lines(table: Sequence[RankLine]) -> list[str]:
    """``3. UBND huyện Tiên Yên — 67% · ✅ 4 · ⌛ 1 · 🔄 0 · ⏰ 1``, one agency a line."""
    return [f"{line.position}. {esc(clip(line.name, 120))} — <b>{rank_rate(line.rate)}</b>"
            f" · {official_short(line.counts)}" for line in table]


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
    lines.append(_("{icon} {name}: {delta}").format(
        icon=official_icon("on_time"), name=official_name("on_time"),
        delta=_signed(totals_now["on_time"] - totals_before["on_time"])))
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
            ("owed", "reported", "verified", "overdue", "blocked", "on_time")}


def _signed(n: int) -> str:
    return ("+" if n > 0 else "") + format_number(n) if n else "0"
