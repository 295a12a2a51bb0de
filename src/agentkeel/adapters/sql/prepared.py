"""Statements run on the driver's cursor, skipping SQLAlchemy's per-call execution work.

SQLAlchemy's `Connection.execute` costs about 30 µs a statement on top of the driver's
7 µs (SQLite, get by id): it looks the compiled form up, builds an execution context and a
result object. The repositories issue a small, fixed set of statement shapes, so each is
compiled once per dialect into a `Prepared` — its SQL text, the order of its parameters,
and the bind and result processors of their types (UTC datetimes, exact JSON) — and run
with the driver's own `cursor.execute`. The connection's transaction, savepoints and
events stay SQLAlchemy's: the transaction is begun through SQLAlchemy first, statement
listeners (`before_cursor_execute`) still hear every statement, and a driver error is
wrapped and translated exactly as SQLAlchemy's `handle_error` listener would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Executable, Float
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

from agentkeel.adapters.sql.errors import domain_error

Processor = Callable[[Any], Any] | None
# A parameter the caller gives, as opposed to a literal the statement carries (OFFSET 0).
_GIVEN = object()


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one dialect, ready for the driver's cursor."""

    sql: str
    # Parameter names in the order a positional driver (SQLite's `?`) takes them; None for
    # a driver that takes them by name (psycopg's `%(name)s`).
    order: tuple[str, ...] | None
    # (name, bind processor, the value a literal in the statement carries, or _GIVEN)
    binds: tuple[tuple[str, Processor, Any], ...]
    columns: tuple[str, ...]
    results: tuple[Processor, ...]

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {}
        for name, process, literal in self.binds:
            value = params[name] if literal is _GIVEN else literal
            values[name] = value if process is None else process(value)
        return values if self.order is None else [values[name] for name in self.order]

    def parameters_many(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> list[list[Any]] | list[dict[str, Any]]:
        """`parameters` of each row, for a bulk statement. A value that is the very object
        the row before held (the batch's one timestamp) is processed once, not once a row."""
        if any(literal is not _GIVEN for _, _, literal in self.binds):
            return (
                [dict(self.parameters(row)) for row in rows]
                if self.order is None
                else [list(self.parameters(row)) for row in rows]
            )
        names = self.order if self.order is not None else tuple(name for name, _, _ in self.binds)
        processors = {name: process for name, process, _ in self.binds if process is not None}
        processed = [(i, processors[name]) for i, name in enumerate(names) if name in processors]
        take = itemgetter(*names)
        last: list[tuple[Any, Any]] = [(_GIVEN, None)] * len(processed)
        batch: list[list[Any]] = []
        for row in rows:
            values = list(take(row)) if len(names) > 1 else [row[names[0]]]
            for slot, (i, process) in enumerate(processed):
                value = values[i]
                seen, result = last[slot]
                if seen is not value:
                    result = process(value)
                    last[slot] = (value, result)
                values[i] = result
            batch.append(values)
        if self.order is not None:
            return batch
        return [dict(zip(names, values, strict=True)) for values in batch]

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if process is None or value is None else process(value)
            for name, process, value in zip(self.columns, self.results, raw, strict=True)
        }


@lru_cache(maxsize=2048)
def prepare(statement: Executable, dialect: Dialect) -> Prepared | None:
    """`statement` compiled for `dialect`, or None if it must go through SQLAlchemy (an
    expanding IN, whose SQL depends on how many values it gets)."""
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if any(bind.expanding for bind in compiled.binds.values()):
        return None
    binds = tuple(
        (
            name,
            bind.type.dialect_impl(dialect).bind_processor(dialect),
            _GIVEN if bind.required else bind.effective_value,
        )
        for bind, name in compiled.bind_names.items()
    )
    exported = getattr(statement, "exported_columns", ())
    columns = tuple(column.name for column in exported)
    results = tuple(_result_processor(column.type, dialect) for column in exported)
    order = tuple(compiled.positiontup or ()) if dialect.positional else None
    return Prepared(compiled.string, order, binds, columns, results)


def _result_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Any:
    # Both drivers hand back a double as a Python float; psycopg's processor for it would
    # need the column's type code, which only a cursor that ran the statement knows.
    if isinstance(column_type, Float) and not column_type.asdecimal:
        return None
    return column_type.dialect_impl(dialect).result_processor(dialect, None)


@dataclass
class Fetched:
    """What a prepared statement gave back: its rows (dicts of processed values) and the
    number of rows it changed."""

    rows: list[dict[str, Any]]
    rowcount: int


def run(connection: Connection, prepared: Prepared, params: Mapping[str, Any]) -> Fetched:
    """Run `prepared` in the connection's transaction (begun through SQLAlchemy if needed),
    on the driver's cursor. Driver errors come out as SQLAlchemy's wrapped ones, or as the
    domain error the engine's listener would give (Busy, a lost connection)."""
    if not connection.in_transaction():
        connection.begin()
    dbapi_connection = connection.connection
    parameters = prepared.parameters(params)
    cursor = dbapi_connection.cursor()
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(
                connection, cursor, prepared.sql, parameters, None, False
            )
        cursor.execute(prepared.sql, parameters)
        raw = cursor.fetchall() if prepared.columns else []
        return Fetched([prepared.row(row) for row in raw], cursor.rowcount)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _translated(connection, prepared, parameters, exc, cursor) from exc
    finally:
        cursor.close()


def run_many(connection: Connection, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run `prepared` once per row with the driver's `executemany` (one bulk statement: a
    pipeline on psycopg, one prepared statement stepped per row on sqlite3), in the
    connection's transaction; errors as `run` gives them. Returns the rows it changed."""
    if not connection.in_transaction():
        connection.begin()
    parameters = prepared.parameters_many(rows)
    cursor = connection.connection.cursor()
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, prepared.sql, parameters, None, True)
        cursor.executemany(prepared.sql, parameters)
        return int(cursor.rowcount)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _translated(connection, prepared, parameters, exc, cursor) from exc
    finally:
        cursor.close()


def _translated(
    connection: Connection, prepared: Prepared, parameters: Any, exc: Exception, cursor: Any
) -> Exception:
    dialect = connection.dialect
    error = cast(Any, exc)  # the driver's Error class, known only at run time
    disconnect = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    wrapped = DBAPIError.instance(
        prepared.sql,
        parameters,
        exc,
        dialect.loaded_dbapi.Error,
        dialect=dialect,
        connection_invalidated=disconnect,
    )
    if disconnect:
        connection.invalidate(exc)
    return domain_error(wrapped, exc, disconnect) or wrapped
