"""The SQL row store: SQLAlchemy Core statements on one connection's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Executable, Table
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from agentkeel.adapters.constraints import UniqueRule, rules_of
from agentkeel.adapters.sql import statements as sql
from agentkeel.adapters.sql.errors import broken_rule, unique_rule, value_error
from agentkeel.adapters.sql.prepared import Fetched, prepare, run
from agentkeel.adapters.store import Eq, Ne, Order, Row, Where, covered
from agentkeel.domain.clock import Clock
from agentkeel.domain.errors import Conflict, DomainError
from agentkeel.schema import label_of
from agentkeel.schema.graph import edges_into, plan_delete

# ON DELETE rules the database carries out; any other (RESTRICT, NO ACTION) can refuse.
_FOLLOWED = frozenset({"CASCADE", "SET NULL"})

_CHUNK = 500


class SqlStore:
    """A `RowStore` on a connection whose transaction the unit of work owns."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self.clock = clock
        self._postgres = connection.dialect.name == "postgresql"

    def _run(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Fetched:
        """Run a statement: prepared on the driver's cursor, or (an expanding IN) through
        SQLAlchemy. A lock wait that ran out comes out as Busy either way."""
        prepared = prepare(statement, self.connection.dialect)
        if prepared is not None:
            return run(self.connection, prepared, params or {})
        result: CursorResult[Any] = self.connection.execute(statement, params)
        if not result.returns_rows:
            return Fetched([], result.rowcount)
        columns = tuple(result.keys())
        return Fetched([dict(zip(columns, row, strict=True)) for row in result], result.rowcount)

    # -- reads -----------------------------------------------------------------------------

    def get(self, table: Table, key: str, *, for_update: bool = False) -> Row | None:
        statement = sql.get_statement(table, for_update and self._postgres)
        rows = self._run(statement, {"key": key}).rows
        return rows[0] if rows else None

    def select(
        self,
        table: Table,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        statement = sql.select_statement(
            table,
            sql.shape_of(where),
            sql.order_of(order_by),
            self._postgres,
            limit is not None,
            bool(offset),
        )
        params = sql.where_params(where)
        if limit is not None:
            params["limit"] = limit
        if offset:
            params["offset"] = offset
        return self._run(statement, params).rows

    def count(self, table: Table, where: Sequence[Where] = ()) -> int:
        statement = sql.count_statement(table, sql.shape_of(where))
        (count,) = self._run(statement, sql.where_params(where)).rows[0].values()
        return int(count)

    def referrers(self, table: Table, column: str, keys: set[str]) -> Iterator[tuple[str, str]]:
        ordered = sorted(keys)
        statement = sql.referrers_statement(table, column)
        for start in range(0, len(ordered), _CHUNK):
            rows = self._run(statement, {"keys": ordered[start : start + _CHUNK]}).rows
            yield from ((row["id"], row[column]) for row in rows)

    # -- writes ----------------------------------------------------------------------------

    def insert(self, table: Table, row: Row) -> None:
        rules = rules_of(table.name)
        if self._postgres and not any(row.get(fk.column) is not None for fk in rules.foreign_keys):
            # ON CONFLICT DO NOTHING: a clash leaves the transaction usable, so no savepoint
            # (a round trip each way) is needed; NOT NULL and CHECKs are checked up front.
            rules.check_values(row)
            if not self._run(sql.insert_statement(table, skip_clashes=True), row).rows:
                raise self._clash(table, row)
            return
        try:
            with self._guard(self._postgres):
                self._run(sql.insert_statement(table), row)
        except IntegrityError as exc:
            raise self._translate(exc, table, row, inserting=True) from exc

    def update(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> int:
        increments = increments or {}
        statement = sql.update_statement(
            table, sql.shape_of(where), tuple(values), tuple(increments), False
        )
        params = {**sql.where_params(where), **sql.update_params(values, increments)}
        try:
            with self._guard(self._may_break_a_rule(table, values, increments)):
                return int(self._run(statement, params).rowcount)
        except IntegrityError as exc:
            raise self._translate(exc, table, self._merged(table, where, values)) from exc

    def update_one(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> Row | None:
        increments = increments or {}
        statement = sql.update_statement(
            table, sql.shape_of(where), tuple(values), tuple(increments), True
        )
        params = {**sql.where_params(where), **sql.update_params(values, increments)}
        try:
            with self._guard(self._may_break_a_rule(table, values, increments)):
                rows = self._run(statement, params).rows
        except IntegrityError as exc:
            raise self._translate(exc, table, self._merged(table, where, values)) from exc
        return rows[0] if rows else None

    def delete(self, table: Table, where: Sequence[Where]) -> int:
        statement = sql.delete_statement(table, sql.shape_of(where))
        refusable = any(edge.on_delete not in _FOLLOWED for edge in edges_into(table.name))
        try:
            with self._guard(self._postgres and refusable):
                return int(self._run(statement, sql.where_params(where)).rowcount)
        except IntegrityError as exc:
            raise self._translate_delete(exc, table, where) from exc

    def atomic(self) -> AbstractContextManager[None]:
        return self._savepoint()

    def serialize(self, table: Table, key: str) -> None:
        # On PostgreSQL a transaction-scoped advisory lock: unlike FOR UPDATE on the row, it
        # does not conflict with the KEY SHARE locks that inserts of the row's children
        # take. SQLite runs one writer at a time: its transaction (BEGIN IMMEDIATE, with the
        # first statement) holds the write lock until it ends.
        if self._postgres:
            self._run(sql.advisory_lock_statement(), {"name": f"{table.name}:{key}"})
        elif not self.connection.in_transaction():
            self._run(sql.nothing_statement())

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        with self.connection.begin_nested():
            yield

    def _guard(self, needed: bool) -> AbstractContextManager[Any]:
        # A failed statement aborts a PostgreSQL transaction; a savepoint keeps the unit of
        # work usable (and lets us ask the database what went wrong). SQLite undoes just the
        # failed statement by itself. A statement that cannot fail needs none.
        return self._savepoint() if needed else nullcontext()

    def _may_break_a_rule(
        self, table: Table, values: Mapping[str, Any], increments: Mapping[str, int]
    ) -> bool:
        """Whether an UPDATE writing these columns could be refused by PostgreSQL: NOT NULL
        and CHECKs are checked here first, so only unique and foreign-key columns can."""
        rules = rules_of(table.name)
        rules.check_written(values)
        return self._postgres and not rules.keyed_columns.isdisjoint([*values, *increments])

    def _clash(self, table: Table, row: Row) -> DomainError:
        """The error for an insert that ON CONFLICT DO NOTHING skipped."""
        rule = self._first_clash(table, row, inserting=True)
        if rule is not None:
            return rule.error(table, row)
        # The clashing row went away between the insert and this look (a concurrent delete).
        return Conflict(label_of(table), row.get("id"), "clashed with a concurrent write; retry")

    # -- errors ----------------------------------------------------------------------------

    def _merged(self, table: Table, where: Sequence[Where], values: Mapping[str, Any]) -> Row:
        current = self.select(table, where, limit=1)
        return {**(current[0] if current else {}), **values}

    def _translate(
        self, exc: IntegrityError, table: Table, row: Row, *, inserting: bool = False
    ) -> DomainError:
        broken = broken_rule(exc)
        rules = rules_of(table.name)
        if broken.kind == "unique":
            # The database names whichever index it checked first (SQLite's order varies);
            # the first clashing rule in the schema's order is named, as the fakes name it.
            rule = self._first_clash(table, row, inserting) or unique_rule(rules, broken)
            if rule is not None:
                return rule.error(table, row)
        if broken.kind == "foreign_key":
            for fk in rules.foreign_keys:
                value = row.get(fk.column)
                if value is not None and self.get(fk.target, value) is None:
                    return fk.error(table, value)
        if (error := value_error(table, broken, row)) is not None:
            return error
        return Conflict(label_of(table), row.get("id"), f"refused by the database: {exc.orig}")

    def _first_clash(self, table: Table, row: Row, inserting: bool) -> UniqueRule | None:
        """The first unique rule, in the order the fakes check them, that another stored row
        shares with `row` (the primary key only when inserting: updates never change it)."""
        for rule in rules_of(table.name).uniques:
            values = rule.key(row)
            if values is None:
                continue
            if rule.columns == ("id",):
                if inserting and self.get(table, row["id"]) is not None:
                    return rule
                continue
            where: list[Where] = [Eq(c, v) for c, v in zip(rule.columns, values, strict=True)]
            where.append(Ne("id", row["id"]))
            if rule.only is not None:
                where.append(covered(rule.only))
            if self.count(table, where):
                return rule
        return None

    def _translate_delete(
        self, exc: IntegrityError, table: Table, where: Sequence[Where]
    ) -> DomainError:
        keys = {row["id"] for row in self.select(table, where)}
        plan = plan_delete(table, keys, self.referrers)
        if (refusal := plan.refusal()) is not None:
            return refusal
        return Conflict(
            label_of(table), min(keys, default=None), f"refused by the database: {exc.orig}"
        )
