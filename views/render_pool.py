"""Heavy renders (the chart's PNG, the XLSX workbook, the official report's DOCX, and for the
last two the reading of their data: ``handlers.export``) in a worker process, when one is
started.

Handlers already run these renders off the event loop, in a thread; but a thread still holds
Python's GIL while matplotlib and openpyxl work, and the event loop, which answers everyone
else, waits for the GIL in turn: measured with bench/latency.py, /help's p95 went from 66 to
164 ms (2.5x) while one leader ran /export and /chart in a loop. In a process of its own the
render takes the other core and the bot's process stays free.

``start()`` is called by the running bot (``dondoc run``); without it (the CLI's one-off
export, tests) :func:`run` simply calls the function here. The worker is spawned (not forked:
the bot's process has threads) on the first heavy render and kept; each call carries the
caller's language, since the texts inside the file are translated where it is written.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from views.i18n import current_locale, use_locale

R = TypeVar("R")
log = logging.getLogger(__name__)

_lock = threading.Lock()
_enabled = False
_workers = 1
_pool: ProcessPoolExecutor | None = None


def start(workers: int = 1) -> None:
    """Render in worker processes from now on (the pool itself starts at its first use)."""
    global _enabled, _workers
    with _lock:
        _enabled, _workers = True, workers


def stop() -> None:
    global _enabled, _pool
    with _lock:
        pool, _pool, _enabled = _pool, None, False
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_language(language: str, payload: bytes) -> Any:
    fn, args = pickle.loads(payload)
    with use_locale(language):
        return fn(*args)


class _YieldingPickler(pickle.Pickler):
    """Calls back into Python for every object but plain scalars and containers, so that the
    interpreter may hand the GIL to the event loop between them: one C-level ``dumps`` of an
    export's 4,000 rows held it for 15-60 ms, during which no one else's reply could move."""

    def reducer_override(self, obj: Any) -> Any:
        return NotImplemented  # pickle it as usual


def _payload(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    """Pickled here, in the caller's thread, in yielding steps; the pool's feeder thread then
    only copies bytes."""
    buffer = io.BytesIO()
    _YieldingPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((fn, args))
    return buffer.getvalue()


def _lower_priority() -> None:
    """In the worker: a render is background work; when the cores are busy the system gives
    them to the bot's event loop first (people's replies), then to the charts and workbooks."""
    with contextlib.suppress(OSError, AttributeError):  # not on every system
        os.nice(10)


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(_workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_lower_priority)
        return _pool


def run(fn: Callable[..., R], *args: Any) -> R:
    """``fn(*args)`` in the worker process if started, else here; blocking (call it from a
    thread, as handlers do with ``run_sync``). ``fn`` and its arguments must pickle."""
    if not _enabled:
        return fn(*args)
    language = current_locale()
    try:
        result: R = _get_pool().submit(_in_language, language, _payload(fn, args)).result()
        return result
    except BrokenProcessPool:  # the worker died (killed, out of memory): a new one next time
        global _pool
        with _lock:
            _pool = None
        log.warning("render worker died; rendering %s here", getattr(fn, "__name__", fn))
        return fn(*args)
