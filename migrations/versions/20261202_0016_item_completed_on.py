"""items keep the local day they were completed (the official classes: on time or late)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 07:40:00

``item.completed_on``: the day (Asia/Ho_Chi_Minh) the report that marked the item done was
sent. Backfilled for the items reported or verified today from their current report (its
latest version). The roll-up's covering index gains the column, so /status still reads the
index alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_BATCH = 5000
_item = sa.table("item", sa.column("id", sa.Integer()), sa.column("state", sa.String()),
                 sa.column("completed_on", sa.Date()))
_report = sa.table("report", sa.column("item_id", sa.Integer()), sa.column("version", sa.Integer()),
                   sa.column("state", sa.String()),
                   sa.column("created_at", models.types.UTCDateTime()))


def upgrade() -> None:
    with op.batch_alter_table('item') as batch_op:
        batch_op.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
        batch_op.drop_index('ix_item_period_rollup')
        batch_op.create_index('ix_item_period_rollup',
                              ['due_on', 'state', 'agency_id', 'task_id', 'completed_on'], unique=False)
    _backfill(op.get_bind())


def _backfill(bind: sa.Connection) -> None:
    """completed_on of each reported or verified item: the local day of its latest report."""
    latest = (sa.select(_report.c.item_id, sa.func.max(_report.c.version).label("version"))
              .group_by(_report.c.item_id).subquery("latest"))
    query = (sa.select(_report.c.item_id, _report.c.created_at)
             .join(latest, sa.and_(latest.c.item_id == _report.c.item_id,
                                   latest.c.version == _report.c.version))
             .join(_item, _item.c.id == _report.c.item_id)
             .where(_item.c.state.in_(("reported", "verified")), _report.c.state == "done"))
    rows = [{"item": item_id, "day": created_at.astimezone(_TZ).date()}
            for item_id, created_at in bind.execute(query)]
    update = (_item.update().where(_item.c.id == sa.bindparam("item"))
              .values(completed_on=sa.bindparam("day")))
    for start in range(0, len(rows), _BATCH):
        bind.execute(update, rows[start:start + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table('item') as batch_op:
        batch_op.drop_index('ix_item_period_rollup')
        batch_op.create_index('ix_item_period_rollup', ['due_on', 'state', 'agency_id', 'task_id'],
                              unique=False)
        batch_op.drop_column('completed_on')
