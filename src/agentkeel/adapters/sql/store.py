"""The SQL row store: SQLAlchemy Core statements on one connection's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from agentkeel.adapters.constraints import rules_of
from agentkeel.adapters.sql.errors import broken_rule, unique_rule, value_error
from agentkeel.adapters.store import (
    Asc,
    Before,
    Eq,
    In,
    IsNull,
    Ne,
    NotNull,
    Order,
    Row,
    Since,
    Where,
)
from agentkeel.domain.clock import Clock
from agentkeel.domain.errors import Conflict, DomainError, StillReferenced
from agentkeel.schema import label_of
from agentkeel.schema.graph import plan_delete

_CHUNK = 500


class SqlStore:
    """A `RowStore` on a connection whose transaction the unit of work owns."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self.clock = clock
        self._postgres = connection.dialect.name == "postgresql"

    # -- building statements ---------------------------------------------------------------

    def _where(self, table: Table, where: Sequence[Where]) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        for term in where:
            col = table.c[term.column]
            match term:
                case Eq():
                    clauses.append(col == term.value)
                case Ne():
                    clauses.append(col != term.value)
                case In():
                    clauses.append(col.in_(term.values) if term.values else false())
                case IsNull():
                    clauses.append(col.is_(None))
                case NotNull():
                    clauses.append(col.is_not(None))
                case Before():
                    clauses.append(col < term.value)
                case Since():
                    clauses.append(col >= term.value)
        return clauses

    def _order(self, table: Table, order_by: Sequence[Order]) -> list[Any]:
        terms: list[Any] = []
        for term in [*order_by, Asc("id")]:
            col: Any = table.c[term.column]
            if self._postgres and isinstance(col.type, String):
                col = col.collate("C")  # code point order, as SQLite and the fakes sort
            terms.append(
                col.asc().nulls_first() if isinstance(term, Asc) else col.desc().nulls_last()
            )
        return terms

    # -- reads -----------------------------------------------------------------------------

    def get(self, table: Table, key: str, *, for_update: bool = False) -> Row | None:
        statement = select(table).where(table.c.id == key)
        if for_update and self._postgres:
            statement = statement.with_for_update()
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else dict(row)

    def select(
        self,
        table: Table,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        statement = select(table).where(*self._where(table, where))
        statement = statement.order_by(*self._order(table, order_by))
        if limit is not None:
            statement = statement.limit(limit)
        if offset:
            statement = statement.offset(offset)
        return [dict(row) for row in self.connection.execute(statement).mappings()]

    def count(self, table: Table, where: Sequence[Where] = ()) -> int:
        statement = select(func.count()).select_from(table).where(*self._where(table, where))
        return int(self.connection.execute(statement).scalar_one())

    def referrers(self, table: Table, column: str, keys: set[str]) -> Iterator[tuple[str, str]]:
        ordered = sorted(keys)
        col = table.c[column]
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            statement = select(table.c.id, col).where(col.in_(chunk))
            yield from ((key, parent) for key, parent in self.connection.execute(statement))

    # -- writes ----------------------------------------------------------------------------

    def insert(self, table: Table, row: Row) -> None:
        try:
            with self._guard():
                self.connection.execute(insert(table), row)
        except IntegrityError as exc:
            raise self._translate(exc, table, row) from exc

    def update(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> int:
        changes: dict[str, Any] = dict(values)
        for column, delta in (increments or {}).items():
            changes[column] = table.c[column] + delta
        statement = update(table).where(*self._where(table, where)).values(changes)
        try:
            with self._guard():
                return int(self.connection.execute(statement).rowcount)
        except IntegrityError as exc:
            raise self._translate(exc, table, self._merged(table, where, values)) from exc

    def update_one(
        self, table: Table, where: Sequence[Where], values: Mapping[str, Any]
    ) -> Row | None:
        statement = (
            update(table).where(*self._where(table, where)).values(dict(values)).returning(*table.c)
        )
        try:
            with self._guard():
                row = self.connection.execute(statement).mappings().first()
        except IntegrityError as exc:
            raise self._translate(exc, table, self._merged(table, where, values)) from exc
        return None if row is None else dict(row)

    def delete(self, table: Table, where: Sequence[Where]) -> int:
        statement = delete(table).where(*self._where(table, where))
        try:
            with self._guard():
                return int(self.connection.execute(statement).rowcount)
        except IntegrityError as exc:
            raise self._translate_delete(exc, table, where) from exc

    def atomic(self) -> AbstractContextManager[None]:
        return self._savepoint()

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        with self.connection.begin_nested():
            yield

    def _guard(self) -> AbstractContextManager[Any]:
        # A failed statement aborts a PostgreSQL transaction; a savepoint keeps the unit of
        # work usable (and lets us ask the database what went wrong). SQLite undoes just the
        # failed statement by itself.
        return self._savepoint() if self._postgres else nullcontext()

    # -- errors ----------------------------------------------------------------------------

    def _merged(self, table: Table, where: Sequence[Where], values: Mapping[str, Any]) -> Row:
        current = self.select(table, where, limit=1)
        return {**(current[0] if current else {}), **values}

    def _translate(self, exc: IntegrityError, table: Table, row: Row) -> DomainError:
        broken = broken_rule(exc)
        rules = rules_of(table.name)
        if broken.kind == "unique" and (rule := unique_rule(rules, broken)) is not None:
            return rule.error(table, row)
        if broken.kind == "foreign_key":
            for fk in rules.foreign_keys:
                value = row.get(fk.column)
                if value is not None and self.get(fk.target, value) is None:
                    return fk.error(table, value)
        if (error := value_error(table, broken, row)) is not None:
            return error
        return Conflict(label_of(table), row.get("id"), f"refused by the database: {exc.orig}")

    def _translate_delete(
        self, exc: IntegrityError, table: Table, where: Sequence[Where]
    ) -> DomainError:
        keys = {row["id"] for row in self.select(table, where)}
        plan = plan_delete(table, keys, self.referrers)
        if plan.blocked is not None:
            edge = plan.blocked.edge
            return StillReferenced(
                label_of(edge.parent), plan.blocked.key, label_of(edge.child), edge.column
            )
        return Conflict(
            label_of(table), min(keys, default=None), f"refused by the database: {exc.orig}"
        )
