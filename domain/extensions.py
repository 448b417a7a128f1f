"""The rules of extension requests ("đề nghị gia hạn"): when a focal point may ask for a later
due date, and which dates a coordinator may grant. Pure: the caller passes today, the date in
force and what the item already has; a refusal is an :class:`ExtensionRefused` whose ``reason``
the views turn into words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_REASON = 1000  # characters of a request's or a decision's reason
MAX_DAYS_AHEAD = 366  # no extension moves a due date more than a year past today


@dataclass(frozen=True)
class ExtensionLimits:
    """Settings DONDOC_EXTENSION_MAX_PER_ITEM and DONDOC_EXTENSION_LATEST_DAYS."""

    max_per_item: int = 2
    latest_days: int = 30  # how many days after the date in force a request may still come


class ExtensionRefused(ValueError):
    """Why a request or decision cannot be made. ``reason``: ``past`` (the date is before
    today), ``not_later`` (not after the date in force), ``too_far`` (more than a year ahead),
    ``pending`` (a request already waits), ``limit`` (``n``: the per-item limit), ``too_late``
    (``n``: days after the due date), ``closed`` (the item needs no more work), ``not_shorter``
    (a shortened date must lie between the date in force and the one asked for), ``not_date``
    (typed text that is no date), ``decided``
    (someone decided already), ``reason`` (an empty or too long reason), ``stale`` (the draft
    no longer matches)."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def check_may_ask(*, due_on: date, today: date, is_open: bool, pending: bool, earlier: int,
                  limits: ExtensionLimits) -> None:
    """May the agency ask at all for this item now? ``earlier``: its requests so far that count
    (every one but the withdrawn)."""
    if not is_open:
        raise ExtensionRefused("closed")
    if pending:
        raise ExtensionRefused("pending")
    if earlier >= limits.max_per_item:
        raise ExtensionRefused("limit", n=limits.max_per_item)
    if (today - due_on).days > limits.latest_days:
        raise ExtensionRefused("too_late", n=limits.latest_days)


def check_new_date(requested: date, *, due_on: date, today: date) -> None:
    """A date a focal point may ask for: not past, later than the date in force, within a year."""
    if requested < today:
        raise ExtensionRefused("past")
    if requested <= due_on:
        raise ExtensionRefused("not_later")
    if requested > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ExtensionRefused("too_far", n=MAX_DAYS_AHEAD)


def check_shortened(granted: date, *, due_on: date, requested: date, today: date) -> None:
    """A coordinator's shorter date: not past, after the date in force, before the one asked."""
    if granted < today:
        raise ExtensionRefused("past")
    if not due_on < granted < requested:
        raise ExtensionRefused("not_shorter")


def check_reason(text: str) -> str:
    """The reason as kept: trimmed, not empty, at most :data:`MAX_REASON` characters."""
    reason = text.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ExtensionRefused("reason", n=MAX_REASON)
    return reason
