"""the plan a typed target is for (/targets with several plans in force)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('target_draft') as batch:
        batch.add_column(sa.Column('plan_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_target_draft_plan_id_plan', 'plan', ['plan_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('target_draft') as batch:
        batch.drop_constraint('fk_target_draft_plan_id_plan', type_='foreignkey')
        batch.drop_column('plan_id')
