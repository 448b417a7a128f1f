"""One process per SQLite file: a second `dondoc run` on the same file refuses to start.

SQLite cannot give two processes the row locks the dispatcher relies on; PostgreSQL can, so
there any number of instances may run. The lock file sits next to the database's real path
(symlinks resolved), so every name of one file shares one lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url


class InstanceLockError(RuntimeError):
    pass


class InstanceLock:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.path: Path | None = None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            # The file itself, not the way to it: a symlink, a relative path or ".." reaching
            # the same database must find the same lock.
            self.path = Path(f"{Path(str(url.database)).resolve()}.lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InstanceLockError(
                f"another dondoc instance is already running on {self.path.with_suffix('')}; "
                "SQLite allows one instance (use PostgreSQL to run several)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
