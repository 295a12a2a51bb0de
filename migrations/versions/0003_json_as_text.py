"""json as text: on SQLite, the audit log's JSON payloads are stored as TEXT

A column typed JSON has NUMERIC affinity on SQLite, so a payload that was a bare number was
converted as it was written: `1.0` came back as `1`, `2**63` as a float, and `10**400` as
infinity, which no listing of the audit log could then read. As TEXT, the JSON text is kept
exactly as written (the library's column type `ExactJson` writes and reads it).

Upgrade copies the rows into TEXT columns. Payloads that SQLite had turned into INTEGER are
copied as their digits, which is JSON already; those it had turned into REAL are written
again from the stored number itself (SQLite's own REAL-to-TEXT keeps only 15 digits and
writes infinity as `Inf`, which is not JSON). An infinity cannot be told back into the
number it was, and becomes null, so that the log is readable again.

Downgrade turns the columns back into JSON, with SQLite's conversion of bare numbers.

PostgreSQL's `json` keeps the text it is given, so on PostgreSQL this revision does nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import json
import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_COLUMNS = ("event_data", "before_state", "after_state")


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    # Read before the copy, which would cast them to TEXT with 15 digits.
    reals = {
        name: connection.execute(
            sa.text(f"SELECT id, {name} FROM audit_logs WHERE typeof({name}) = 'real'")
        ).all()
        for name in JSON_COLUMNS
    }
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        for name in JSON_COLUMNS:
            batch_op.alter_column(
                name,
                existing_type=sa.JSON(none_as_null=True),
                type_=sa.Text(),
                existing_nullable=True,
            )
    for name, rows in reals.items():
        if rows:
            connection.execute(
                sa.text(f"UPDATE audit_logs SET {name} = :json WHERE id = :id"),
                [
                    {"id": key, "json": json.dumps(number) if math.isfinite(number) else None}
                    for key, number in rows
                ],
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        for name in reversed(JSON_COLUMNS):
            batch_op.alter_column(
                name,
                existing_type=sa.Text(),
                type_=sa.JSON(none_as_null=True),
                existing_nullable=True,
            )
