"""The four official classes of a task report (issue 13; Report 1270/BC-TCTTTg's counting).

Reports to the Government and the People's Committees put every owed item in one of four
classes: completed on time, completed late, not yet completed but within the deadline, and
overdue. dondoc derives them from the item's state, its due date in force (``item.due_on``:
an approved extension has already moved it) and the day the report that marked it done was
sent (``item.completed_on``, a local date).

* Completed = reported as done (still awaiting verification) or verified. "Returned" is not
  completed: the coordinator sent the report back.
* A completed item is on time iff it was completed on or before its due day. A completed item
  with no known completion day (none should remain after migration 0016's backfill) counts as
  on time: nothing says it was late.
* An item not completed is within the deadline up to and including its due day, overdue after.

The SQL form of the same rule is ``models.rollup.official_class_sql``; a test checks that the
two agree on every combination.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

# Item states (models.tables.ItemState values; domain cannot import models).
COMPLETED_STATES = ("reported", "verified")
AWAITING_VERIFICATION = "reported"


class OfficialClass(StrEnum):
    ON_TIME = "on_time"  # Hoàn thành đúng hạn
    LATE = "late"  # Hoàn thành quá hạn
    WITHIN = "within"  # Đang thực hiện trong hạn
    OVERDUE = "overdue"  # Quá hạn (chưa hoàn thành)


# The order reports list them in (and the charts stack them in).
OFFICIAL_CLASSES = (OfficialClass.ON_TIME, OfficialClass.LATE, OfficialClass.WITHIN,
                    OfficialClass.OVERDUE)


def is_completed(state: str) -> bool:
    return state in COMPLETED_STATES


def classify(state: str, due_on: date, completed_on: date | None, today: date) -> OfficialClass:
    """The official class of one item as of ``today`` (see the module's rules)."""
    if is_completed(state):
        if completed_on is None or completed_on <= due_on:
            return OfficialClass.ON_TIME
        return OfficialClass.LATE
    return OfficialClass.WITHIN if today <= due_on else OfficialClass.OVERDUE


def settled(on_time: int, late: int, overdue: int) -> int:
    """Items whose outcome is known: completed (on time or late) or overdue. Items still
    within their deadline are left out: they may yet be completed on time."""
    return on_time + late + overdue


def on_time_rate(on_time: int, late: int, overdue: int) -> float | None:
    """The ranking's rate: items completed on time among the settled items (completed or
    overdue; see :func:`settled`). None when nothing is settled yet (no rate to rank by)."""
    total = settled(on_time, late, overdue)
    return on_time / total if total else None
