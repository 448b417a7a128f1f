"""The bot process's heap at start-up (bot/app.py: freeze_heap)."""

from __future__ import annotations

import gc

from bot.app import freeze_heap


def test_start_up_objects_leave_the_collectors_sight() -> None:
    """What start-up made (modules, classes, mappers) is moved out of every later collection,
    so a full collection no longer walks it with the event loop stopped."""
    assert gc.get_freeze_count() == 0
    try:
        freeze_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 50_000  # this process's imported modules and their classes
        gc.collect()
        assert gc.get_freeze_count() == frozen  # a collection leaves them where they are
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
