"""The command menu Telegram shows, in each language."""

from __future__ import annotations

from telegram import BotCommand

from views.i18n import N_, SUPPORTED, gettext, use_locale

# (command, description) in menu order; descriptions are translated when the menu is set.
MENU: tuple[tuple[str, str], ...] = (
    ("start", N_("Start, or open an invitation")),
    ("help", N_("What this bot can do")),
    ("tasks", N_("Your agency's tasks and deadlines")),
    ("report", N_("Report on a task (focal points)")),
    ("review", N_("Verify reports (coordinators)")),
    ("cancel", N_("Stop the report in progress")),
    ("invite", N_("Invite people to an agency (admins)")),
    ("members", N_("Manage members (admins)")),
    ("event", N_("Record an approval or an election (coordinators)")),
    ("status", N_("Where the plan stands")),
    ("chart", N_("Completion chart")),
    ("export", N_("Export the period as a spreadsheet (leaders)")),
    ("broadcast", N_("Send an announcement (admins, coordinators)")),
    ("group", N_("Register this group (admins, in the group)")),
    ("groups", N_("The groups the bot is in (admins)")),
)


FOCAL, COORD, LEADER, ADMIN = "focal_point", "coordinator", "leader", "admin"
MEMBERS = frozenset({FOCAL, COORD, LEADER, ADMIN})
# Who each command is for (/help lists only these); commands not listed are for everyone.
AUDIENCE: dict[str, frozenset[str]] = {
    "tasks": MEMBERS, "report": frozenset({FOCAL, ADMIN}), "review": frozenset({COORD, LEADER, ADMIN}),
    "cancel": MEMBERS, "invite": frozenset({ADMIN}), "members": frozenset({ADMIN}),
    "event": frozenset({COORD, ADMIN}), "status": MEMBERS, "chart": MEMBERS,
    "export": frozenset({LEADER, COORD, ADMIN}), "broadcast": frozenset({COORD, ADMIN}),
    "group": frozenset({ADMIN}), "groups": frozenset({ADMIN}),
}


def commands_for(role: str | None) -> list[tuple[str, str]]:
    """(command, untranslated description) pairs a member with ``role`` may use."""
    return [(name, description) for name, description in MENU
            if name not in AUDIENCE or (role is not None and role in AUDIENCE[name])]


def menu_for(language: str) -> list[BotCommand]:
    with use_locale(language):
        return [BotCommand(name, gettext(description)) for name, description in MENU]


def menus() -> dict[str, list[BotCommand]]:
    return {language: menu_for(language) for language in SUPPORTED}
