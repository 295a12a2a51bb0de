"""The schema's rules as data, read once per table from `metadata`, for the in-memory fakes
and for translating the SQL driver's errors: both must name a broken rule the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from operator import itemgetter
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, Table, UniqueConstraint

from agentkeel.domain.errors import AlreadyExists, Conflict, InvalidValue, ReferenceMissing
from agentkeel.schema import label_of, metadata
from agentkeel.schema.base import ExactJson, Only, UtcDateTime


@dataclass(frozen=True)
class UniqueRule:
    """No two rows share `columns` (NULL never clashes); with `only`, only the rows it
    covers count (a partial unique index); `exclusive_flag` names the flag of an exclusive
    flag's index."""

    name: str
    columns: tuple[str, ...]
    only: Only | None = None
    exclusive_flag: str | None = None

    def key(self, row: dict[str, Any]) -> tuple[Any, ...] | None:
        if self.only is not None and not self.only.holds(row):
            return None
        # In C (map, `in`): the fakes key every row they write by every unique rule.
        values = tuple(map(row.get, self.columns))
        return None if None in values else values

    def error(self, table: Table, row: dict[str, Any]) -> AlreadyExists | Conflict:
        label = label_of(table)
        if self.exclusive_flag is not None:
            # The repositories clear an exclusive flag before setting it, so a clash here
            # means a concurrent unit of work set it first.
            return Conflict(
                label,
                row.get("id"),
                f"another {label} of this {self.columns[0]} has {self.exclusive_flag} set; retry",
            )
        return AlreadyExists(label, {column: row[column] for column in self.columns})


@dataclass(frozen=True)
class ForeignKeyRule:
    name: str
    column: str
    target: Table

    def error(self, table: Table, value: Any) -> ReferenceMissing:
        return ReferenceMissing(label_of(table), self.column, value, label_of(self.target))


@dataclass(frozen=True)
class TableRules:
    table: Table
    required: tuple[str, ...]
    allowed: dict[str, tuple[str, ...]]
    uniques: tuple[UniqueRule, ...]
    foreign_keys: tuple[ForeignKeyRule, ...]
    json_columns: frozenset[str]
    # CHECK constraint name -> the enum column it guards
    checks: dict[str, str]

    @cached_property
    def keyed_columns(self) -> frozenset[str]:
        """Columns whose new value can break a unique or foreign-key rule (the column
        that says which rows a partial unique index covers among them)."""
        columns = {column for rule in self.uniques for column in rule.columns}
        columns |= {rule.only.column for rule in self.uniques if rule.only is not None}
        columns |= {rule.column for rule in self.foreign_keys}
        return frozenset(columns)

    @cached_property
    def looked_up_columns(self) -> tuple[str, ...]:
        """Columns the fakes keep a value -> keys index of, as a database's indexes let it
        find rows by them: every foreign key, and the leading column of every other index
        and unique rule of several columns (an agent's log chunks, a project's metrics)."""
        columns = [fk.column for fk in self.foreign_keys]
        columns += [rule.columns[0] for rule in self.uniques if len(rule.columns) > 1]
        columns += [
            index.columns.keys()[0]
            for index in sorted(self.table.indexes, key=lambda i: str(i.name))
        ]
        return tuple(dict.fromkeys(column for column in columns if column != "id"))

    @cached_property
    def _keyed(self) -> tuple[tuple[str, ...], ...]:
        """The columns of every unique rule, then of every index, in name order."""
        indexes = sorted(self.table.indexes, key=lambda i: str(i.name))
        return (
            *(rule.columns for rule in self.uniques),
            *(tuple(index.columns.keys()) for index in indexes),
        )

    @cached_property
    def looked_up_prefixes(self) -> tuple[tuple[str, ...], ...]:
        """Column tuples the fakes keep a values -> keys index of, as a database finds rows
        by the leading columns of an index: every prefix of two or more columns of every
        index and unique rule of the schema (a task's initiative and status, an audit
        entry's subject), up to its first column that is the id or a time every row has (an
        order column: looked up by range, never by equality). Derived from the schema's
        indexes, so the fakes find rows by what the database does and cannot drift from it;
        one column is `looked_up_columns`' to serve."""
        prefixes: list[tuple[str, ...]] = []
        for columns in self._keyed:
            ends = [
                position
                for position, name in enumerate(columns)
                if name == "id" or self._is_order_time(name)
            ]
            columns = columns[: ends[0]] if ends else columns
            prefixes += [columns[:length] for length in range(2, len(columns) + 1)]
        return tuple(dict.fromkeys(prefixes))

    @cached_property
    def greatest_within(self) -> tuple[tuple[tuple[str, ...], str], ...]:
        """(leading columns, a whole-number column) of every unique rule and index of the
        schema that ends in a whole-number column after one or more others (an agent's log
        chunks by number): the fakes keep each group's values of it in order, as the index
        keeps them, to answer its greatest (the next chunk's number) without reading the
        group's rows."""
        found = [
            (columns[:-1], columns[-1])
            for columns in self._keyed
            if len(columns) > 1
            and "id" not in columns
            and isinstance(self.table.c[columns[-1]].type, Integer)
        ]
        return tuple(dict.fromkeys(found))

    @cached_property
    def ranged_columns(self) -> tuple[str, ...]:
        """The leading columns of indexes that are times every row has (an audit entry's
        `timestamp`, a chunk's `created_at`): the fakes keep their values in order, as an
        index does, to find the rows since or before a time by bisection."""
        return tuple(column for column in self.looked_up_columns if self._is_order_time(column))

    def _is_order_time(self, name: str) -> bool:
        column = self.table.c[name]
        return isinstance(column.type, UtcDateTime) and not column.nullable

    def check_written(self, values: Mapping[str, Any]) -> None:
        """NOT NULL and enum CHECKs of the columns an UPDATE writes, refused up front as the
        database would refuse them."""
        label = label_of(self.table)
        for column, value in values.items():
            if value is None and column in self.required:
                raise not_null_error(label, column)
            allowed = self.allowed.get(column)
            if allowed is not None and value is not None and value not in allowed:
                raise not_allowed_error(label, column, value, allowed)

    def unique_named(self, name: str) -> UniqueRule | None:
        return next((rule for rule in self.uniques if rule.name == name), None)

    def unique_on(self, columns: tuple[str, ...]) -> UniqueRule | None:
        return next((rule for rule in self.uniques if rule.columns == columns), None)

    def foreign_key_named(self, name: str) -> ForeignKeyRule | None:
        return next((rule for rule in self.foreign_keys if rule.name == name), None)

    @cached_property
    def _required_values(self) -> Any:
        return itemgetter(*self.required) if len(self.required) > 1 else None

    def check_values(self, row: dict[str, Any]) -> None:
        """NOT NULL and enum CHECKs, as the database checks them before uniqueness."""
        take = self._required_values
        # Every required value given, the common case, is one C call (bulk inserts).
        try:
            complete = take is not None and None not in take(row)
        except KeyError:
            complete = False
        if not complete:
            for column in self.required:
                if row.get(column) is None:
                    raise not_null_error(label_of(self.table), column)
        for column, allowed in self.allowed.items():
            value = row.get(column)
            if value is not None and value not in allowed:
                raise not_allowed_error(label_of(self.table), column, value, allowed)


def not_null_error(label: str, column: str) -> InvalidValue:
    return InvalidValue(label, column, None, "must not be null")


def not_allowed_error(
    label: str, column: str, value: Any, allowed: tuple[str, ...]
) -> InvalidValue:
    return InvalidValue(label, column, value, f"must be one of {', '.join(allowed)}")


@cache
def rules_of(table_name: str) -> TableRules:
    table = metadata.tables[table_name]
    uniques = [UniqueRule(str(table.primary_key.name), ("id",))]
    # Sorted by name: a set's order would vary from run to run.
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, UniqueConstraint):
            uniques.append(
                UniqueRule(str(constraint.name), tuple(c.name for c in constraint.columns))
            )
    for idx in sorted(table.indexes, key=lambda i: str(i.name)):
        if isinstance(idx, Index) and idx.unique:
            uniques.append(
                UniqueRule(
                    str(idx.name),
                    tuple(c.name for c in idx.columns),
                    idx.info.get("only"),
                    idx.info.get("exclusive_flag"),
                )
            )
    foreign_keys = tuple(
        ForeignKeyRule(
            str(fk.constraint.name if fk.constraint else fk.name), fk.parent.name, fk.column.table
        )
        for col in table.columns
        for fk in col.foreign_keys
    )
    return TableRules(
        table=table,
        required=tuple(c.name for c in table.columns if not c.nullable),
        allowed={c.name: c.info["allowed"] for c in table.columns if c.info.get("allowed")},
        uniques=tuple(uniques),
        foreign_keys=foreign_keys,
        json_columns=frozenset(c.name for c in table.columns if isinstance(c.type, ExactJson)),
        checks={
            str(check.name): check.info["column"]
            for check in table.constraints
            if isinstance(check, CheckConstraint) and "column" in check.info
        },
    )
