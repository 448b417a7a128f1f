"""change counters: what the planner and the item sync depend on, bumped by triggers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:20:00

Each counter moves when a table it watches changes (INSERT, DELETE, or an UPDATE of a column
that matters), in the same transaction, whoever writes: the bot, the command line, another
instance. The running bot compares them with the values it last planned with and re-plans only
when one moved (scheduler/jobs.py). SQLite: row triggers; PostgreSQL: statement triggers that
look at the transition tables, so a statement that changed nothing moves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (counter, the columns whose UPDATE counts; None: any column)
WATCHED: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "plan": ("registry", None),
    "task": ("registry", None),
    "assignment": ("registry", None),
    "agency": ("registry", None),
    "agency_class": ("registry", None),
    "agency_class_member": ("registry", None),
    "event": ("events", None),
    "milestone": ("events", None),
    "member": ("people", ("agency_id", "role", "active", "unreachable_at", "telegram_user_id")),
    "item": ("items", ("state", "due_on", "agency_id", "task_id", "created_at")),
    "calendar_day": ("calendar", None),
}
COUNTERS = ("registry", "events", "people", "items", "calendar")


def _sqlite_upgrade() -> None:
    for table, (counter, columns) in WATCHED.items():
        bump = f"BEGIN UPDATE change_counter SET value = value + 1 WHERE name = '{counter}'; END"
        for event in ("INSERT", "DELETE"):
            op.execute(f"CREATE TRIGGER cc_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"FOR EACH ROW {bump}")
        if columns is None:
            op.execute(f"CREATE TRIGGER cc_{table}_update AFTER UPDATE ON {table} FOR EACH ROW {bump}")
        else:
            differs = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
            op.execute(f"CREATE TRIGGER cc_{table}_update AFTER UPDATE OF {', '.join(columns)} "
                       f"ON {table} FOR EACH ROW WHEN {differs} {bump}")


def _postgres_upgrade() -> None:
    op.execute("""
        CREATE FUNCTION dondoc_bump_change_counter() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM changed) THEN
                UPDATE change_counter SET value = value + 1 WHERE name = TG_ARGV[0];
            END IF;
            RETURN NULL;
        END $$""")
    for table, (counter, columns) in WATCHED.items():
        for event, ref in (("INSERT", "NEW"), ("DELETE", "OLD")):
            op.execute(f"CREATE TRIGGER cc_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {ref} TABLE AS changed FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION dondoc_bump_change_counter('{counter}')")
        if columns is None:
            op.execute(f"CREATE TRIGGER cc_{table}_update AFTER UPDATE ON {table} "
                       "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION dondoc_bump_change_counter('{counter}')")
            continue
        differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns)
        op.execute(f"""
            CREATE FUNCTION dondoc_cc_{table}_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                           WHERE {differs}) THEN
                    UPDATE change_counter SET value = value + 1 WHERE name = '{counter}';
                END IF;
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER cc_{table}_update AFTER UPDATE ON {table} "
                   "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION dondoc_cc_{table}_update()")


def upgrade() -> None:
    op.create_table('change_counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    counter = sa.table('change_counter', sa.column('name', sa.String), sa.column('value', sa.BigInteger))
    op.bulk_insert(counter, [{"name": name, "value": 0} for name in COUNTERS])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (_, columns) in WATCHED.items():
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS cc_{table}_{event}" + (f" ON {table}" if postgres else ""))
        if postgres and columns is not None:
            op.execute(f"DROP FUNCTION IF EXISTS dondoc_cc_{table}_update()")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS dondoc_bump_change_counter()")
    op.drop_table('change_counter')
