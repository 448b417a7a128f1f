"""Shared set-up for the benchmarks: the repository on sys.path, scratch databases."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

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
