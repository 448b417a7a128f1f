"""error alerts: one per kind of error per interval, across restarts and instances

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:44:59.666989
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('error_alert',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('last_alert_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suppressed', sa.Integer(), nullable=False),
    sa.Column('reported', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind')
    )


def downgrade() -> None:
    op.drop_table('error_alert')
