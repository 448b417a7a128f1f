"""The one label vocabulary: the names and icons of states, roles, agency levels and axes, the same
on every screen, in chat, charts and files. Anything that names one of these imports it from here."""

from __future__ import annotations

from views.i18n import N_, pgettext
from views.i18n import gettext as _

# Where an agency stands on one task for one period (models.tables.ItemState values).
STATE_NAMES = {
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "blocked": N_("Blocked"),
    "reported": N_("Done, awaiting verification"),
    "returned": N_("Returned"),
    "verified": N_("Verified"),
}
STATE_ICONS = {
    "not_started": "⚪",
    "in_progress": "🟡",
    "blocked": "🔴",
    "reported": "🔵",
    "returned": "🟠",
    "verified": "🟢",
}
# Chart colours of the same states (matplotlib colour names; one colour per icon above).
STATE_COLOURS = {
    "not_started": "#bdbdbd",
    "in_progress": "#fbc02d",
    "blocked": "#d32f2f",
    "reported": "#1976d2",
    "returned": "#f57c00",
    "verified": "#388e3c",
}

# The four official classes of a report to the Government and People's Committees
# (domain.official.OfficialClass values; their names: official_name).
OFFICIAL_ICONS = {
    "on_time": "✅",
    "late": "⌛",
    "within": "🔄",
    "overdue": "⏰",
}
# Chart colours of the classes: the Okabe-Ito palette (told apart with every common kind of
# colour blindness), with a hatch on the two late ones so they differ in grey too.
OFFICIAL_COLOURS = {
    "on_time": "#009E73",  # bluish green
    "late": "#E69F00",  # orange
    "within": "#56B4E9",  # sky blue
    "overdue": "#D55E00",  # vermillion
}
OFFICIAL_HATCHES = {"on_time": "", "late": "//", "within": "", "overdue": "xx"}

# What a focal point says in a report (models.tables.ReportState values).
REPORT_NAMES = {
    "done": N_("Done"),
    "in_progress": N_("In progress"),
    "blocked": N_("Blocked"),
}

EXPLANATION_STATES = {
    "open": N_("Not answered"),
    "answered": N_("Answered"),
    "withdrawn": N_("Withdrawn"),
}

# Where an extension request stands (models.tables.ExtensionState values).
EXTENSION_NAMES = {
    "pending": N_("waiting for a decision"),
    "approved": N_("approved"),
    "shortened": N_("approved with a shorter date"),
    "refused": N_("refused"),
    "withdrawn": N_("withdrawn (the task was finished)"),
}

ROLE_NAMES = {
    "focal_point": N_("focal point"),
    "coordinator": N_("coordinator"),
    "leader": N_("leader"),
    "admin": N_("administrator"),
}

LEVEL_NAMES = {
    "province": N_("Provincial People's Committee"),
    "department": N_("Departments"),
    "district": N_("Districts"),
    "commune": N_("Communes"),
    "other": N_("Other agencies"),
}

# The six PAPI axes by number; the Vietnamese catalog gives the plan's own wording.
AXIS_NAMES = {
    1: N_("Participation at local levels"),
    2: N_("Transparency"),
    3: N_("Vertical accountability"),
    4: N_("Control of corruption in the public sector"),
    5: N_("Public administrative procedures"),
    6: N_("Public service delivery"),
}


def state_name(state: str) -> str:
    return _(STATE_NAMES[state]) if state in STATE_NAMES else state


def state_icon(state: str) -> str:
    return STATE_ICONS.get(state, "•")


def state_label(state: str, percent: int | None = None) -> str:
    """The state's name, with the percent for work in progress."""
    if state == "in_progress" and percent is not None:
        return _("In progress {percent}%").format(percent=percent)
    return state_name(state)


def official_name(which: str) -> str:
    """The class's name as reports print it (its own context: "Overdue" as a class reads
    "Quá hạn (chưa hoàn thành)", unlike the overdue figure elsewhere)."""
    names = {"on_time": pgettext("official class", "Completed on time"),
             "late": pgettext("official class", "Completed late"),
             "within": pgettext("official class", "In progress, within the deadline"),
             "overdue": pgettext("official class", "Overdue")}
    return names.get(which, which)


def official_icon(which: str) -> str:
    return OFFICIAL_ICONS.get(which, "•")


def report_name(state: str) -> str:
    return _(REPORT_NAMES[state]) if state in REPORT_NAMES else state


def explanation_state(state: str) -> str:
    """An explanation request's state, as the exports name it."""
    return _(EXPLANATION_STATES[state]) if state in EXPLANATION_STATES else state


def extension_name(state: str) -> str:
    return _(EXTENSION_NAMES[state]) if state in EXTENSION_NAMES else state


def extension_decision(state: str) -> str:
    """An extension request's decision as a report's or a sheet's cell ("Đã chấp thuận"): the
    same words as in chat, with a capital."""
    name = extension_name(state)
    return name[:1].upper() + name[1:]


def role_name(role: str) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def level_name(level: str) -> str:
    return _(LEVEL_NAMES.get(level, LEVEL_NAMES["other"]))


# Plan 916's axes as its document names them: only these are the axes AXIS_NAMES translate (another
# plan's axis 1 is its own, and keeps the name its document gives).
PLAN916_AXES = {1: "Tham gia của người dân ở cấp cơ sở", 2: "Công khai, minh bạch",
                3: "Trách nhiệm giải trình với người dân", 4: "Kiểm soát tham nhũng trong khu vực công",
                5: "Thủ tục hành chính công", 6: "Cung ứng dịch vụ công"}


def axis_name(number: int, fallback: str = "") -> str:
    """The axis's name in the reader's language: Plan 916's six axes translated, any other
    plan's axis as its document names it (``fallback``)."""
    if fallback and " ".join(fallback.split()).casefold() != PLAN916_AXES.get(number, "").casefold():
        return fallback
    return _(AXIS_NAMES[number]) if number in AXIS_NAMES else fallback


# The fields of a plan, its axes and its tasks that an import may change (models.registry).
FIELD_NAMES = {
    "title": N_("title"),
    "issued_on": N_("issue date"),
    "active_from": N_("start"),
    "name": N_("name"),
    "position": N_("position"),
    "row": N_("row"),
    "content": N_("content"),
    "task": N_("task text"),
    "timeframe": N_("timeframe"),
    "cadence": N_("cadence"),
    "note": N_("note"),
    "coordination_note": N_("coordination note"),
    "due_on": N_("due date"),
    "expected_output": N_("expected output"),
    "lead": N_("lead agencies"),
    "coordinating": N_("coordinating agencies"),
}


def field_name(field: str) -> str:
    return _(FIELD_NAMES[field]) if field in FIELD_NAMES else field
