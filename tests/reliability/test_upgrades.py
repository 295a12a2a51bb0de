"""Upgrades keep data: a database populated at each earlier revision (0001 to the one before
head), with rows in every table that revision has and a value in every column, upgraded to
head, holds every row with every value as it was written, reads back with every column at
head, opens (its schema checked against head) and passes `integrity_check`; on SQLite and
PostgreSQL.

The rows are written with the column types of the metadata at head (as this version's
library writes them), restricted to the tables and columns the revision has; foreign keys
point at the parent table's rows, enumerations take their allowed values, and unique
columns differ from row to row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.adapters.sql.inspection import read_live_connection
from agentkeel.database import Database
from agentkeel.schema import metadata
from agentkeel.schema.base import ExactJson, UtcDateTime
from tests.conftest import POSTGRES_URL, reset_postgres_schema
from tests.figures import Figures
from tests.migrations.test_migrations import revisions

ROWS = 3
EARLIER = revisions()[:-1]

ENGINES = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    ENGINES.append(pytest.param("postgres", marks=pytest.mark.postgres))


@pytest.fixture(params=ENGINES)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A URL and an engine on an empty database; PostgreSQL is left at head afterwards."""
    if request.param == "sqlite":
        url = str(tmp_path / "old.db")
        engine = create_database_engine(url)
    else:
        assert POSTGRES_URL
        url = POSTGRES_URL
        engine = create_database_engine(url)
        reset_postgres_schema(engine)
    yield url, engine
    if request.param == "postgres":
        reset_postgres_schema(engine)
        migrate.upgrade(engine)
    engine.dispose()


def value(column: Column[Any], table: str, row: int, written: Written) -> Any:
    """A value for `column` in the `row`-th row: valid, distinct per row, never null
    unless the column refers to a table with no rows yet (a cycle) or to its own table."""
    kind = column.type
    if column.primary_key:
        return row + 1 if isinstance(kind, Integer) else f"{table}-{row}"
    if column.foreign_keys:
        (key,) = column.foreign_keys
        parent, target = key.column.table.name, key.column.name
        if parent == table:
            return written[table][row - 1][target] if row else None
        if parent not in written:
            assert column.nullable, f"{table}.{column.name} refers to a table not filled yet"
            return None
        return written[parent][row][target]
    if (allowed := column.info.get("allowed")) is not None:
        return sorted(allowed)[row % len(allowed)]
    if isinstance(kind, UtcDateTime):
        return datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC) + timedelta(days=row)
    if isinstance(kind, ExactJson):
        return {"row": row, "text": "über ✓", "nested": [1.5, None, True]}
    if isinstance(kind, Boolean):
        return row % 2 == 0
    if isinstance(kind, Integer):
        return 1000 + row
    if isinstance(kind, Float):
        return row + 0.25
    if isinstance(kind, String):  # Text too
        text = f"{column.name}-{row}" + ("-über ✓" if isinstance(kind, Text) else "")
        length = getattr(kind, "length", None)
        return text[-length:] if length else text
    raise AssertionError(f"no value for {table}.{column.name} of type {kind!r}: add one here")


Written = dict[str, list[dict[str, Any]]]
"""The rows written, by table, in order."""


def populate(engine: Engine) -> Written:
    """Rows in every table the database has, a value in every column it has."""
    written: Written = {}
    with engine.begin() as connection:
        live = read_live_connection(connection, full=True)
        for table in metadata.sorted_tables:
            if table.name not in live.columns:
                continue
            present = live.columns[table.name]
            extra = present - {column.name for column in table.columns}
            assert not extra, f"{table.name} had columns head no longer has: {extra}"
            written[table.name] = []
            for row in range(ROWS):
                written[table.name].append(
                    {
                        column.name: value(column, table.name, row, written)
                        for column in table.columns
                        if column.name in present
                    }
                )
            old = restricted(table, present)
            connection.execute(old.insert(), written[table.name])
    return written


def restricted(table: Table, columns: set[str]) -> Table:
    """`table` with only the columns an earlier revision has, typed as at head."""
    return Table(
        table.name,
        MetaData(),
        *[
            Column(
                c.name,
                c.type,
                primary_key=c.primary_key,
                nullable=c.nullable,
                info=c.info,
            )
            for c in table.columns
            if c.name in columns
        ],
    )


@pytest.mark.parametrize("revision", EARLIER)
def test_upgrading_from_every_earlier_revision_keeps_every_row_and_value(
    empty: tuple[str, Engine], revision: str, figures: Figures
) -> None:
    url, engine = empty
    migrate.upgrade(engine, revision)
    written = populate(engine)
    assert written, f"revision {revision} has no table"

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.HEAD
    values = 0
    versioned_since = []
    with engine.connect() as connection:
        for name, rows in written.items():
            table = metadata.tables[name]
            old = restricted(table, set(rows[0]))
            (key,) = table.primary_key.columns
            found = [dict(row._mapping) for row in connection.execute(select(old).order_by(key))]
            expected = sorted(rows, key=lambda row: row[key.name])
            assert found == expected, f"{name}: rows changed by the upgrade from {revision}"
            values += sum(len(row) for row in rows)
            # Every column at head reads back (those added since the revision, too).
            assert len(connection.execute(select(table)).all()) == ROWS
            if "row_version" in table.c and "row_version" not in rows[0]:
                # A row version added by the upgrade: every row kept starts at 1.
                versions = connection.execute(select(table.c.row_version)).scalars().all()
                assert versions == [1] * ROWS, f"{name}: row versions after the upgrade"
                versioned_since.append(name)
    if revision == "0010":
        assert sorted(versioned_since) == [
            "initiative_repositories",
            "phase_dependencies",
            "requirement_features",
            "requirements",
            "sub_features",
            "task_dependencies",
            "workflow_repositories",
        ]
    with Database.open(url) as db:  # its schema checked against head
        assert db.integrity_check() == []
    figures.add(
        f"upgrades keep data ({engine.dialect.name})",
        revisions_upgraded=1,
        tables_filled=len(written),
        rows=ROWS * len(written),
        values_compared=values,
        lost_or_changed=0,
    )
