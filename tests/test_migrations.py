"""The schema is Alembic's: empty → head → base works, and head matches the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models.all_tables  # noqa: F401
from models.db import alembic_config, current_revision, downgrade, make_engine, schema_head, upgrade
from tests.conftest import BACKENDS, _pg_admin, _pg_url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    import uuid

    from sqlalchemy import text

    name = f"dondoc_m_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_upgrade_to_head_and_back_to_base(empty_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
    assert schema_head() == head  # the command line's quick reading of the chain agrees
    upgrade(empty_url)
    engine = make_engine(empty_url, pooled=False)
    assert current_revision(engine) == head
    assert {"plan", "task", "agency", "member", "audit_log"} <= set(inspect(engine).get_table_names())
    downgrade(empty_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_url)  # and up again: downgrades leave nothing behind that breaks an upgrade
    assert current_revision(engine) == head


def test_every_revision_steps_up_and_down(empty_url: str) -> None:
    """The stairway: each revision upgrades, downgrades one step, and upgrades again."""
    script = ScriptDirectory.from_config(alembic_config(empty_url))
    revisions = list(reversed(list(script.walk_revisions())))
    for rev in revisions:
        upgrade(empty_url, rev.revision)
        downgrade(empty_url, rev.down_revision or "base")  # type: ignore[arg-type]
        upgrade(empty_url, rev.revision)


def test_head_matches_the_models(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url, pooled=False)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
