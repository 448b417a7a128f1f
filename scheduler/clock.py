"""The clock: the JobQueue jobs a running bot needs (it only wakes; the database says what to do)."""

from __future__ import annotations

from scheduler import broadcast_progress, jobs
from scheduler.context import BotApplication


def start(app: BotApplication) -> None:
    """The dispatcher's periodic tick and the live progress of broadcasts."""
    jobs.start(app)
    broadcast_progress.start(app)
