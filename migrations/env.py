"""Alembic environment: the schema metadata of agentkeel is the target.

Run from the library (`agentkeel.adapters.sql.migrate`), which hands over a connection, or
from the `alembic` command with `sqlalchemy.url` (or AGENTKEEL_DATABASE_URL) set.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.adapters.sql.migrate import MIGRATION_LOCK, migrating
from agentkeel.schema import metadata
from agentkeel.schema.base import ExactJson, UtcDateTime


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Revisions spell our column types in plain SQLAlchemy, as each backend stores them, so
    they never depend on library code that may change after they are released."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(item, ExactJson):
        return 'sa.JSON(none_as_null=True).with_variant(sa.Text(), "sqlite")'
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = (
        os.environ.get("AGENTKEEL_DATABASE_URL")
        or context.config.get_main_option("sqlalchemy.url")
        or "agentkeel.db"
    )
    engine = create_database_engine(url)
    with engine.connect() as connection, migrating(connection):
        run(connection)
    engine.dispose()
