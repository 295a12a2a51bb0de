"""The SQL row store: SQLAlchemy Core statements, prepared, on one unit of work's
transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Integer, Table
from sqlalchemy.exc import DBAPIError, IntegrityError

from agentkeel.adapters.constraints import UniqueRule, rules_of
from agentkeel.adapters.sql import statements as sql
from agentkeel.adapters.sql.errors import (
    broken_rule,
    database_message,
    unique_rule,
    value_error,
)
from agentkeel.adapters.sql.prepared import Fetched, prepare
from agentkeel.adapters.sql.transaction import DriverTransaction
from agentkeel.domain.clock import Clock
from agentkeel.domain.errors import Conflict, DomainError, RefusedByDatabase
from agentkeel.ports.store import (
    Aggregate,
    Count,
    Eq,
    In,
    Ne,
    Order,
    Referenced,
    Row,
    Sum,
    Where,
    covered,
    older_run,
)
from agentkeel.schema import label_of
from agentkeel.schema.graph import edges_into, plan_delete

# ON DELETE rules the database carries out; any other (RESTRICT, NO ACTION) can refuse.
_FOLLOWED = frozenset({"CASCADE", "SET NULL"})

# Keys in one IN on SQLite, which takes a parameter a key (999 at most before 3.32).
# PostgreSQL takes a list of keys as one array parameter (`Prepared._with_arrays`): all
# of them in one statement.
_CHUNK = 500


class SqlStore:
    """A `RowStore` on a transaction the unit of work owns."""

    def __init__(self, transaction: DriverTransaction, clock: Clock) -> None:
        self.transaction = transaction
        self.clock = clock
        self._dialect = transaction.dialect
        self._postgres = self._dialect.name == "postgresql"

    def _run(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Fetched:
        """Run a statement prepared on the driver's cursor. A lock wait that ran out comes
        out as Busy, a refused write as SQLAlchemy's error (`IntegrityError`, or another
        `DBAPIError` for a trigger's exception), which the write methods translate."""
        return self.transaction.run(prepare(statement, self._dialect), params or {})

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

    def select_with(
        self,
        table: Table,
        referenced: Referenced,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[Row, Row | None]]:
        statement = sql.select_with_statement(
            table,
            referenced.via,
            referenced.columns,
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
        names = table.columns.keys()
        joined = [(f"{sql.REFERENCED}{name}", name) for name in ("id", *referenced.columns)]
        found: list[tuple[Row, Row | None]] = []
        for raw in self._run(statement, params).rows:
            row = {name: raw[name] for name in names}
            other = None if raw[joined[0][0]] is None else {n: raw[label] for label, n in joined}
            found.append((row, other))
        return found

    def count(self, table: Table, where: Sequence[Where] = ()) -> int:
        statement = sql.count_statement(table, sql.shape_of(where))
        (count,) = self._run(statement, sql.where_params(where)).rows[0].values()
        return int(count)

    def aggregate(
        self,
        table: Table,
        aggregates: Sequence[Aggregate],
        where: Sequence[Where] = (),
        group_by: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        statement = sql.aggregate_statement(
            table,
            sql.aggregates_shape(aggregates),
            sql.shape_of(where),
            tuple(group_by),
            self._postgres,
        )
        params = {**sql.where_params(where), **sql.aggregate_params(aggregates)}
        # Counts and sums of whole numbers come back as Python ints everywhere (PostgreSQL's
        # sum of a bigint is a numeric, which psycopg reads as a Decimal).
        whole = [
            isinstance(aggregate, Count)
            or (isinstance(aggregate, Sum) and isinstance(table.c[aggregate.column].type, Integer))
            for aggregate in aggregates
        ]
        found = []
        for row in self._run(statement, params).rows:
            values = list(row.values())
            groups, results = values[: len(group_by)], values[len(group_by) :]
            results = [
                int(value) if is_whole and value is not None else value
                for is_whole, value in zip(whole, results, strict=True)
            ]
            found.append((*groups, *results))
        return found

    def referrers(self, table: Table, column: str, keys: set[str]) -> Iterator[tuple[str, str]]:
        ordered = sorted(keys)
        statement = sql.referrers_statement(table, column)
        chunk = max(len(ordered), 1) if self._postgres else _CHUNK
        for start in range(0, len(ordered), chunk):
            rows = self._run(statement, {"keys": ordered[start : start + chunk]}).rows
            yield from ((row["id"], row[column]) for row in rows)

    # -- writes ----------------------------------------------------------------------------

    def insert(self, table: Table, row: Row) -> None:
        if self._postgres:
            self._insert_skipping(table, row)
            return
        try:
            self._run(sql.insert_statement(table), row)
        except DBAPIError as exc:
            raise self._refused(
                exc, table, row.get("id"), lambda e: self._ours(e, table, row, inserting=True)
            ) from exc

    def insert_many(self, table: Table, rows: Sequence[Row]) -> None:
        if len(rows) <= 1:
            for row in rows:
                self.insert(table, row)
            return
        rules = rules_of(table.name)
        for position, row in enumerate(rows):
            try:
                rules.check_values(row)
            except DomainError as error:
                # The fakes check row by row: a clash of an earlier row comes first.
                raise self._first_refusal(table, rows[:position]) or error from None
        prepared = prepare(sql.insert_statement(table), self._dialect)
        assert prepared is not None  # an INSERT has no expanding IN
        if self._postgres:
            # A failed statement aborts a PostgreSQL transaction: a savepoint keeps it usable.
            try:
                with self._savepoint():
                    self.transaction.run_many(prepared, rows)
            except DBAPIError as exc:
                raise self._refused(
                    exc, table, None, lambda e: self._batch(e, table, rows)
                ) from exc
            return
        # sqlite3's executemany steps the statement once per row, and SQLite undoes only
        # the failing step. A savepoint would keep the whole batch or none, but costs 10-30%
        # of a bulk insert (SQLite copies each page it first changes into a sub-journal);
        # instead, on a refusal, the rows written before it (counted by the connection's
        # total of changes) are deleted again, by id.
        driver = self.transaction.driver
        before = driver.total_changes
        try:
            self.transaction.run_many(prepared, rows)
        except DBAPIError as exc:
            if not self.transaction.aborted:  # else all of it is undone already
                written = driver.total_changes - before
                keys = [row["id"] for row in rows[:written]]
                for start in range(0, len(keys), _CHUNK):
                    self.delete(table, [In("id", frozenset(keys[start : start + _CHUNK]))])
            raise self._refused(exc, table, None, lambda e: self._batch(e, table, rows)) from exc

    def _batch(self, exc: IntegrityError, table: Table, rows: Sequence[Row]) -> DomainError | None:
        """The error of the rule of ours a refused batch broke (as the fakes name it)."""
        return self._first_refusal(table, rows) or self._ours(exc, table, rows[0], inserting=True)

    def _insert_skipping(self, table: Table, row: Row) -> None:
        """PostgreSQL: an insert that skips a row breaking a unique rule (ON CONFLICT DO
        NOTHING) or referring to a missing row (WHERE EXISTS) instead of aborting the
        transaction, so no savepoint (a round trip each way) is needed, and names what it
        skipped after; NOT NULL and CHECKs are checked up front."""
        rules = rules_of(table.name)
        rules.check_values(row)
        references = tuple(
            (fk.column, fk.target) for fk in rules.foreign_keys if row.get(fk.column) is not None
        )
        if references:
            statement = sql.checked_insert_statement(table, references)
        else:
            statement = sql.insert_statement(table, skip_clashes=True)
        try:
            inserted = self._run(statement, row).rows
        except DBAPIError as exc:
            # Either way the transaction is aborted (no savepoint): nothing more is asked.
            if isinstance(exc, IntegrityError) and broken_rule(exc).kind == "foreign_key":
                # The row referred to existed when the statement began and was deleted by
                # a transaction that committed before the check.
                raise Conflict(
                    label_of(table),
                    row.get("id"),
                    "a row it refers to was deleted meanwhile; retry",
                ) from exc
            # A trigger's exception or a constraint added to the database by hand.
            raise RefusedByDatabase(label_of(table), row.get("id"), database_message(exc)) from exc
        if not inserted:
            self._insert_skipped(table, row)

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
        except DBAPIError as exc:
            raise self._refused(
                exc,
                table,
                _key_of(where),
                lambda e: self._ours(e, table, self._merged(table, where, values)),
            ) from exc

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
        except DBAPIError as exc:
            raise self._refused(
                exc,
                table,
                _key_of(where),
                lambda e: self._ours(e, table, self._merged(table, where, values)),
            ) from exc
        return rows[0] if rows else None

    def claim(
        self,
        table: Table,
        where: Sequence[Where],
        order_by: Sequence[Order],
        values: Mapping[str, Any],
    ) -> Row | None:
        statement = sql.claim_statement(
            table, sql.shape_of(where), sql.order_of(order_by), tuple(values), self._postgres
        )
        params = {**sql.where_params(where), **sql.update_params(values, {})}
        try:
            with self._guard(self._may_break_a_rule(table, values, {})):
                rows = self._run(statement, params).rows
        except DBAPIError as exc:
            raise self._refused(
                exc,
                table,
                _key_of(where),
                lambda e: self._ours(e, table, self._merged(table, where, values)),
            ) from exc
        return rows[0] if rows else None

    def delete(self, table: Table, where: Sequence[Where]) -> int:
        statement = sql.delete_statement(table, sql.shape_of(where))
        refusable = any(edge.on_delete not in _FOLLOWED for edge in edges_into(table.name))
        try:
            with self._guard(self._postgres and refusable):
                return int(self._run(statement, sql.where_params(where)).rowcount)
        except DBAPIError as exc:
            raise self._refused(
                exc, table, _key_of(where), lambda _: self._ours_delete(table, where)
            ) from exc

    def delete_first(
        self, table: Table, where: Sequence[Where], order_by: Sequence[Order], limit: int
    ) -> int:
        statement = sql.delete_first_statement(
            table, sql.shape_of(where), sql.order_of(order_by), self._postgres
        )
        refusable = any(edge.on_delete not in _FOLLOWED for edge in edges_into(table.name))
        params = {**sql.where_params(where), "limit": limit}
        try:
            with self._guard(self._postgres and refusable):
                return int(self._run(statement, params).rowcount)
        except DBAPIError as exc:

            def ours(_: IntegrityError) -> DomainError | None:
                chosen = self.select(table, where, order_by, limit)
                return self._ours_delete(table, [In("id", frozenset(r["id"] for r in chosen))])

            raise self._refused(exc, table, None, ours) from exc

    def atomic(self) -> AbstractContextManager[None]:
        return self._savepoint()

    def serialize(self, table: Table, key: str) -> None:
        # On PostgreSQL a transaction-scoped advisory lock: unlike FOR UPDATE on the row, it
        # does not conflict with the KEY SHARE locks that inserts of the row's children
        # take. SQLite runs one writer at a time: its transaction (BEGIN IMMEDIATE, with the
        # first statement) holds the write lock until it ends.
        if self._postgres:
            self._run(sql.advisory_lock_statement(), {"name": f"{table.name}:{key}"})
        elif not self.transaction.begun:
            self._run(sql.nothing_statement())

    def append_log(self, table: Table, rows: Sequence[Row]) -> None:
        if not rows:
            return
        prepared = prepare(sql.append_statement(table), self._dialect)
        try:
            if self._postgres:
                # A sequence hands out numbers in the order transactions ask, not the order
                # they commit: held until this transaction ends, the lock makes the two the
                # same. Sent with the inserts, in one round trip.
                lock = prepare(sql.advisory_lock_statement(), self._dialect)
                self.transaction.run_after(lock, {"name": f"log:{table.name}"}, prepared, rows)
            else:
                self.transaction.run_many(prepared, rows)
        except DBAPIError as exc:  # a trigger or constraint added to the log by hand
            raise RefusedByDatabase(label_of(table), None, database_message(exc)) from exc

    def read_log(self, table: Table, after: int, limit: int) -> list[Row]:
        statement = sql.read_log_statement(table)
        return self._run(statement, {"after": after, "limit": limit}).rows

    def log_prefix(
        self, table: Table, after: int, upto: int, before: datetime, limit: int
    ) -> int | None:
        statement = sql.log_times_statement(table)
        params = {"after": after, "upto": upto, "limit": limit}
        return older_run(self._run(statement, params).rows, before)

    def trim_log(self, table: Table, after: int, through: int) -> int:
        statement = sql.trim_log_statement(table)
        return int(self._run(statement, {"after": after, "through": through}).rowcount)

    def _savepoint(self) -> AbstractContextManager[None]:
        return self.transaction.savepoint()

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

    def _insert_skipped(self, table: Table, row: Row) -> None:
        """An insert that PostgreSQL skipped: refused with the first unique rule it breaks,
        else the first reference to a missing row, as the fakes check them. If neither
        holds (what it clashed with went away since, or a unique index agentkeel does not
        know of), it is tried once more as a plain insert, in a savepoint, and whatever
        the database says then is the answer."""
        rule = self._first_clash(table, row, inserting=True)
        if rule is not None:
            raise rule.error(table, row)
        for fk in rules_of(table.name).foreign_keys:
            value = row.get(fk.column)
            if value is not None and self.get(fk.target, value) is None:
                raise fk.error(table, value)
        try:
            with self._savepoint():
                self._run(sql.insert_statement(table), row)
        except DBAPIError as exc:
            raise self._refused(
                exc, table, row.get("id"), lambda e: self._ours(e, table, row, inserting=True)
            ) from exc

    # -- errors ----------------------------------------------------------------------------

    def _merged(self, table: Table, where: Sequence[Where], values: Mapping[str, Any]) -> Row:
        current = self.select(table, where, limit=1)
        return {**(current[0] if current else {}), **values}

    def _refused(
        self,
        exc: DBAPIError,
        table: Table,
        key: object,
        ours: Callable[[IntegrityError], DomainError | None],
    ) -> DomainError:
        """The domain error for a write the database refused: the error of the rule of ours
        it broke (found by `ours`, which may ask the database, so only while the
        transaction can still answer), else RefusedByDatabase with the database's words: a
        trigger's exception (not an IntegrityError on PostgreSQL) or a constraint added by
        hand. Our rules that a statement run without a savepoint could break (NOT NULL,
        CHECK) are checked before it is sent, so an aborted transaction means the
        database's own."""
        if isinstance(exc, IntegrityError) and not self.transaction.aborted:
            error = ours(exc)
            if error is not None:
                return error
        return RefusedByDatabase(label_of(table), key, database_message(exc))

    def _ours(
        self, exc: IntegrityError, table: Table, row: Row, *, inserting: bool = False
    ) -> DomainError | None:
        """The error of the rule of ours that the refused write of `row` broke, named as
        the fakes name it; None if it broke none of ours."""
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
        return value_error(table, broken, row)

    def _first_refusal(self, table: Table, rows: Sequence[Row]) -> DomainError | None:
        """The error the fakes give for the first of `rows` they would refuse, inserting them
        in order: a unique rule it shares with a stored row or an earlier row of the batch,
        or a reference to no row (their values were checked already)."""
        rules = rules_of(table.name)
        earlier: dict[str, set[tuple[Any, ...]]] = {rule.name: set() for rule in rules.uniques}
        for row in rows:
            for rule in rules.uniques:
                values = rule.key(row)
                if values is not None and (
                    values in earlier[rule.name] or self._clashes(table, row, rule, inserting=True)
                ):
                    return rule.error(table, row)
            for fk in rules.foreign_keys:
                value = row.get(fk.column)
                if value is not None and self.get(fk.target, value) is None:
                    return fk.error(table, value)
            for rule in rules.uniques:
                values = rule.key(row)
                if values is not None:
                    earlier[rule.name].add(values)
        return None

    def _first_clash(self, table: Table, row: Row, inserting: bool) -> UniqueRule | None:
        """The first unique rule, in the order the fakes check them, that another stored row
        shares with `row` (the primary key only when inserting: updates never change it)."""
        for rule in rules_of(table.name).uniques:
            if self._clashes(table, row, rule, inserting):
                return rule
        return None

    def _clashes(self, table: Table, row: Row, rule: UniqueRule, inserting: bool) -> bool:
        """Whether another stored row shares `rule`'s values with `row`."""
        values = rule.key(row)
        if values is None:
            return False
        if rule.columns == ("id",):
            return inserting and self.get(table, row["id"]) is not None
        where: list[Where] = [Eq(c, v) for c, v in zip(rule.columns, values, strict=True)]
        where.append(Ne("id", row["id"]))
        if rule.only is not None:
            where.append(covered(rule.only))
        return bool(self.count(table, where))

    def _ours_delete(self, table: Table, where: Sequence[Where]) -> DomainError | None:
        """The error of the rule of ours (a RESTRICT or NO ACTION reference) that a refused
        delete broke; None if none."""
        keys = {row["id"] for row in self.select(table, where)}
        return plan_delete(table, keys, self.referrers).refusal()


def _key_of(where: Sequence[Where]) -> object:
    """The id a write names (`Eq("id", ...)`), or None for a write of a set of rows."""
    for term in where:
        if isinstance(term, Eq) and term.column == "id":
            return term.value
    return None
