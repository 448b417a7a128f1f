"""extension requests: an item keeps its first due date; requests, decisions and their drafts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('item') as batch_op:
        batch_op.add_column(sa.Column('original_due_on', sa.Date(), nullable=True))
    op.create_table(
        'extension_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('due_on_before', sa.Date(), nullable=False),
        sa.Column('requested_due_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_due_on', sa.Date(), nullable=True),
        sa.Column('decision_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['item.id']),
        sa.ForeignKeyConstraint(['requested_by'], ['member.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_extension_request_item_id', 'extension_request', ['item_id'])
    op.create_index('ix_extension_request_state', 'extension_request', ['state'])
    op.create_table(
        'extension_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('step', sa.String(length=16), nullable=False),
        sa.Column('requested_due_on', sa.Date(), nullable=True),
        sa.Column('reason', sa.Text(), server_default='', nullable=False),
        sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.ForeignKeyConstraint(['item_id'], ['item.id']),
        sa.ForeignKeyConstraint(['request_id'], ['extension_request.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('member_id'),
    )


def downgrade() -> None:
    op.drop_table('extension_draft')
    op.drop_index('ix_extension_request_state', table_name='extension_request')
    op.drop_index('ix_extension_request_item_id', table_name='extension_request')
    op.drop_table('extension_request')
    with op.batch_alter_table('item') as batch_op:
        batch_op.drop_column('original_due_on')
