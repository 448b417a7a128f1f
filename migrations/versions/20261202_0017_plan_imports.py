"""plan documents sent to the bot: the file, the plan read from it and the preview shown

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 08:00:00

One row per document an administrator sends in the private chat (models/plan_imports.py):
asked ("a plan or evidence?"), previewed, applied or cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plan_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('parsed', sa.Text(), server_default='', nullable=False),
    sa.Column('preview', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_plan_import_telegram_user_id'), 'plan_import', ['telegram_user_id'], unique=False)
    op.create_index(op.f('ix_plan_import_state'), 'plan_import', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_plan_import_state'), table_name='plan_import')
    op.drop_index(op.f('ix_plan_import_telegram_user_id'), table_name='plan_import')
    op.drop_table('plan_import')
