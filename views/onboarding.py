"""What joining says: the answers to ``/start <token>`` and to strangers' messages."""

from __future__ import annotations

from models.admin import Redeemed
from models.invitations import RedeemStatus
from views.help import welcome_text
from views.html import clip, esc
from views.i18n import gettext as _
from views.labels import role_name
from views.screen import Screen


def redeemed(result: Redeemed, full_name: str) -> Screen:
    agency = esc(clip(result.agency, 200))
    role = role_name(result.role) if result.role else ""
    if result.status is RedeemStatus.OK:  # what the bot will do for them, in their role
        return Screen(welcome_text(result.role, full_name, result.agency))
    if result.status is RedeemStatus.ALREADY_MEMBER:
        return Screen(_("You are already registered for <b>{agency}</b> as {role}; the link was not used."
                        ).format(agency=agency, role=role))
    return Screen(_REFUSALS[result.status]())


_REFUSALS = {
    RedeemStatus.DEACTIVATED: lambda: _(
        "Your membership has been deactivated. Ask an administrator if you need it back."),
    RedeemStatus.UNKNOWN: lambda: _(
        "This invitation link is not valid. Check that you opened the whole link, or ask the "
        "Department of Home Affairs for a new one."),
    RedeemStatus.EXPIRED: lambda: _(
        "This invitation link has expired. Ask the person who sent it for a new one."),
    RedeemStatus.USED_UP: lambda: _(
        "This invitation link has already been used as many times as allowed. Ask the person "
        "who sent it for a new one."),
    RedeemStatus.REVOKED: lambda: _(
        "This invitation link has been withdrawn. Ask the person who sent it for a new one."),
}


def stranger() -> Screen:
    return Screen(_("I can only help registered members. Ask the Department of Home Affairs "
                    "(your coordinator) for an invitation link, then open it here."))
