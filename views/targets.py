"""What numeric targets look like to people: a value in its unit ("72,5%", "12 xã"), a target
("≥ 60%"), the /status lines of value against target with the trend per period, and the admins'
/targets list, preview and refusals."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.targets import PERCENT, Direction, TargetInputError
from models.registry import PlanOption
from models.targets import Added, Overview, PlanAsked, Preview, TargetError, TargetLine, TargetRow
from views import refusals
from views.callbacks import TargetConfirm, TargetDiscard, TargetDraftPlan, TargetsOfPlan
from views.html import clip, clip_html, esc
from views.i18n import format_decimal, format_number, ngettext
from views.i18n import gettext as _
from views.plans import plan_buttons, plan_lines
from views.screen import Screen

MAX_TREND = 8  # periods of a trend written out in chat (the latest ones)


def value_text(value: float, unit: str) -> str:
    """``72,5%`` (vi) / ``72.5%`` (en); ``12 xã``."""
    number = format_decimal(value)
    if unit == PERCENT:
        return f"{number}%"
    return f"{number} {unit}".strip()


def target_text(row: TargetRow) -> str:
    sign = "≤" if row.direction == Direction.AT_MOST else "≥"
    return f"{sign} {value_text(row.value, row.unit)}"


def _subject(row: TargetRow) -> str:
    return f"<b>{esc(clip(row.subject, 16))}</b>"


def trend_text(line: TargetLine) -> str:
    """The average value per period, oldest first: "2026-Q1 50% → 2026-Q2 65%"."""
    shown = line.trend[-MAX_TREND:]
    return " → ".join(f"{esc(key)} {value_text(value, line.target.unit)}" for key, value in shown)


def status_line(line: TargetLine) -> str:
    """ "🎯 5.2c: 72% / target ≥ 60% (2026) — average of 3 agencies' latest values, 2 meet it"."""
    row, standing = line.target, line.progress
    target = _("target {target} ({year})").format(target=target_text(row), year=row.year)
    if standing.average is None:
        return _("🎯 {subject}: no value reported yet / {target}").format(subject=_subject(row),
                                                                           target=target)
    mark = "✅" if standing.met else "⚠️"
    text = _("🎯 {subject}: {value} / {target} {mark}").format(
        subject=_subject(row), value=value_text(standing.average, row.unit), target=target, mark=mark)
    if standing.reporting > 1:
        text += "\n   " + meeting_text(standing.reporting, standing.meeting)
    if len(line.trend) > 1:
        text += "\n   " + _("Trend: {trend}").format(trend=trend_text(line))
    return text


def meeting_text(reporting: int, meeting: int) -> str:
    """Which figure the average is, and how many agencies meet the target."""
    return ngettext("average of the latest values of {n} agencies; {met} of them meets the target",
                    "average of the latest values of {n} agencies; {met} of them meet the target",
                    meeting).format(n=format_number(reporting), met=format_number(meeting))


def status_lines(lines: Sequence[TargetLine]) -> list[str]:
    """The /status block of the year's targets ("" lines: none)."""
    if not lines:
        return []
    return ["", _("<b>Numeric targets</b>"), *(status_line(line) for line in lines)]


# --- /targets (admins) -------------------------------------------------------------------------

def _row_line(row: TargetRow) -> str:
    source = _("from the plan") if row.source == "plan" else _("added by an admin")
    text = f" <i>{esc(clip(row.text, 80))}</i>" if row.text else ""
    return f"• {_subject(row)} {row.year}: {esc(target_text(row))} ({source}){text}"


def how_to_add() -> str:
    return _("To add one, send <code>/targets</code> followed by the task's code, the year and the "
             "value, e.g. <code>/targets 5.2c 2026 60%</code> (<code>≤</code> before the value for a "
             "ceiling, a word after it for another unit: <code>/targets 5.2d 2026 100 xã</code>).")


def _plan_line(number: str) -> list[str]:
    """The plan's line when several are in force (none with one)."""
    return [_("Plan: <b>{number}</b>").format(number=esc(clip(number, 64)))] if number else []


def overview_screen(overview: Overview) -> Screen:
    if overview.rows:
        head = _("<b>Numeric targets</b> ({n}):").format(n=format_number(len(overview.rows)))
        lines = [head, *_plan_line(overview.plan), *(_row_line(r) for r in overview.rows)]
    else:
        lines = [_("No numeric targets yet."), *_plan_line(overview.plan)]
    return Screen(clip_html("\n".join([*lines, "", how_to_add()])))


def plan_choice(plans: Sequence[PlanOption], year: int | None) -> Screen:
    """/targets with several plans in force: whose targets (a button a plan)."""
    lines = [_("Several plans are in force. Which plan's targets?"), "", *plan_lines(plans), "",
             _("Or name it after the command, e.g. <code>/targets {number}</code>.").format(
                 number=esc(clip(plans[0].number, 64)) if plans else "")]
    return Screen(clip_html("\n".join(lines)),
                  InlineKeyboardMarkup(plan_buttons(plans, lambda plan: TargetsOfPlan(plan, year or 0))))


def draft_plan_choice(asked: PlanAsked) -> Screen:
    """A typed target with several plans in force: which plan it is for."""
    lines = [_("Several plans are in force. Which plan is this target for?"), "", *plan_lines(asked.plans)]
    rows = plan_buttons(asked.plans, lambda plan: TargetDraftPlan(asked.draft_id, plan))
    rows.append([InlineKeyboardButton(_("✖ Cancel"), callback_data=TargetDiscard(asked.draft_id).pack())])
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(rows))


def preview_screen(preview: Preview) -> Screen:
    row = preview.row
    lines = [_("Add this target?"), *_plan_line(preview.plan),
             f"{_subject(row)} {row.year}: {esc(target_text(row))}"]
    if row.text:
        lines.append(f"<i>{esc(clip(row.text, 300))}</i>")
    buttons = [[InlineKeyboardButton(_("✅ Add it"), callback_data=TargetConfirm(preview.draft_id).pack()),
                InlineKeyboardButton(_("✖ Cancel"), callback_data=TargetDiscard(preview.draft_id).pack())]]
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(buttons))


def added_screen(added: Added) -> Screen:
    row = added.row
    text = _("✅ Target added: {subject} {year}: {target}.").format(
        subject=_subject(row), year=row.year, target=esc(target_text(row)))
    return Screen("\n".join([text, *_plan_line(added.plan)]))


def discarded_screen() -> Screen:
    return Screen(_("Nothing was added."))


def no_plan() -> Screen:
    return Screen(_("No plan is loaded yet."))


def admins_only() -> Screen:
    return Screen(_("Only administrators manage the plan's numeric targets."))


def input_refused(error: TargetInputError) -> Screen:
    """A typed target line that cannot be used: what is wrong, and the shape to send."""
    messages = {
        "format": _("I could not read that target."),
        "subject": _("That is not a task code (like 5.2c) or an indicator code (like CT1)."),
        "year": _("The year must be between 2000 and 2100."),
        "number": _("The value must be a number, e.g. 60 or 60.5."),
        "percent_range": _("A value in % must be between 0 and 100."),
        "negative": _("The value cannot be negative."),
        "too_large": _("That value is too large."),
        "unit": _("The unit must be % or a short word (at most 16 letters), e.g. xã."),
    }
    text = messages.get(error.code, messages["format"]) + " " + _("Nothing was added.")
    return Screen(text + "\n\n" + how_to_add())


def refused(error: TargetError) -> Screen:
    if error.code == "no_task":
        return Screen(_("The plan has no task {code}. Nothing was added.").format(
            code=esc(clip(str(error.values.get("subject", "")), 16))))
    if error.code == "duplicate":
        return Screen(_("That task already has a target for that year. Nothing was added; remove the "
                        "old one first (dondoc target remove {id}).").format(id=error.values.get("id", "")))
    return refusals.changed()


# --- the export's sheet ------------------------------------------------------------------------

def target_headers() -> list[str]:
    return [_("Code"), _("Task or indicator"), _("Year"), _("Target"), _("Value (average)"),
            _("Agencies reporting"), _("Agencies meeting the target"), _("Trend by period")]


def target_rows(lines: Sequence[TargetLine]) -> list[list[object]]:
    """One row per target: plain values (numbers as numbers), the trend as text."""
    rows: list[list[object]] = []
    for line in lines:
        row, standing = line.target, line.progress
        trend = " → ".join(f"{key} {value_text(value, row.unit)}" for key, value in line.trend)
        rows.append([row.subject, row.text, row.year, target_text(row),
                     standing.average if standing.average is not None else "", standing.reporting,
                     standing.meeting, trend])
    return rows
