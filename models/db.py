"""Engine, sessions and schema migrations.

The schema is owned by Alembic (``migrations/``): ``upgrade`` brings any database, empty or
old, to the current revision; nothing calls ``create_all`` outside tests of the models.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, create_engine

if TYPE_CHECKING:  # Alembic is imported by what migrates or checks the schema, not at start
    from alembic.config import Config

P = ParamSpec("P")
R = TypeVar("R")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives any crash of the process (what the ledger's guarantees are
    # about) and skips an fsync per commit; only a power loss may undo the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, pooled: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    ``pooled=False`` opens one connection per use (migrations, short CLI commands).
    """
    parsed = make_url(url)
    extra: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False}, **extra
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if pooled:
        extra = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    return create_engine(url, echo=echo, **extra)


class EngineRef:
    """An engine that travels to another process as its URL: there (the render worker, see
    views/render_pool.py) :meth:`get` opens an engine on the same database, one per process and
    URL; here it is the engine itself (an in-memory database included)."""

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url.render_as_string(hide_password=False)
        self._engine: Engine | None = engine

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url, self._engine = state["url"], None

    def get(self) -> Engine:
        if self._engine is None:
            self._engine = _engine_for(self.url)
        return self._engine


@functools.cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def run_sync(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run blocking database work off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def insert_ignore(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]],
                  unique: Sequence[str], *, chunk: int = 5000) -> int:
    """INSERT … ON CONFLICT (unique) DO NOTHING, in chunks; returns how many rows were new.

    Both SQLite and PostgreSQL support it, and it is what lets two instances plan the same
    rows at once without either failing or duplicating. The statement is compiled once and
    run with many parameter sets: SQLite through executemany (SQLAlchemy's "insertmanyvalues"
    batches), PostgreSQL as one ``INSERT … SELECT FROM unnest(arrays)`` per chunk. Rows given
    in one call may differ in their keys; each set of keys gets its statement."""
    added = 0
    for start in range(0, len(rows), chunk):
        added += insert_ignore_chunk(session, model, rows[start:start + chunk], unique)
    session.flush()
    return added


def insert_ignore_chunk(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]],
                        unique: Sequence[str]) -> int:
    """One chunk of :func:`insert_ignore` (the caller commits between chunks if it wants)."""
    if not rows:
        return 0
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_keys.setdefault(tuple(row), []).append(row)
    table = model.__table__  # type: ignore[attr-defined]
    added = 0
    for keys, group in by_keys.items():
        dialect = session.get_bind().dialect
        if dialect.name == "postgresql":
            statement = _unnest_insert(table, keys, tuple(unique), dialect)
            params = {f"p{i}": _array_parameter(table.c[k].type.bind_processor(dialect),
                                                [row[k] for row in group])
                      for i, k in enumerate(keys)}
            added += int(session.execute(statement, params).scalar_one())
        else:
            # Only inserted rows come back; rowcount is not reliable across drivers.
            insert = (sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique))
                      .returning(table.c[unique[0]]))
            added += len(session.execute(insert, group).all())
    return added


def _array_element(value: object) -> str | None:
    """``value`` in PostgreSQL's array literal syntax (None: not a plain scalar)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (date, datetime)):  # a datetime is aware here (UTCDateTime)
        return f'"{value.isoformat()}"'
    if isinstance(value, float):
        return repr(value)
    return None


def _array_parameter(process: Callable[[Any], Any] | None, values: list[Any]) -> Any:
    """One column of an unnest insert: the text of an array literal (``{1,2,NULL}``), each
    distinct value converted once. Building it is several times cheaper than letting the
    driver adapt a list of thousands of values one by one. Values of any other kind (bytes,
    …) go as a list."""
    try:
        distinct = set(values)
    except TypeError:  # unhashable: as a list
        distinct = None
    if distinct is not None:
        elements = {v: _array_element(v if v is None or process is None else process(v))
                    for v in distinct}
        if None not in elements.values():
            return "{" + ",".join(map(elements.__getitem__, values)) + "}"  # type: ignore[arg-type]
    return [None if v is None else process(v) for v in values] if process else values


_UNNEST: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _unnest_insert(table: Any, keys: tuple[str, ...], unique: tuple[str, ...], dialect: Any) -> Any:
    """INSERT INTO t (keys) SELECT * FROM unnest(CAST(:p0 AS type[]), …) ON CONFLICT DO NOTHING
    RETURNING 1, counted in the database (one row back, not one a row), built once per table
    and set of keys."""
    cache_key = (table.name, keys, unique)
    found = _UNNEST.get(cache_key)
    if found is None:
        arrays = ", ".join(f"CAST(:p{i} AS {table.c[k].type.compile(dialect=dialect)}[])"
                           for i, k in enumerate(keys))
        found = text(f"WITH added AS (INSERT INTO {table.name} ({', '.join(keys)}) "
                     f"SELECT * FROM unnest({arrays}) ON CONFLICT ({', '.join(unique)}) DO NOTHING "
                     "RETURNING 1) SELECT count(*) FROM added")
        _UNNEST[cache_key] = found
    return found


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


class SchemaMissing(ValueError):
    """The database has no schema, or an older one: `dondoc init` creates or upgrades it."""


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:'([^']+)'|(None))\s*$",
                            re.MULTILINE)


def schema_head() -> str | None:
    """The newest migration's revision, read from the two lines each migration file starts
    with, or None when they are anything but one plain chain (a merge, a tuple, a branch: then
    Alembic decides). Every command checks the schema; importing Alembic to read the chain
    costs 0.1-0.2 s of CPU, more than some commands' own work."""
    import migrations

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (Path(migrations.__file__).parent / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        found = {m.group(1): m.group(2) for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))}
        if "revision" not in found or "down_revision" not in found or found["revision"] is None:
            return None
        revisions.add(found["revision"])
        if found["down_revision"] is not None:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def require_schema(engine: Engine) -> None:
    """Refuse, with what to do, a database whose schema is not this version's."""
    revision = current_revision(engine)
    if revision is None:
        raise SchemaMissing("the database has no schema yet; run `dondoc init` first")
    head = schema_head()
    if head is None:
        from alembic.script import ScriptDirectory

        url = engine.url.render_as_string(hide_password=False)
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if revision != head:
        raise SchemaMissing(f"the database schema is at {revision}, this dondoc needs {head}; "
                            "run `dondoc init` to upgrade it")


@contextmanager
def existing_session(url: str) -> Iterator[Session]:
    """A session on a database `dondoc init` prepared, for one command (one connection,
    committed on success, closed after)."""
    engine = make_engine(url, pooled=False)
    try:
        require_schema(engine)
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else None
