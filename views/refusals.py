"""The answers every button kind shares when it must change nothing: the button is stale,
forged or malformed ("this has changed"), or the presser may not do it ("not allowed")."""

from __future__ import annotations

from views.i18n import gettext as _
from views.screen import Screen


def changed() -> Screen:
    """A button no handler can act on any more (stale, forged, malformed): a toast, no change."""
    return Screen(_("This has changed since the button was shown. Nothing was done."),
                  toast=_("This has changed since the button was shown. Nothing was done."))


def not_allowed() -> Screen:
    """The presser may not do this (not a member, wrong role, outside their scope)."""
    return Screen(_("Not allowed."), toast=_("Not allowed."), alert=True)


def slow_down(cooldown_seconds: int) -> Screen:
    """Too many messages or taps in a minute: said once, then the sender is ignored a while."""
    text = _("Too many messages at once. Please wait {seconds} seconds, then try again.").format(
        seconds=cooldown_seconds)
    return Screen(text, toast=text)
