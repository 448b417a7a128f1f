"""a task's own due date (a one-off task, cadence "once") and its expected output

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('task') as batch:
        batch.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('expected_output', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('task') as batch:
        batch.drop_column('expected_output')
        batch.drop_column('due_on')
