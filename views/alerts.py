"""What the admins are told about an unhandled error, and what the sender of a NUL sees."""

from __future__ import annotations

from views.html import esc
from views.i18n import format_number, ngettext
from views.i18n import gettext as _

MAX_DETAIL = 300  # characters of the error's message, clipped before escaping


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def error_alert_text(*, error_type: str, detail: str, update_id: int | None, suppressed: int,
                     interval_minutes: int) -> str:
    """One alert: the error, the update it came from, and how many of its kind were held back
    since the previous alert."""
    where = (_("update {id}").format(id=update_id) if update_id is not None
             else _("not from an update"))
    lines = [f"⚠️ {esc(_clip(error_type, 80))}: {esc(_clip(detail, MAX_DETAIL))} ({esc(where)})"]
    if suppressed:
        lines.append(ngettext(
            "{n} more error of this kind since the previous alert was not reported separately.",
            "{n} more errors of this kind since the previous alert were not reported separately.",
            suppressed).format(n=format_number(suppressed)))
    lines.append(ngettext("Errors of one kind are reported at most once every {n} minute.",
                          "Errors of one kind are reported at most once every {n} minutes.",
                          interval_minutes).format(n=interval_minutes))
    return "\n".join(lines)


def nul_refused_text() -> str:
    return _("Your message contains a NUL character (U+0000), which cannot be stored. Nothing was "
             "changed: please send it again without that character.")
