"""explanation requests ("yêu cầu giải trình") and their drafts; a change counter for them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 07:50:00

At most one open request per item (a partial unique index). The counter "explanations" moves
when a request opens, closes or its due day moves (as migration 0011's counters do), so the
planner re-plans their reminders only then (scheduler/jobs.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTER = "explanations"
TABLE = "explanation_request"
COLUMNS = ("state", "due_on", "item_id", "requested_by")


def _tables() -> None:
    op.create_table('explanation_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), server_default='', nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('answer_text', sa.Text(), server_default='', nullable=False),
    sa.Column('answer_file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('answer_file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('answer_file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('answer_mime_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by'], ['member.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_explanation_request_item_id'), 'explanation_request', ['item_id'], unique=False)
    op.create_index(op.f('ix_explanation_request_state'), 'explanation_request', ['state'], unique=False)
    op.create_index('ux_explanation_open_item', 'explanation_request', ['item_id'], unique=True,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_table('explanation_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['explanation_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id')
    )


def _sqlite_triggers() -> None:
    bump = f"BEGIN UPDATE change_counter SET value = value + 1 WHERE name = '{COUNTER}'; END"
    for event in ("INSERT", "DELETE"):
        op.execute(f"CREATE TRIGGER cc_{TABLE}_{event.lower()} AFTER {event} ON {TABLE} FOR EACH ROW {bump}")
    differs = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)
    op.execute(f"CREATE TRIGGER cc_{TABLE}_update AFTER UPDATE OF {', '.join(COLUMNS)} ON {TABLE} "
               f"FOR EACH ROW WHEN {differs} {bump}")


def _postgres_triggers() -> None:
    # dondoc_bump_change_counter() is migration 0011's.
    for event, ref in (("INSERT", "NEW"), ("DELETE", "OLD")):
        op.execute(f"CREATE TRIGGER cc_{TABLE}_{event.lower()} AFTER {event} ON {TABLE} "
                   f"REFERENCING {ref} TABLE AS changed FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION dondoc_bump_change_counter('{COUNTER}')")
    differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in COLUMNS)
    op.execute(f"""
        CREATE FUNCTION dondoc_cc_{TABLE}_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {differs}) THEN
                UPDATE change_counter SET value = value + 1 WHERE name = '{COUNTER}';
            END IF;
            RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER cc_{TABLE}_update AFTER UPDATE ON {TABLE} "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               f"EXECUTE FUNCTION dondoc_cc_{TABLE}_update()")


def upgrade() -> None:
    _tables()
    counter = sa.table('change_counter', sa.column('name', sa.String), sa.column('value', sa.BigInteger))
    op.bulk_insert(counter, [{"name": COUNTER, "value": 0}])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS cc_{TABLE}_{event}" + (f" ON {TABLE}" if postgres else ""))
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS dondoc_cc_{TABLE}_update()")
    op.execute(f"DELETE FROM change_counter WHERE name = '{COUNTER}'")
    op.drop_table('explanation_draft')
    op.drop_index('ux_explanation_open_item', table_name='explanation_request')
    op.drop_index(op.f('ix_explanation_request_state'), table_name='explanation_request')
    op.drop_index(op.f('ix_explanation_request_item_id'), table_name='explanation_request')
    op.drop_table('explanation_request')
