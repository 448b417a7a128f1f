"""The command menus Telegram shows, and the commands /help lists: per role, in each language.

Which commands a role gets is the access policy's answer (``domain.access``), never a list of
its own: a command is listed for a role when the policy lets that role do what it does. The bot
sets the menu everyone sees (the commands of someone not registered) and, per member, a menu of
their own in their language (``BotCommandScopeChat``, see handlers/menus.py).
"""

from __future__ import annotations

from telegram import BotCommand

from domain.access import Action, Actor, allows
from views.i18n import N_, SUPPORTED, gettext, use_locale

EVERYONE = "everyone"  # a command for anyone, registered or not
MEMBERS = "members"  # any registered member

# (command, description, who) in menu order; ``who`` is an Action, a tuple of Actions (any of
# them), or EVERYONE / MEMBERS. Descriptions are translated when shown.
MENU: tuple[tuple[str, str, object], ...] = (
    ("start", N_("Start, or open an invitation"), EVERYONE),
    ("help", N_("What this bot can do for you"), EVERYONE),
    ("tasks", N_("Your agency's tasks and deadlines"), MEMBERS),
    ("report", N_("Report on a task"), Action.REPORT),
    ("review", N_("Verify reports"), Action.REVIEW),
    ("status", N_("Where the plan stands"), Action.STATUS),
    ("calendar", N_("Your deadlines in your calendar app"), MEMBERS),
    ("chart", N_("Completion chart"), Action.STATUS),
    ("export", N_("Export the period as a spreadsheet"), Action.EXPORT),
    ("report_doc", N_("The period's official report (Word)"), Action.EXPORT),
    ("event", N_("Record an approval or an election"), Action.RECORD_EVENT),
    ("broadcast", N_("Send an announcement"), Action.BROADCAST),
    ("cancel", N_("Stop what is in progress"), (Action.REPORT, Action.REVIEW, Action.RECORD_EVENT,
                                                 Action.BROADCAST)),
    ("invite", N_("Invite people to an agency"), Action.INVITE),
    ("members", N_("Manage members"), Action.MANAGE_MEMBERS),
    ("group", N_("Register a group (send it in the group)"), Action.MANAGE_GROUPS),
    ("groups", N_("The groups the bot is in"), Action.MANAGE_GROUPS),
    ("audit", N_("The audit log"), Action.AUDIT),
    ("targets", N_("The plan's numeric targets"), Action.MANAGE_TARGETS),
    ("language", N_("Choose your language"), EVERYONE),
)
# What a command is for someone who may see it but not do it (leaders look at the review queue).
LOOK_ONLY = {("review", Action.VIEW_REVIEWS): N_("Reports waiting for verification")}


def _member(role: str | None) -> Actor | None:
    # Someone active with this role and an agency: what the policy allows by role alone.
    return Actor(0, member_id=0, role=role, agency_id=0, active=True) if role else None


def commands_for(role: str | None) -> list[tuple[str, str]]:
    """(command, untranslated description) pairs a member with ``role`` may use (``None``:
    someone not registered)."""
    member = _member(role)
    found = []
    for name, description, who in MENU:
        if who == EVERYONE:
            found.append((name, description))
            continue
        if member is None:
            continue
        actions = who if isinstance(who, tuple) else (who,)
        if who == MEMBERS or any(isinstance(a, Action) and allows(member, a) for a in actions):
            found.append((name, description))
            continue
        look = next((text for (command, action), text in LOOK_ONLY.items()
                     if command == name and allows(member, action)), None)
        if look is not None:
            found.append((name, look))
    return found


def menu_for(language: str, role: str | None = None) -> list[BotCommand]:
    """The menu of ``role`` (None: not registered) in ``language``."""
    with use_locale(language):
        return [BotCommand(name, gettext(description)) for name, description in commands_for(role)]


def menus() -> dict[str, list[BotCommand]]:
    """Everyone's menu (someone not registered) in each language."""
    return {language: menu_for(language) for language in SUPPORTED}
