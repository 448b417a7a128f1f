"""reports keep the date of the document they cite; a report draft keeps the choices it asks

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('report') as batch_op:
        batch_op.add_column(sa.Column('document_date', sa.Date(), nullable=True))
    with op.batch_alter_table('report_draft') as batch_op:
        batch_op.add_column(sa.Column('document_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('choices', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('report_draft') as batch_op:
        batch_op.drop_column('choices')
        batch_op.drop_column('document_date')
    with op.batch_alter_table('report') as batch_op:
        batch_op.drop_column('document_date')
