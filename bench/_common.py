"""Shared set-up for the benchmarks: the repository on sys.path, scratch databases, the Bot
API stand-in in a process of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from sandbox.stub_botapi.records import Call  # noqa: E402

TOKEN = "123:ABC"

PG_ADMIN = os.environ.get("DONDOC_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_available() -> bool:
    try:
        engine = create_engine(make_url(PG_ADMIN).set(drivername="postgresql+psycopg"))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except SQLAlchemyError:  # unreachable or refused: the bench says so and leaves PG out
        return False


@contextmanager
def scratch_database(kind: str, workdir: Path) -> Iterator[str]:
    """A new empty database URL of ``kind`` ('sqlite' or 'postgres'), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return
    admin = create_engine(make_url(PG_ADMIN).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    name = f"dondoc_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class StubProcess:
    url: str
    calls_file: Path
    process: subprocess.Popen[str]
    token: str = TOKEN

    @property
    def control_url(self) -> str:
        """Root of the ``/control/<token>/`` endpoints (with ``control=True``)."""
        return f"{self.url}/control/{self.token}"

    def stop(self) -> list[Call]:
        """Stop the stand-in; the calls it answered."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)
        if not self.calls_file.exists():
            return []
        with self.calls_file.open(encoding="utf-8") as lines:
            return [Call(c["method"], {"chat_id": c["chat_id"]}, c["time"], c["status"])
                    for c in map(json.loads, lines)]


@contextmanager
def stub_process(workdir: Path, name: str, *, control: bool = False) -> Iterator[StubProcess]:
    """``python -m sandbox.stub_botapi`` in a process of its own (``--control``: with its
    control endpoints, see sandbox/stub_botapi/control.py), stopped afterwards."""
    calls = workdir / f"{name}.calls.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sandbox.stub_botapi", "--token", TOKEN, "--calls-out", str(calls)]
    process = subprocess.Popen([*command, *(["--control"] if control else [])], stdout=subprocess.PIPE,
                               text=True, cwd=ROOT, env=env)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError("the Bot API stand-in did not start")
    stub = StubProcess(url, calls, process)
    try:
        yield stub
    finally:
        stub.stop()
