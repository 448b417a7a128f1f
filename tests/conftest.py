"""Shared fixtures: a migrated database per test, on SQLite and (when
DONDOC_TEST_POSTGRES_URL is set) on PostgreSQL too.

Each backend is migrated once per session into a template (a file for SQLite, a template
database for PostgreSQL); every test gets a fresh copy, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from sandbox.status_data import load_plan916
from tests.stub_botapi.fixtures import stub_bot, stub_botapi  # noqa: F401

# PTB 22 warns (DeprecationWarning) when it builds RetryAfter unless told to use timedeltas;
# the suite turns warnings into errors, and the dispatcher handles both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")
from models.db import make_engine, upgrade

PG_ADMIN_URL = os.environ.get("DONDOC_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgres"] if PG_ADMIN_URL else ["sqlite"]


def _pg_admin() -> Engine:
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"dondoc_tpl_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url(name))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def pg_database(template_name: str) -> Iterator[str]:
    """A scratch PostgreSQL database copied from the migrated template; dropped afterwards."""
    name = f"dondoc_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a freshly migrated, empty database."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "dondoc.sqlite3"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    with pg_database(request.getfixturevalue("pg_template")) as url:
        yield url


@pytest.fixture(params=["postgres"] if PG_ADMIN_URL else [])
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database, for what only PostgreSQL can do (several instances)."""
    with pg_database(request.getfixturevalue("pg_template")) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def plan_engine(engine: Engine) -> Engine:
    """A database holding Plan 916 and Quang Ninh's agencies."""
    load_plan916(engine)
    return engine
