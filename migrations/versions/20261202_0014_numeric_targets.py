"""numeric targets: a task's or a plan indicator's value per year, the values reported against
them, the admins' unconfirmed targets, and the value in a report draft

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sa.Text(), server_default='', nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'subject', 'year')
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_task_id'), ['task_id'], unique=False)
    op.create_table('target_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('period_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('target_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_value_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_value_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_value_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_value_target_id'), ['target_id'], unique=False)
    op.create_table('target_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('telegram_user_id')
    )
    with op.batch_alter_table('report_draft') as batch_op:
        batch_op.add_column(sa.Column('target_value', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report_draft') as batch_op:
        batch_op.drop_column('target_value')
    op.drop_table('target_draft')
    with op.batch_alter_table('target_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_value_target_id'))
        batch_op.drop_index(batch_op.f('ix_target_value_item_id'))
        batch_op.drop_index(batch_op.f('ix_target_value_created_at'))
        batch_op.drop_index(batch_op.f('ix_target_value_agency_id'))
    op.drop_table('target_value')
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_task_id'))
        batch_op.drop_index(batch_op.f('ix_target_plan_id'))
    op.drop_table('target')
