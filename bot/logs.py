"""Logging: plain text or one JSON object per line (``DONDOC_LOG_FORMAT=json``), each record
carrying the update id being handled (and a ledger key when the dispatcher logs one)."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from telegram import Update

current_update_id: ContextVar[int | None] = ContextVar("current_update_id", default=None)

_EXTRA_FIELDS = ("ledger_key", "chat_id", "instance")


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "update_id"):
            record.update_id = current_update_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is not None:
            payload["update_id"] = update_id
        for name in _EXTRA_FIELDS:
            if hasattr(record, name):
                payload[name] = getattr(record, name)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [update %(update_id)s]: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# Runs before the locale pre-handler (group -100) and everything else.
UPDATE_ID_GROUP = -101


async def remember_update(update: object, _context: object) -> None:
    """Log lines written while this update is handled carry its id (a ContextVar: each update's own)."""
    if isinstance(update, Update):
        current_update_id.set(update.update_id)
