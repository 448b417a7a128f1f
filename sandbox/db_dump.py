"""A full dump of a database, to prove that something changed nothing."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

import models.all_tables  # noqa: F401  (every table in the metadata)


def dump(engine: Engine) -> str:
    """Every row of every table, in key order: equal dumps are equal databases."""
    parts = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).all()
            parts.append(f"{table.name}: {[tuple(row) for row in rows]!r}")
    return "\n".join(parts)
