"""Statements run on the driver's cursor, skipping SQLAlchemy's per-call execution work.

SQLAlchemy's `Connection.execute` costs about 30 µs a statement on top of the driver's
7 µs (SQLite, get by id): it looks the compiled form up, builds an execution context and a
result object. The repositories issue a small, fixed set of statement shapes, so each is
compiled once per dialect into a `Prepared` — its SQL text, the order of its parameters,
and the bind and result processors of their types (UTC datetimes, exact JSON) — and run
with the driver's own `cursor.execute` by the unit of work's `DriverTransaction`
(`transaction.py`), which also keeps the statement listeners and the error translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Dialect, Executable, Float
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

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
    # The parameters of an IN, which take a list of values: the SQL holds a placeholder
    # for each, expanded into one driver parameter per value at every call.
    expanding: frozenset[str] = frozenset()

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {}
        for name, process, literal in self.binds:
            value = params[name] if literal is _GIVEN else literal
            if name in self.expanding:
                values[name] = value if process is None else [process(v) for v in value]
            else:
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

    def expanded(self, params: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL and the driver's parameters for one call: an IN's placeholder becomes
        one parameter per value it is given (never none: an empty IN is built as FALSE)."""
        values = self.parameters(params)
        sql = self.sql
        if not self.expanding:
            return sql, values
        if isinstance(values, dict):  # by name (psycopg)
            arrays = self._with_arrays
            if arrays is not None:
                for name in self.expanding:
                    values[name] = list(values[name])
                return arrays, values
            for name in self.expanding:
                items = values.pop(name)
                names = [f"{name}_{j}" for j in range(len(items))]
                values.update(zip(names, items, strict=True))
                marks = ", ".join(f"%({n})s" for n in names)
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", marks)
            return sql, values
        assert self.order is not None
        flat: list[Any] = []
        for name, value in zip(self.order, values, strict=True):
            if name in self.expanding:
                flat.extend(value)
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * len(value)), 1)
            else:
                flat.append(value)
        return sql, flat

    @cached_property
    def _with_arrays(self) -> str | None:
        """For a driver taking parameters by name (psycopg): the SQL with each `IN` over a
        list written `= ANY (list)` and each `NOT IN` `<> ALL (list)`, which take the list as
        one array parameter (the same rows, NULLs included). The text then never changes
        with the list's length: the driver neither parses a statement of hundreds of
        placeholders again at every call (most of a cascade's reads) nor misses its
        prepared statement. None where an IN is not written so."""
        sql = self.sql
        for name in self.expanding:
            mark = f"IN (__[POSTCOMPILE_{name}])"
            if sql.count(mark) != 1:
                return None
            if f"NOT {mark}" in sql:
                sql = sql.replace(f"NOT {mark}", f"<> ALL (%({name})s)")
            else:
                sql = sql.replace(mark, f"= ANY (%({name})s)")
        return sql

    @cached_property
    def row(self) -> Callable[[Sequence[Any]], dict[str, Any]]:
        """The function turning one of the driver's rows (a value a column) into a dict of
        column values, each through its type's result processor (timestamps, JSON)."""
        return row_reader(self.columns, self.results)


def row_reader(
    columns: Sequence[str], results: Sequence[Processor]
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function from a driver's row to a dict of `columns`, written out as Python once per
    statement: one dict display, a processor called only on a column that has one and only
    on a value that is not NULL. A loop over the columns costs half as much again a row,
    which counts where a listing reads thousands."""
    namespace: dict[str, Any] = {}
    items = []
    for i, (name, process) in enumerate(zip(columns, results, strict=True)):
        if process is None:
            items.append(f"{name!r}: raw[{i}]")
        else:
            namespace[f"process_{i}"] = process
            items.append(f"{name!r}: None if (v{i} := raw[{i}]) is None else process_{i}(v{i})")
    source = "def read(raw):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<agentkeel row reader>", "exec"), namespace)
    reader: Callable[[Sequence[Any]], dict[str, Any]] = namespace["read"]
    return reader


def prepare(statement: Executable, dialect: Dialect) -> Prepared:
    """`statement` compiled for `dialect`; an IN's values are bound at each call.

    Cached per kind of dialect, not per dialect object: every engine has a dialect of its
    own, and a cache keyed by it would keep the dialect of every engine ever disposed
    alive, with its compiled statements and type memos (about 15 kB per `Database.open`
    and close; see tests/reliability/test_leaks.py). Dialects of one class, driver
    settings and server version compile every statement alike."""
    return _prepare(statement, _representative(dialect))


_REPRESENTATIVES: dict[tuple[object, ...], Dialect] = {}


def _representative(dialect: Dialect) -> Dialect:
    """The first dialect seen of this kind: class, server version, parameter style and
    identifier length (what compiling a statement depends on)."""
    kind = (
        type(dialect),
        dialect.server_version_info,
        dialect.paramstyle,
        dialect.positional,
        dialect.max_identifier_length,
        dialect.label_length,
    )
    return _REPRESENTATIVES.setdefault(kind, dialect)


@lru_cache(maxsize=2048)
def _prepare(statement: Executable, dialect: Dialect) -> Prepared:
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    expanding = frozenset(name for bind, name in compiled.bind_names.items() if bind.expanding)
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
    return Prepared(compiled.string, order, binds, columns, results, expanding)


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
