"""What /members and /invite show: the member list and card, the agency picker, the role and
uses choices, the confirmations, the invitation link and the admins' refusals. Views take the
plain data of ``models.admin`` and return a Screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.admin import (
    PAGE_SIZE,
    USES_CHOICES,
    Confirm,
    Invited,
    InviteStep,
    MemberCard,
    MembersPage,
    Picker,
    RoleChoice,
)
from models.members import ROLES, MemberView
from views.callbacks import (
    CallbackData,
    InviteAgency,
    InvitePage,
    InviteRole,
    InviteUses,
    MemberDeactivate,
    MemberDeactivateConfirm,
    MemberMove,
    MemberMoveConfirm,
    MemberMoveTo,
    MemberReactivate,
    MemberReactivateConfirm,
    MemberRole,
    MemberRoleConfirm,
    MemberRoleTo,
    MemberShow,
    MembersList,
)
from views.html import clip, clip_html, esc
from views.i18n import format_datetime, ngettext
from views.i18n import gettext as _
from views.labels import role_name
from views.screen import Screen


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(clip(text, 60).strip() or "…", callback_data=data.pack())


# --- refusals -----------------------------------------------------------------------------

def changed() -> Screen:
    """The member or agency changed since the button was shown: an alert, nothing done."""
    text = _("This has changed in the meantime; nothing was done. Please open the list again.")
    return Screen(text, toast=text, alert=True)


def admins_only_invite() -> Screen:
    return Screen(_("Only administrators can invite people."))


def admins_only_members() -> Screen:
    return Screen(_("Only administrators can manage members."))


def private_only(username: str | None) -> Screen:
    link = f"https://t.me/{username}" if username else ""
    return Screen(_("Please use this command in a private chat with me: {link}").format(link=esc(link)))


# --- the agency picker --------------------------------------------------------------------

def _picker_rows(picker: Picker, choose: Callable[[int], CallbackData],
                 turn: Callable[[int], CallbackData]) -> list[list[InlineKeyboardButton]]:
    rows = [[button(a.name, choose(a.agency_id))] for a in picker.agencies]
    nav = []
    if picker.page > 0:
        nav.append(button("‹", turn(picker.page - 1)))
    if picker.pages > 1:
        nav.append(button(f"{picker.page + 1}/{picker.pages}", turn(picker.page)))
    if picker.page < picker.pages - 1:
        nav.append(button("›", turn(picker.page + 1)))
    return [*rows, nav] if nav else rows


# --- /invite ------------------------------------------------------------------------------

def invite_agencies(picker: Picker) -> Screen:
    rows = _picker_rows(picker, InviteAgency, InvitePage)
    return Screen(_("New invitation. Which agency is it for?"), InlineKeyboardMarkup(rows))


def invite_roles(step: InviteStep) -> Screen:
    rows = [[button(role_name(role), InviteRole(step.agency.agency_id, role))] for role in ROLES]
    rows.append([button(_("« Back"), InvitePage(0))])
    return Screen(_("Invitation to <b>{agency}</b>. Which role?").format(
        agency=esc(clip(step.agency.name, 200))), InlineKeyboardMarkup(rows))


def invite_uses(step: InviteStep) -> Screen:
    agency_id = step.agency.agency_id
    buttons = [button(str(n), InviteUses(agency_id, step.role, n)) for n in USES_CHOICES]
    rows = [buttons[:3], buttons[3:], [button(_("« Back"), InviteAgency(agency_id))]]
    return Screen(_("Invitation to <b>{agency}</b> as {role}. How many people may use the link?").format(
        agency=esc(clip(step.agency.name, 200)), role=role_name(step.role)), InlineKeyboardMarkup(rows))


def invited(done: Invited, bot_username: str | None, tz: tzinfo) -> Screen:
    link = f"https://t.me/{bot_username}?start={done.token}"
    text = ngettext(
        "Invitation to <b>{agency}</b> as {role}, for {n} person, valid until {until}:\n\n{link}\n\n"
        "Send this link to the person you invite; opening it registers them.",
        "Invitation to <b>{agency}</b> as {role}, for up to {n} people, valid until {until}:\n\n{link}\n\n"
        "Send this link to the people you invite; opening it registers them.",
        done.uses).format(agency=esc(clip(done.agency, 200)), role=role_name(done.role), n=done.uses,
                          link=esc(link), until=format_datetime(done.expires_at, tz, "short"))
    return Screen(text, toast=_("Invitation created."), edit=True)


# --- /members -----------------------------------------------------------------------------

def _who(view: MemberView) -> str:
    handle = f" @{esc(clip(view.username, 40))}" if view.username else ""
    return f"{esc(clip(view.full_name, 80)) or view.telegram_user_id}{handle}"


def _line(view: MemberView) -> str:
    state = "" if view.active else _(" (deactivated)")
    return _("{who} — {role}, {agency}{state}").format(
        who=_who(view), role=role_name(view.role), agency=esc(clip(view.agency or "-", 120)), state=state)


def members_page(page: MembersPage) -> Screen:
    if not page.total:
        return Screen(_("No members yet. Create an invitation with /invite."))
    first = page.page * PAGE_SIZE
    lines = [_("<b>Members</b> ({n}), page {page} of {pages}:").format(n=page.total, page=page.page + 1,
                                                                       pages=page.pages)]
    lines += [f"{first + i}. {_line(v)}" for i, v in enumerate(page.members, 1)]
    rows = [[button(f"{first + i}. {v.full_name or v.telegram_user_id}", MemberShow(v.id))]
            for i, v in enumerate(page.members, 1)]
    nav = [button("‹", MembersList(page.page - 1))] if page.page > 0 else []
    if page.page < page.pages - 1:
        nav.append(button("›", MembersList(page.page + 1)))
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup([*rows, nav] if nav else rows))


NOTICES = {"moved": lambda: _("Moved."), "role": lambda: _("Role changed."),
           "deactivated": lambda: _("Deactivated."), "reactivated": lambda: _("Reactivated.")}


def member_card(card: MemberCard) -> Screen:
    view = card.member
    text = _("<b>{name}</b>\nTelegram: {handle} (id {id})\nAgency: {agency}\nRole: {role}\n"
             "Status: {status}").format(
        name=esc(clip(view.full_name or "-", 200)),
        handle=f"@{esc(clip(view.username, 40))}" if view.username else "-",
        id=view.telegram_user_id, agency=esc(clip(view.agency or "-", 200)), role=role_name(view.role),
        status=_("active") if view.active else _("deactivated"))
    if view.active:
        rows = [[button(_("Move to another agency"), MemberMove(view.id, view.agency_id or 0, 0))],
                [button(_("Change role"), MemberRole(view.id, view.role))],
                [button(_("Deactivate"), MemberDeactivate(view.id))]]
    else:
        rows = [[button(_("Reactivate"), MemberReactivate(view.id))]]
    rows.append([button(_("« Back to the list"), MembersList(0))])
    notice = NOTICES[card.notice]() if card.notice in NOTICES else None
    return Screen(text, InlineKeyboardMarkup(rows), toast=notice)


def move_picker(picker: Picker) -> Screen:
    view = picker.member
    assert view is not None
    current = view.agency_id or 0
    rows = _picker_rows(picker, lambda a: MemberMoveTo(view.id, current, a),
                        lambda p: MemberMove(view.id, current, p))
    rows.append([button(_("« Back"), MemberShow(view.id))])
    return Screen(_("Move <b>{name}</b> to which agency?").format(name=esc(clip(view.full_name, 200))),
                  InlineKeyboardMarkup(rows))


def role_choice(choice: RoleChoice) -> Screen:
    view = choice.member
    rows = [[button(role_name(r), MemberRoleTo(view.id, view.role, r))] for r in ROLES if r != view.role]
    rows.append([button(_("« Back"), MemberShow(view.id))])
    return Screen(_("New role for <b>{name}</b>?").format(name=esc(clip(view.full_name, 200))),
                  InlineKeyboardMarkup(rows))


def confirm(asked: Confirm) -> Screen:
    view, name = asked.member, esc(clip(asked.member.full_name, 200))
    yes: CallbackData
    if asked.kind == "move":
        assert asked.agency is not None
        text = _("Move <b>{name}</b> to <b>{agency}</b>?").format(
            name=name, agency=esc(clip(asked.agency.name, 200)))
        yes = MemberMoveConfirm(view.id, view.agency_id or 0, asked.agency.agency_id)
    elif asked.kind == "role":
        text = _("Make <b>{name}</b> {role}?").format(name=name, role=role_name(asked.role))
        yes = MemberRoleConfirm(view.id, asked.current, asked.role)
    elif asked.kind == "deactivate":
        text = _("Deactivate <b>{name}</b>? They will get no more reminders and cannot report.").format(
            name=name)
        yes = MemberDeactivateConfirm(view.id)
    else:
        text = _("Reactivate <b>{name}</b>?").format(name=name)
        yes = MemberReactivateConfirm(view.id)
    return Screen(text, InlineKeyboardMarkup([[button(_("Confirm"), yes),
                                               button(_("Cancel"), MemberShow(view.id))]]))
