"""What the schedule was last built from, in the database: the change counters and the marks
the item sync and the planner leave in ``app_state``.

The counters (table ``change_counter``) are moved by triggers (migration 0011) whenever a
table the schedule depends on changes, in the writer's own transaction: the bot, the command
line or another instance. The sync and the planner record the counters they worked from; a
tick that finds the same counters, the same day and the same rules does nothing. Read the
counters *before* the work they guard: a change committed later moves them again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from models import app_state
from models.tables import AppState, ChangeCounter

REGISTRY, EVENTS, PEOPLE, ITEMS, CALENDAR = "registry", "events", "people", "items", "calendar"
EXPLANATIONS = "explanations"  # explanation requests opened or closed (migration 0015)
ITEMS_SYNCED = "items_synced"  # the item sync's mark: plan, day, registry and events counters
REMINDERS_PLANNED = "reminders_planned"  # the planner's mark: plan, day, every counter, rules


def counters(session: Session) -> dict[str, int]:
    """Every counter's current value (one small read)."""
    return {name: int(value) for name, value in
            session.exec(select(ChangeCounter.name, ChangeCounter.value))}


def mark(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(AppState, key)
    if row is None or not row.value:
        return None
    try:
        found = json.loads(row.value)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def set_mark(session: Session, key: str, value: dict[str, Any]) -> None:
    """Store ``value`` under ``key`` (an upsert: two instances may both write it)."""
    app_state.set_value(session, key, json.dumps(value, sort_keys=True))


def clear_mark(session: Session, key: str) -> None:
    row = session.get(AppState, key)
    if row is not None:
        session.delete(row)
        session.flush()
