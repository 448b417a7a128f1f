"""/help, /language and the welcome texts, per role: three lines on what to do, then only the
commands the person's role may use (``views.menus.commands_for``, from the access policy)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from views.callbacks import LanguageChoice
from views.html import clip, esc
from views.i18n import N_
from views.i18n import gettext as _
from views.labels import role_name
from views.menus import commands_for
from views.screen import Screen

# Three lines for someone new in each role: what the bot does for them, what they do.
FIRST_STEPS: dict[str | None, tuple[str, str, str]] = {
    None: (N_("1. Ask the Department of Home Affairs (your coordinator) for an invitation link."),
           N_("2. Open the link: it registers you for your agency, in your role."),
           N_("3. Then I remind you here of your agency's deadlines and you report to me.")),
    "focal_point": (
        N_("1. I remind you here before each deadline of your agency's tasks."),
        N_("2. Tap a task in a reminder (or send /report) and say where it stands: done, in "
           "progress or blocked, with the document number or a file."),
        N_("3. A coordinator verifies it; I tell you when it is verified, or returned and why.")),
    "leader": (
        N_("1. Every week I send you a digest of your agency and the units under it."),
        N_("2. /status shows where things stand, with what is overdue; the buttons go into the "
           "details down to each task."),
        N_("3. I tell you when your agency's items are late, and when its work is blocked and why.")),
    "coordinator": (
        N_("1. /review: verify the reports waiting for you, or return them with a reason."),
        N_("2. Overdue items reach you as one message per day, agency by agency; /status shows "
           "them all."),
        N_("3. /event records an approval or election that opens a deadline; /broadcast sends an "
           "announcement.")),
    "admin": (
        N_("1. /invite makes invitation links for an agency and a role."),
        N_("2. /members moves, changes or deactivates members; /audit shows who did what."),
        N_("3. Add me to a group and send /group there (addressed to me) to register it.")),
}

LANGUAGES = (("vi", "🇻🇳 Tiếng Việt"), ("en", "🇬🇧 English"))


def help_screen(role: str | None) -> Screen:
    """/help: three first steps for the role, then its commands (``None``: not registered)."""
    steps = FIRST_STEPS.get(role, FIRST_STEPS[None])
    head = _("<b>dondoc</b> keeps the plan's task registry and reminds each agency before its "
             "deadlines.")
    if role is not None:
        head += " " + _("You are registered as {role}.").format(role=esc(role_name(role)))
    commands = [f"/{name} – {esc(_(description))}" for name, description in commands_for(role)]
    text = "\n".join([head, "", *(_(line) for line in steps), "", _("<b>Your commands</b>"), *commands])
    return Screen(text)


def welcome_text(role: str, name: str, agency: str) -> str:
    """Said once a member is registered: who they are now, and what the bot will do for them."""
    steps = FIRST_STEPS.get(role, FIRST_STEPS[None])
    head = _("Welcome, {name}! You are now registered for <b>{agency}</b> as {role}.").format(
        name=esc(clip(name, 100)), agency=esc(clip(agency, 200)), role=esc(role_name(role)))
    return "\n".join([head, "", *(_(line) for line in steps), "", _("Send /help to see your commands.")])


def greeting_text(role: str, name: str, agency: str) -> str:
    """/start for someone registered: who they are, the first of their steps."""
    head = _("Hello, {name}! You are registered for <b>{agency}</b> as {role}.").format(
        name=esc(clip(name, 100)), agency=esc(clip(agency, 200)), role=esc(role_name(role)))
    return "\n".join([head, _(FIRST_STEPS.get(role, FIRST_STEPS[None])[0]),
                      _("Send /help to see your commands.")])


def unknown_command_screen(command: str) -> Screen:
    """A command nobody handles, in a private chat: say so, and where the list is."""
    return Screen(_("I do not know the command {command}. Send /help to see yours.").format(
        command=esc(clip(command, 64))))


def deactivated_text() -> str:
    return _("Your membership has been deactivated, so I do not remind you or take your reports "
             "any more. Ask an administrator if you need it back.")


# --- /language ----------------------------------------------------------------------------------

def language_screen(current: str) -> Screen:
    """The choice, with the current language marked."""
    buttons = [[InlineKeyboardButton(("✅ " if code == current else "") + label,
                                     callback_data=LanguageChoice(code).pack())]
               for code, label in LANGUAGES]
    return Screen(_("Which language should I use with you? Now: {language}.").format(
        language=dict(LANGUAGES)[current].split(" ", 1)[1]), InlineKeyboardMarkup(buttons))


def language_set_screen(language: str) -> Screen:
    """Said in the new language once it is stored."""
    text = _("Done: I will speak {language} with you from now on.").format(
        language=dict(LANGUAGES)[language].split(" ", 1)[1])
    return Screen(text, toast=text)


def members_only_language() -> Screen:
    text = _("Your choice of language is kept for registered members. Until then I follow your "
             "Telegram's language.")
    return Screen(text, toast=text)


# --- groups ---------------------------------------------------------------------------------------

def go_private(command: str, username: str | None) -> str:
    """A personal command sent in a group: where to do it instead (a deep link that opens the
    private chat with /help)."""
    link = f"https://t.me/{username}?start=help" if username else "https://t.me/"
    return _("/{command} is personal: it works in a private chat with me. Open {link} and send "
             "/{command} there.").format(command=esc(command), link=esc(link))
