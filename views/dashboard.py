"""The leaders' dashboard (a Telegram Mini App at ``/app/``): the page shell, and each page of it
as JSON — the figures (``data``: the numbers of the same roll-up /status shows) and the same
figures as HTML (``html``: server-rendered, translated, escaped, charts as inline SVG) that the
page's script puts in place. The script (``views/web/dashboard.js``) only reads the launch data
from the URL fragment, asks for pages, and follows ``data-nav`` links; every word is here.

Links: ``summary?period=2026-Q3``, ``axis?period=…&n=1``, ``task?period=…&id=…``,
``agency?period=…&id=…``, ``overdue?period=…``, ``overdue_agency?period=…&id=…``,
``ranking?period=…`` (leaders, coordinators and admins: the league tables /status's 🏆 shows).
With several plans in force a page asked for without ``plan=ID`` is the plan choice; the page's
script adds the chosen plan to every page it opens after.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta, tzinfo
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any
from urllib.parse import urlencode, urlsplit

from telegram import InlineKeyboardButton, WebAppInfo

from domain.official import OFFICIAL_CLASSES, OfficialClass
from domain.periods import HALF, QUARTER, YEAR, Period, period_containing
from models.history import ItemHistory
from models.overdue import Backlog
from models.rollup import AgencyLine, Counts, ItemLine, RankLine
from models.status import (
    AgencyPage,
    AxisPage,
    OverdueAgencyPage,
    OverduePage,
    PlanOption,
    RankingPage,
    Summary,
    TaskPage,
    Viewer,
)
from models.targets import TargetLine
from views.history import version_lines
from views.html import clip, esc, esc_attr
from views.i18n import current_locale, format_date, format_number, format_percent, ngettext
from views.i18n import gettext as _
from views.labels import axis_name, level_name, official_name, state_name
from views.rollup import period_label, rank_rate
from views.targets import meeting_text, target_text, trend_text, value_text

ONE_DAY = timedelta(days=1)
LOCAL_HOSTS = ("127.0.0.1", "localhost")
STATE_ORDER = ("verified", "reported", "in_progress", "blocked", "returned", "not_started")


def static_dir() -> Traversable:
    """The page's script and style sheet, shipped in the package."""
    return files("views") / "web"


# --- links and buttons ----------------------------------------------------------------------

def dashboard_url(base_url: str, period: Period | None = None, plan: int = 0) -> str:
    params: dict[str, object] = {"period": period.key} if period is not None else {}
    if plan:
        params["plan"] = plan
    query = "?" + urlencode(params) if params else ""
    return f"{base_url}/app/{query}"


def web_app_allowed(url: str) -> bool:
    """Telegram opens only https pages as Mini Apps; a local http URL gets a plain link."""
    return urlsplit(url).scheme == "https"


def dashboard_button(base_url: str, period: Period | None, *, private: bool,
                     plan: int = 0) -> InlineKeyboardButton:
    """"Open the dashboard": a Mini App button in a private chat over https, else a plain link
    (Telegram accepts web_app buttons only there); ``plan``: the plan chosen in the chat."""
    url = dashboard_url(base_url, period, plan)
    text = _("📊 Open the dashboard")
    if private and web_app_allowed(url):
        return InlineKeyboardButton(text, web_app=WebAppInfo(url))
    return InlineKeyboardButton(text, url=url)


def menu_button_text() -> str:
    return _("Dashboard")


# --- the shell --------------------------------------------------------------------------------

def shell_html(static_prefix: str) -> str:
    """The page itself: no figures (they come with launch data), nothing from the internet."""
    words = {"loading": _("Loading…"), "unauthorized": _(
        "This dashboard opens only from the bot in Telegram (menu button or /status)."),
        "failed": _("The dashboard could not be loaded. Try again later."),
        "back": _("« Back")}
    title = _("dondoc — dashboard")
    return f"""<!doctype html>
<html lang="{esc_attr(current_locale())}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{esc(title)}</title>
<link rel="stylesheet" href="{esc_attr(static_prefix)}dashboard.css">
</head>
<body>
<main id="main" aria-live="polite"><p class="note">{esc(words["loading"])}</p></main>
<script id="words" type="application/json">{_script_json(words)}</script>
<script src="{esc_attr(static_prefix)}dashboard.js"></script>
</body>
</html>
"""


def _script_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def plan_choice_page(plans: Sequence[PlanOption], period: Period, page: str) -> dict[str, Any]:
    """Several plans are in force: one link each, to the summary of that plan."""
    title = esc(_("Several plans are in force. Which plan, for {period}?").format(
        period=period_label(period)))
    links = "".join(_link(f"<b>{esc(clip(p.number, 64))}</b> — {esc(clip(p.title, 200))}", "summary",
                          "row wide", period=period.key, plan=p.id) for p in plans)
    data = {"page": "plans", "period": period.key, "asked": page,
            "plans": [{"id": p.id, "number": p.number, "title": p.title} for p in plans]}
    return {"data": data, "html": _head(title, "") + f"<p>{links}</p>"}


def refusal(reason: str) -> dict[str, Any]:
    """What a page says instead of figures (not a member, outside the scope, gone)."""
    texts = {
        "not_allowed": _("Only registered members can see the plan's status. "
                         "Ask your coordinator for an invitation."),
        "scope": _("This is outside what you may see."),
        "gone": _("This has changed; go back to the summary."),
        "no_plan": _("No plan is loaded yet."),
        "bad_request": _("I do not know that page."),
        "role": _("This page is for leaders, coordinators and admins."),
    }
    text = texts.get(reason, texts["bad_request"])
    return {"error": reason, "html": _note(text) + _back("summary")}


# --- pieces -----------------------------------------------------------------------------------

def _nav(target: str, **params: object) -> str:
    return esc_attr(f"{target}?{urlencode(params)}")


def _link(label: str, target: str, cls: str = "row", **params: object) -> str:
    return f'<button type="button" class="{cls}" data-nav="{_nav(target, **params)}">{label}</button>'


def _back(target: str, **params: object) -> str:
    back = _("« Back")
    return f'<p>{_link(esc(back), target, "back", **params)}</p>'


def _back_to_previous() -> str:
    """« Back to whichever page opened this one (the page's script keeps the trail)."""
    back = _("« Back")
    return f'<p><button type="button" class="back" data-nav="back">{esc(back)}</button></p>'


def scope_label(viewer: Viewer) -> str:
    """The scope, and the plan when several are in force (plain text: the caller escapes it)."""
    if viewer.scope.everything:
        scope = _("whole province")
    elif viewer.scope.subtree:
        scope = _("{agency} and the units under it").format(agency=viewer.agency_name)
    else:
        scope = viewer.agency_name
    if viewer.plan_number:
        return _("{scope} · plan {number}").format(scope=scope, number=clip(viewer.plan_number, 64))
    return scope


def _head(title: str, subtitle: str) -> str:
    return f"<header><h1>{title}</h1><p class=\"sub\">{subtitle}</p></header>"


def _periods(period: Period, today: date, target: str = "summary", **extra: object) -> str:
    """The period switcher: the one before, the other kinds around the same time, the one after."""
    before = period_containing(period.kind, period.start - ONE_DAY, None)
    after = period_containing(period.kind, period.end + ONE_DAY, None)
    around = today if period.start <= today <= period.end else period.start
    choices = [("‹ " + period_label(before), before.key)]
    choices += [(label, period_containing(kind, around, None).key)
                for kind, label in ((QUARTER, _("Quarter")), (HALF, _("Half-year")), (YEAR, _("Year")))
                if kind != period.kind]
    choices.append((period_label(after) + " ›", after.key))
    buttons = "".join(_link(esc(label), target, "chip", period=key, **extra) for label, key in choices)
    name = _("Periods")
    return f'<nav class="periods" aria-label="{esc_attr(name)}">{buttons}</nav>'


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def _h2(text: str) -> str:
    return f"<h2>{esc(text)}</h2>"


def _late_mark() -> str:
    late = _("overdue")
    return f' · <span class="late-n">{esc(late)}</span>'


def _tile(name: str, label: str, value: int, cls: str = "") -> str:
    return (f'<div class="tile {cls}" data-figure="{name}" data-value="{value}">'
            f"<b>{format_number(value)}</b><span>{esc(label)}</span></div>")


def _tiles(counts: Counts) -> str:
    tiles = [_tile("owed", _("Items owed"), counts.owed),
             _tile("done", _("Done"), counts.done, "done"),
             _tile("overdue", _("Overdue"), counts.overdue, "late"),
             *(_tile(which.value, official_name(which), n, f"c-{which.value}")
               for which, n in counts.by_official().items() if which != OfficialClass.OVERDUE),
             *(_tile(state, state_name(state), getattr(counts, state)) for state in
               ("verified", "reported", "in_progress", "blocked", "returned", "not_started"))]
    return f'<section class="tiles">{"".join(tiles)}</section>'


def bars_svg(rows: Sequence[tuple[str, Counts]], title: str) -> str:
    """Horizontal bars, one per row, stacked by official class (completed on time, completed
    late, within the deadline, overdue: domain.official), with the share done. Width follows
    the page (viewBox); colours come from the style sheet (the chart's colour-blind palette)."""
    width, height, gap = 320, 12, 32
    parts = []
    for index, (label, counts) in enumerate(rows):
        y = index * gap
        owed = counts.owed or 1
        parts.append(f'<text x="0" y="{y + 11}" class="label">{esc(clip(label, 44))}</text>'
                     f'<text x="{width}" y="{y + 11}" class="value" text-anchor="end">'
                     f"{esc(format_percent(counts.ratio))} · {format_number(counts.done)}/"
                     f"{format_number(counts.owed)}</text>"
                     f'<rect x="0" y="{y + 16}" width="{width}" height="{height}" class="open" rx="2"/>')
        left = 0.0
        for which, n in counts.by_official().items():
            part = max(0, n) / owed * width
            if part > 0:
                parts.append(f'<rect x="{left:.1f}" y="{y + 16}" width="{part:.1f}" height="{height}" '
                             f'class="c-{which.value}"/>')
            left += part
    total = max(len(rows), 1) * gap
    return (f'<svg class="bars" viewBox="0 0 {width} {total}" role="img" aria-label="{esc_attr(title)}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def _legend() -> str:
    return '<p class="legend">' + " ".join(
        f'<i class="c-{which.value}"></i>{esc(official_name(which))}' for which in OFFICIAL_CLASSES) + "</p>"


def _counts_data(counts: Counts) -> dict[str, int]:
    return {**counts.as_dict(), "done": counts.done}


def _backlog_html(backlog: Backlog, period: Period, overdue_now: int) -> str:
    if not backlog.items and not overdue_now:
        return ""
    line = ""
    if backlog.items:
        line = ngettext("⏳ Earlier periods: {n} item still overdue",
                        "⏳ Earlier periods: {n} items still overdue", backlog.items).format(
            n=format_number(backlog.items))
        line = (f'<p class="backlog" data-figure="backlog" data-value="{backlog.items}">'
                f"{esc(line)}</p>")
    button = _link(esc(_("⏰ All overdue items ({n})").format(
        n=format_number(backlog.items + overdue_now))), "overdue", "row wide", period=period.key)
    return line + f"<p>{button}</p>"


def trend_svg(line: TargetLine, title: str) -> str:
    """A small line of the average value per period, with the target as a dashed line; the
    vertical scale runs from 0 to the largest of the values and the target."""
    width, height, pad = 320, 80, 6
    points = line.trend
    top = max([line.target.value, *(v for _, v in points)]) or 1.0

    def y(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - value / top)

    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coords = [(pad + i * step, y(v)) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" class="point"><title>{esc(key)}: '
                   f"{esc(value_text(v, line.target.unit))}</title></circle>"
                   for (x, yy), (key, v) in zip(coords, points, strict=True))
    goal = y(line.target.value)
    return (f'<svg class="trend" viewBox="0 0 {width} {height}" role="img" aria-label="{esc_attr(title)}" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<line x1="0" y1="{goal:.1f}" x2="{width}" y2="{goal:.1f}" class="goal" stroke-dasharray="4 3"/>'
            f'<polyline points="{path}" class="value" fill="none"/>{dots}</svg>')


def _targets_html(lines: Sequence[TargetLine]) -> str:
    if not lines:
        return ""
    parts = [_h2(_("Numeric targets"))]
    for line in lines:
        row, standing = line.target, line.progress
        head = f"<b>{esc(clip(row.subject, 16))}</b> {esc(clip(row.text, 120))}"
        target = _("target {target} ({year})").format(target=target_text(row), year=row.year)
        if standing.average is None:
            figure = _("no value reported yet")
        else:
            figure = value_text(standing.average, row.unit)
            if standing.reporting > 1:
                figure += " · " + meeting_text(standing.reporting, standing.meeting)
        state = "" if standing.met is None else (" met" if standing.met else " unmet")
        body = f'<div class="target{state}" data-target="{esc_attr(row.subject)}"><p>{head}</p>' \
               f'<p class="pct">{esc(figure)} / {esc(target)}</p>'
        if line.trend:
            title = _("Trend of {code}").format(code=row.subject)
            body += trend_svg(line, title) + f'<p class="note">{trend_text(line)}</p>'
        parts.append(body + "</div>")
    return "".join(parts)


def _targets_data(lines: Sequence[TargetLine]) -> list[dict[str, Any]]:
    return [{"subject": t.target.subject, "year": t.target.year, "target": t.target.value,
             "unit": t.target.unit, "direction": t.target.direction, "value": t.progress.average,
             "reporting": t.progress.reporting, "meeting": t.progress.meeting, "met": t.progress.met,
             "trend": [{"period": key, "value": value} for key, value in t.trend]} for t in lines]


# --- pages ------------------------------------------------------------------------------------

def summary_page(summary: Summary) -> dict[str, Any]:
    """The period's figures for the person's scope, like /status: totals, the backlog of earlier
    periods, completion by axis and by agency level, the ranking."""
    rollup, key = summary.rollup, summary.rollup.period.key
    title = esc(_("Plan status — {period}").format(period=period_label(rollup.period)))
    subtitle = esc(_("Scope: {scope} · as of {date}").format(scope=clip(scope_label(summary.viewer), 300),
                                                           date=format_date(rollup.today)))
    owed_axes = [a for a in rollup.axes if a.counts.owed]
    axis_rows = "".join(_link(f"{a.number}. {esc(clip(axis_name(a.number, a.name), 120))} "
                              f'<span class="pct">{esc(format_percent(a.counts.ratio))}</span>',
                              "axis", period=key, n=a.number) for a in owed_axes)
    levels = [(level_name(level), counts) for level, counts in rollup.levels.items() if counts.owed]
    ranking = "".join(_link(esc(clip(a.name, 120)) + ' <span class="late-n">'
                            f"{format_number(a.counts.overdue)}</span>", "overdue_agency", period=key,
                            id=a.agency_id)
                      for a in rollup.most_overdue)
    body = [_head(title, subtitle), _periods(rollup.period, rollup.today), _tiles(rollup.totals),
            _backlog_html(summary.backlog, rollup.period, rollup.totals.overdue)]
    if rollup.totals.owed:
        body += [_h2(_('Completion by axis')),
                 bars_svg([(f"{a.number}. {axis_name(a.number, a.name)}", a.counts) for a in owed_axes],
                          _("Completion by axis")),
                 _legend(), f'<div class="list">{axis_rows}</div>',
                 _h2(_('Completion by agency level')),
                 bars_svg(levels, _("Completion by agency level"))]
    else:
        body.append(_note(_("Nothing is due in this period for your scope.")))
    if ranking:
        body += [_h2(_('Most overdue agencies')), f'<div class="list">{ranking}</div>']
    if summary.ranks:
        body.append("<p>" + _link(esc(_("🏆 Ranking of agencies")), "ranking", "row wide", period=key)
                    + "</p>")
    body.append(_targets_html(summary.targets))
    data = {"page": "summary", "period": key, "scope": summary.viewer.scope.key,
            "totals": _counts_data(rollup.totals),
            "axes": {str(a.number): _counts_data(a.counts) for a in rollup.axes},
            "levels": {level: _counts_data(c) for level, c in rollup.levels.items()},
            "backlog": {"items": summary.backlog.items},
            "most_overdue": [{"agency_id": a.agency_id, "name": a.name, "overdue": a.counts.overdue}
                             for a in rollup.most_overdue],
            "targets": _targets_data(summary.targets)}
    return {"data": data, "html": "".join(body)}


def _rank_table(page: RankingPage, level: str, table: Sequence[RankLine]) -> str:
    """One level's league table: position, agency (a link to its items), the on-time rate and
    the four classes (the chart's colours in the header, their names as its labels)."""
    key = page.period.key
    classes = "".join(f'<th class="n" scope="col" title="{esc_attr(official_name(which))}" '
                      f'aria-label="{esc_attr(official_name(which))}"><i class="swatch c-{which.value}">'
                      "</i></th>" for which in OFFICIAL_CLASSES)
    rate_name = _("On-time rate")
    head = (f'<thead><tr><th class="n" scope="col">#</th><th scope="col">{esc(_("Agency"))}</th>'
            f'<th class="n" scope="col" title="{esc_attr(rate_name)}">%</th>{classes}</tr></thead>')
    rows = []
    for line in table:
        counts = line.counts.by_official()
        figures = "".join(f'<td class="n c-{which.value}">{format_number(n)}</td>'
                          for which, n in counts.items())
        rate = "" if line.rate is None else f"{line.rate:.4f}"
        rows.append(f'<tr data-agency="{line.agency_id}" data-position="{line.position}" data-rate="{rate}">'
                    f'<td class="n">{format_number(line.position)}</td>'
                    f"<td>{_link(esc(clip(line.name, 120)), 'agency', 'name', period=key, id=line.agency_id)}"
                    f'</td><td class="n rate">{esc(rank_rate(line.rate))}</td>{figures}</tr>')
    return (f'<table class="rank" data-level="{esc_attr(level)}">{head}<tbody>{"".join(rows)}'
            "</tbody></table>")


def ranking_page(page: RankingPage) -> dict[str, Any]:
    """The league tables of the period (like with like: one per agency level), as /status's
    🏆 shows them: by the on-time rate, then fewer overdue items; ties share a position."""
    key = page.period.key
    title = esc(_("Ranking — {period}").format(period=period_label(page.period)))
    subtitle = esc(_("Scope: {scope} · as of {date}").format(scope=clip(scope_label(page.viewer), 300),
                                                           date=format_date(page.today)))
    body = [_back("summary", period=key), _head(title, subtitle),
            _periods(page.period, page.today, "ranking"),
            _note(_("By the on-time rate: items completed on time ÷ items completed or overdue (items "
                    "still within their deadline are not counted); then fewer overdue items."))]
    if not page.tables:
        body.append(_note(_("Nothing is due in this period for your scope.")))
    for level, table in page.tables.items():
        body.append(_h2(level_name(level) + " · " + ngettext("{n} agency", "{n} agencies", len(table)).format(
            n=format_number(len(table)))))
        body.append(_rank_table(page, level, table))
    if page.tables:
        body.append(_legend())
    data = {"page": "ranking", "period": key, "scope": page.viewer.scope.key,
            "tables": {level: [{"position": line.position, "agency_id": line.agency_id, "name": line.name,
                                "rate": line.rate, "owed": line.counts.owed,
                                **{which.value: n for which, n in line.counts.by_official().items()}}
                               for line in table] for level, table in page.tables.items()}}
    return {"data": data, "html": "".join(body)}


def axis_page(page: AxisPage) -> dict[str, Any]:
    rollup, key = page.rollup, page.rollup.period.key
    tasks = [t for t in rollup.tasks if t.axis_number == page.number]
    title = esc(f"{page.number}. {clip(axis_name(page.number, page.name), 200)}")
    subtitle = esc(_("{period} · scope: {scope}").format(period=period_label(rollup.period),
                                                         scope=clip(scope_label(page.viewer), 300)))
    owed = [t for t in tasks if t.counts.owed]
    rows = "".join(_link(f"<b>{esc(clip(t.code, 20))}</b> {esc(clip(t.text, 120))}"
                         f'<span class="pct">{esc(format_percent(t.counts.ratio))} · '
                         f"{format_number(t.counts.done)}/{format_number(t.counts.owed)}"
                         + (f' · <span class="late-n">{format_number(t.counts.overdue)}</span>'
                            if t.counts.overdue else "") + "</span>", "task", period=key, id=t.task_id)
                   for t in owed)
    body = [_back("summary", period=key), _head(title, subtitle)]
    axis = rollup.axis(page.number)
    if axis is not None:
        body.append(_tiles(axis.counts))
    if owed:
        body += [bars_svg([(t.code, t.counts) for t in owed], title), _legend(),
                 f'<div class="list">{rows}</div>']
    else:
        body.append(_note(_("Nothing is due in this period for your scope.")))
    data = {"page": "axis", "period": key, "axis": page.number,
            "tasks": {t.code: _counts_data(t.counts) for t in tasks}}
    return {"data": data, "html": "".join(body)}


def _agency_rows(period: Period, agencies: Sequence[AgencyLine]) -> str:
    rows = []
    for a in agencies:
        c = a.counts
        states = ", ".join(f"{esc(state_name(s))} {format_number(getattr(c, s))}"
                           for s in STATE_ORDER if getattr(c, s))
        late = _late_mark() if c.overdue else ""
        rows.append(_link(f"{esc(clip(a.name, 120))}<span class=\"pct\">{states}{late}</span>",
                          "agency", period=period.key, id=a.agency_id))
    return f'<div class="list">{"".join(rows)}</div>'


def task_page(page: TaskPage) -> dict[str, Any]:
    key = page.period.key
    done = sum(1 for a in page.agencies if a.counts.owed and a.counts.done == a.counts.owed)
    total = Counts()
    for a in page.agencies:
        total = total + a.counts
    title = f"<b>{esc(clip(page.code, 20))}</b> {esc(clip(page.text, 300))}"
    subtitle = esc(_("{period} · {done}/{owed} agencies done").format(
        period=period_label(page.period), done=done, owed=len(page.agencies)))
    body = [_back("axis", period=key, n=page.axis_number), _head(title, subtitle), _tiles(total)]
    if page.agencies:
        body.append(_agency_rows(page.period, page.agencies))
    else:
        body.append(_note(_("Nothing is due in this period for your scope.")))
    data = {"page": "task", "period": key, "task": page.code, "totals": _counts_data(total),
            "agencies": {str(a.agency_id): _counts_data(a.counts) for a in page.agencies}}
    return {"data": data, "html": "".join(body)}


def _item_rows(items: Sequence[ItemLine]) -> str:
    rows = []
    for item in items:
        late = _late_mark() if item.overdue else ""
        why = _("Reason: {reason}").format(reason=clip(item.reason, 200)) if item.reason else ""
        reason = f'<span class="reason">{esc(why)}</span>' if why else ""
        due = _("due {date}").format(date=format_date(item.due_on, "short"))
        rows.append(f'<button type="button" class="item s-{esc_attr(item.state)}" '
                    f'data-state="{esc_attr(item.state)}" data-nav="{_nav("history", id=item.item_id)}">'
                    f"<b>{esc(clip(item.task_code, 20))}</b> {esc(clip(item.task_text, 160))}"
                    f'<span class="pct">{esc(state_name(item.state))} · '
                    f"{esc(due)}{late}</span>"
                    f"{reason}</button>")
    return f'<div class="list">{"".join(rows)}</div>'


def _items_data(items: Sequence[ItemLine]) -> list[dict[str, Any]]:
    return [{"task": i.task_code, "period": i.period_key, "due_on": i.due_on.isoformat(),
             "state": i.state, "overdue": i.overdue} for i in items]


def agency_page(page: AgencyPage) -> dict[str, Any]:
    key = page.period.key
    body = [_back("summary", period=key),
            _head(esc(clip(page.name, 200)), esc(period_label(page.period))),
            _periods(page.period, page.period.start, "agency", id=page.agency_id)]
    body.append(_item_rows(page.items) if page.items else
                _note(_("Nothing is due in this period.")))
    every = _link(esc(_("⏰ Overdue items of every period")), "overdue_agency", "row wide", period=key,
                  id=page.agency_id)
    body.append(f"<p>{every}</p>")
    data = {"page": "agency", "period": key, "agency_id": page.agency_id, "items": _items_data(page.items)}
    return {"data": data, "html": "".join(body)}


def overdue_page(page: OverduePage) -> dict[str, Any]:
    key = page.period.key
    title = esc(_("Overdue items, every period — as of {date}").format(date=format_date(page.today)))
    subtitle = esc(_("Scope: {scope}").format(scope=clip(scope_label(page.viewer), 300)))
    nobody = _("nobody registered")
    rows = "".join(_link(esc(clip(a.name, 120)) + (f' <span class="pct">{esc(nobody)}</span>'
                                                    if not a.staffed else "")
                         + f' <span class="late-n">{format_number(a.overdue)}</span>',
                         "overdue_agency", period=key, id=a.agency_id) for a in page.agencies)
    body = [_back("summary", period=key), _head(title, subtitle),
            '<section class="tiles">' + _tile("overdue", _("Overdue"), page.items, "late") + "</section>"]
    body.append(f'<div class="list">{rows}</div>' if page.agencies else
                _note(_("Nothing is overdue in your scope.")))
    data = {"page": "overdue", "period": key, "items": page.items,
            "agencies": {str(a.agency_id): a.overdue for a in page.agencies}}
    return {"data": data, "html": "".join(body)}


def overdue_agency_page(page: OverdueAgencyPage) -> dict[str, Any]:
    key = page.period.key
    count = ngettext("{n} overdue item", "{n} overdue items", len(page.items)).format(
        n=format_number(len(page.items)))
    body = [_back("overdue", period=key), _head(esc(clip(page.name, 200)), esc(count))]
    body.append(_item_rows(page.items) if page.items else
                _note(_("Nothing is overdue any more.")))
    period_items = _link(esc(_("Items of the period")), "agency", "row wide", period=key, id=page.agency_id)
    body.append(f"<p>{period_items}</p>")
    data = {"page": "overdue_agency", "period": key, "agency_id": page.agency_id,
            "items": _items_data(page.items)}
    return {"data": data, "html": "".join(body)}



def history_page(history: ItemHistory, tz: tzinfo) -> dict[str, Any]:
    """One item's report versions, newest first (the chat's 📜 History, as a page)."""
    title = esc(_("History of {code} — {agency}").format(code=clip(history.code, 20),
                                                         agency=clip(history.agency, 200)))
    subtitle = esc(_("Period {period}, due {date}").format(period=history.period_key,
                                                           date=format_date(history.due_on)))
    body = [_back_to_previous(), _head(title, subtitle), f'<p>{esc(clip(history.task, 400))}</p>',
            f'<p class="pct">{esc(state_name(history.state))}</p>']
    if history.versions:
        body.append('<div class="list">' + "".join(
            f'<div class="item version">{version_lines(v, tz).replace(chr(10), "<br>")}</div>'
            for v in history.versions) + "</div>")
    else:
        body.append(_note(_("No report yet.")))
    data = {"page": "history", "item_id": history.item_id, "task": history.code, "state": history.state,
            "versions": [{"version": v.version, "state": v.state, "review_state": v.review_state}
                         for v in history.versions]}
    return {"data": data, "html": "".join(body)}
