"""Driving the real bot as several people: the harness's :class:`~tests.bot_harness.Driver`
(kept under this name for the escalation, status, history, notice, language and group tests)."""

from __future__ import annotations

from tests.bot_harness import LAST_GROUP, Driver, data_with, driven

__all__ = ["LAST_GROUP", "Driver", "data_with", "driven"]
