"""Rows as plain values, for moving them between databases: what `transfer` (a project as
a JSON document) and `copy` (a whole database) share.

Everything here is generic over the schema's `metadata`: a table added to the schema is
read, written, ordered and checksummed like the others with no code of its own.

- `insert_plan()`: the tables in an order that inserts every referenced row before the rows
  that refer to it, with the foreign-key columns that must be written afterwards (a
  reference to a table later in the order: the one cycle, agents.task_id -> tasks).
- `parents_first()`: a table's rows ordered so that a row referring to a row of the same
  table (a subtask's parent task, a subpage's parent page) comes after it.
- `to_json()` / `from_json()`: a column's value as a JSON value and back, exactly (a UTC
  timestamp as ISO 8601 text with its microseconds, a JSON column as the JSON value).
- `checksum()`: a digest of a table's rows in primary-key order, equal on SQLite and
  PostgreSQL for the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.sql.elements import ColumnElement

from agentkeel.schema import metadata
from agentkeel.schema.base import ExactJson, UtcDateTime

Row = dict[str, Any]


@dataclass(frozen=True)
class TableStep:
    """One table of an insert plan: insert its rows with the `deferred` columns empty
    (None), and write those once every table is in."""

    table: Table
    deferred: tuple[str, ...]


def insert_plan() -> list[TableStep]:
    """Every table of the schema, referenced tables first (`metadata.sorted_tables`), with
    the columns that refer to a table later in the order (deferred)."""
    order = {table.name: index for index, table in enumerate(metadata.sorted_tables)}
    plan = []
    for table in metadata.sorted_tables:
        deferred = tuple(
            sorted(
                key.parent.name
                for key in table.foreign_keys
                if order[key.column.table.name] > order[table.name]
            )
        )
        plan.append(TableStep(table, deferred))
    return plan


def self_references(table: Table) -> tuple[str, ...]:
    """The columns of `table` that refer to `table` itself (parent_task_id...)."""
    return tuple(sorted(key.parent.name for key in table.foreign_keys if key.column.table is table))


def primary_key(table: Table) -> Column[Any]:
    """The table's one primary-key column (`id`, or the event log's `sequence`)."""
    [column] = table.primary_key.columns
    return column


def parents_first(table: Table, rows: Sequence[Row]) -> list[Row]:
    """`rows` ordered so that a row comes after the rows of `rows` it refers to through a
    self-reference; otherwise in the order given. A reference to a row not among `rows`
    (already stored) does not hold a row back."""
    columns = self_references(table)
    if not columns:
        return list(rows)
    key = primary_key(table).name
    waiting = {row[key]: row for row in rows}
    placed: list[Row] = []
    while waiting:
        # Each pass places the rows whose parents among `rows` are placed already.
        ready = [
            row
            for row in waiting.values()
            if not any(
                row.get(column) in waiting and row.get(column) != row[key] for column in columns
            )
        ]
        if not ready:  # a cycle of rows: no order satisfies it; keep the order given
            ready = list(waiting.values())
        for row in ready:
            placed.append(row)
            del waiting[row[key]]
    return placed


def key_order(connection: Connection, table: Table) -> ColumnElement[Any]:
    """The primary key as ORDER BY and comparisons should use it: by code point on every
    backend (PostgreSQL's default collation would order text by language rules)."""
    column = primary_key(table)
    if connection.dialect.name == "postgresql" and column.type.python_type is str:
        return column.collate("C")
    return column


def read_rows(
    connection: Connection, table: Table, *, after: Any = None, limit: int | None = None
) -> list[Row]:
    """Rows of `table` in primary-key order, those after `after` (a key) if given."""
    order = key_order(connection, table)
    query = select(table).order_by(order)
    if after is not None:
        query = query.where(order > after)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in connection.execute(query).mappings()]


def rows_by_key(
    connection: Connection, table: Table, column: str, keys: Iterable[Any], *, chunk: int = 500
) -> Iterator[Row]:
    """The rows of `table` whose `column` holds one of `keys` (asked `chunk` keys at a time,
    under every backend's limit of bound parameters)."""
    values = sorted(set(keys))
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        query = select(table).where(table.c[column].in_(part))
        yield from (dict(row) for row in connection.execute(query).mappings())


def to_json(column: Column[Any], value: Any) -> Any:
    """A column's value as a JSON value: a timestamp as ISO 8601 text in UTC with its
    microseconds; anything else (text, numbers, a JSON column's value) as it is."""
    if value is not None and isinstance(column.type, UtcDateTime):
        assert isinstance(value, datetime)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def from_json(column: Column[Any], value: Any) -> Any:
    """The inverse of `to_json`. Raises ValueError for a value the column cannot hold."""
    if value is None:
        if not column.nullable:
            raise ValueError(f"{column.table.name}.{column.name} may not be empty")
        return None
    if isinstance(column.type, UtcDateTime):
        if not isinstance(value, str):
            raise ValueError(f"{column.table.name}.{column.name} is not a timestamp: {value!r}")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"{column.table.name}.{column.name} has no time zone: {value!r}")
        return parsed.astimezone(UTC)
    if isinstance(column.type, ExactJson):
        return value
    expected = column.type.python_type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or isinstance(value, bool):
        raise ValueError(
            f"{column.table.name}.{column.name} holds {expected.__name__}, not {value!r}"
        )
    return value


def normalized(column: Column[Any], value: Any) -> Any:
    """A value as the checksum sees it: the same whichever backend it was read from (a
    timestamp in UTC to the microsecond, a JSON column's value as canonical JSON text)."""
    if value is None:
        return None
    if isinstance(column.type, ExactJson):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return to_json(column, value)


@dataclass(frozen=True)
class Digest:
    """A table's row count and the SHA-256 of its rows in primary-key order."""

    rows: int
    sha256: str


def checksum(connection: Connection, table: Table, *, batch: int = 1000) -> Digest:
    """The digest of every row of `table`, read `batch` rows at a time in primary-key order
    (by code point), each row's normalized values in column order as one line of JSON."""
    digest = hashlib.sha256()
    count, last = 0, None
    while True:
        rows = read_rows(connection, table, after=last, limit=batch)
        if not rows:
            break
        for row in rows:
            line = [normalized(column, row[column.name]) for column in table.columns]
            digest.update(json.dumps(line, ensure_ascii=False).encode() + b"\n")
        count += len(rows)
        last = rows[-1][primary_key(table).name]
    return Digest(count, digest.hexdigest())


def without(row: Mapping[str, Any], columns: Iterable[str]) -> Row:
    """`row` with `columns` emptied (None), for a first insert before they can be written."""
    cleared = dict(row)
    for name in columns:
        cleared[name] = None
    return cleared
