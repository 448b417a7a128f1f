"""What group chats are told: the bot's greeting, /group's questions and summary, /groups' list."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.groups import Chosen, GroupLine, Started
from models.tables import ChatPurpose
from views.callbacks import GroupClass, GroupLanguage, GroupPurpose
from views.html import clip, clip_html, esc
from views.i18n import N_, SUPPORTED
from views.i18n import gettext as _
from views.screen import Screen

PURPOSE_LABELS = {
    ChatPurpose.FOCAL_POINTS.value: N_("All focal points"),
    ChatPurpose.AGENCY_CLASS.value: N_("An agency class"),
    ChatPurpose.AGENCY.value: N_("One agency"),
    ChatPurpose.LEADERS.value: N_("Leaders"),
}
LANGUAGE_LABELS = {"vi": "Tiếng Việt", "en": "English"}


def hello(bot_username: str | None) -> Screen:
    """When the bot is added to a group."""
    return Screen(_("Hello! I am dondoc, the reminder bot for the provincial plan's tasks.\n"
                    "A dondoc administrator can register this group with /group@{bot}: what it is for "
                    "and its language. Here I answer only commands addressed to me.").format(
        bot=bot_username or "dondoc"))


def purpose_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(_(label), callback_data=GroupPurpose(purpose).pack())]
                                 for purpose, label in PURPOSE_LABELS.items()])


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(LANGUAGE_LABELS[lang],
                                                       callback_data=GroupLanguage(lang).pack())
                                  for lang in SUPPORTED]])


def started(start: Started) -> Screen:
    """The answer to /group in a group."""
    name = esc(clip(start.name, 200))
    if start.outcome == "unknown":
        return Screen(_("No agency or agency class is called “{name}”.").format(name=name))
    if start.outcome == "named":
        return Screen(_("This group is for {name}. Its language?").format(name=name), language_keyboard())
    return Screen(_("What is this group for?"), purpose_keyboard())


def only_in_groups() -> Screen:
    return Screen(_("Send /group inside the group you want to register."))


def admins_only_register() -> Screen:
    return Screen(_("Only a dondoc administrator can register this group."))


def admins_only_button() -> Screen:
    text = _("Only a dondoc administrator can do this.")
    return Screen(text, toast=text, alert=True)


def admins_only_list() -> Screen:
    return Screen(_("Only a dondoc administrator can see the groups."))


def chosen(choice: Chosen, bot_username: str | None) -> Screen:
    """The next question after a /group button, or the registration."""
    if choice.outcome == "classes":
        rows = [[InlineKeyboardButton(clip(name, 60).strip() or "…",
                                      callback_data=GroupClass(class_id).pack())]
                for class_id, name in choice.classes]
        return Screen(_("Which agency class?"), InlineKeyboardMarkup(rows))
    if choice.outcome == "agency_hint":
        return Screen(_("Send /group@{bot} followed by the agency's code or name, e.g. /group@{bot} "
                        "SNV.").format(bot=bot_username or "dondoc"))
    if choice.outcome == "language":
        return Screen(_("Its language?"), language_keyboard())
    if choice.outcome == "done" and choice.group is not None:
        return Screen(summary(choice.group))
    return Screen(_("That choice is no longer valid. Send /group again."))


def summary(group: GroupLine) -> str:
    target = f" ({esc(clip(group.target, 200))})" if group.target else ""
    return _("Registered: {purpose}{target}, language {language}. Members of dondoc will get the "
             "group's announcements here.").format(
        purpose=_(PURPOSE_LABELS.get(group.purpose or "", "-")), target=target,
        language=LANGUAGE_LABELS.get(group.language or "", "-"))


def groups_list(lines: list[GroupLine]) -> Screen:
    """/groups: every group the bot knows, with what it is for (clipped to one message)."""
    if not lines:
        return Screen(_("The bot is in no group yet. Add it to a group, then send /group there."))
    out = ["<b>" + _("Groups") + "</b>"]
    for g in lines:
        if not g.active:
            state = _("removed")
        elif not g.can_post:
            state = _("cannot post")
        elif g.purpose is None:
            state = _("not registered")
        else:
            label = PURPOSE_LABELS.get(g.purpose)
            state = (_(label) if label else esc(g.purpose)) + (
                f" ({esc(clip(g.target, 100))})" if g.target else "")
        language = LANGUAGE_LABELS.get(g.language or "", "")
        title = esc(clip(g.title, 100)) or str(g.chat_id)
        out.append(f"• {title}: {state}" + (f", {language}" if language else ""))
    return Screen(clip_html("\n".join(out)))
