"""coordinating agencies' contributions to a lead's period, and their drafts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _file_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
            sa.Column('file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
            sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
            sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False)]


def upgrade() -> None:
    op.create_table('contribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    *_file_columns(),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contribution_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contribution_item_id'), ['item_id'], unique=False)
    op.create_table('contribution_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    *_file_columns(),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id')
    )


def downgrade() -> None:
    op.drop_table('contribution_draft')
    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contribution_item_id'))
        batch_op.drop_index(batch_op.f('ix_contribution_agency_id'))
    op.drop_table('contribution')
