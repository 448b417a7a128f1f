"""The command menu Telegram shows, in each language."""

from __future__ import annotations

from telegram import BotCommand

from domain.access import Action, Actor, allows
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
    ("calendar", N_("Your deadlines in your calendar app")),
    ("chart", N_("Completion chart")),
    ("export", N_("Export the period as a spreadsheet (leaders)")),
    ("broadcast", N_("Send an announcement (admins, coordinators)")),
    ("group", N_("Register this group (admins, in the group)")),
    ("groups", N_("The groups the bot is in (admins)")),
)


# What each command does in the access policy's terms (/help lists a command only to those the
# policy lets do it); None: any registered member; commands not listed are for everyone.
ACTIONS: dict[str, Action | None] = {
    "tasks": None, "calendar": None, "report": Action.REPORT, "review": Action.VIEW_REVIEWS, "cancel": None,
    "invite": Action.INVITE, "members": Action.MANAGE_MEMBERS, "event": Action.RECORD_EVENT,
    "status": Action.STATUS, "chart": Action.STATUS, "export": Action.EXPORT,
    "broadcast": Action.BROADCAST, "group": Action.MANAGE_GROUPS, "groups": Action.MANAGE_GROUPS,
}


def commands_for(role: str | None) -> list[tuple[str, str]]:
    """(command, untranslated description) pairs a member with ``role`` may use."""
    # Someone active with this role and an agency: what the policy allows by role alone.
    member = Actor(0, member_id=0, role=role, agency_id=0, active=True) if role else None

    def may(name: str) -> bool:
        if name not in ACTIONS:
            return True
        action = ACTIONS[name]
        return member is not None and (action is None or allows(member, action))

    return [(name, description) for name, description in MENU if may(name)]


def menu_for(language: str) -> list[BotCommand]:
    with use_locale(language):
        return [BotCommand(name, gettext(description)) for name, description in MENU]


def menus() -> dict[str, list[BotCommand]]:
    return {language: menu_for(language) for language in SUPPORTED}
