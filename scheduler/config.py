"""Markers the running bot sets for its next tick."""

from __future__ import annotations

from scheduler.context import BotData


def mark_items_dirty(data: BotData) -> None:
    """Something changed the deadlines (an event was recorded): re-sync items at the next tick."""
    data.items_dirty = True
