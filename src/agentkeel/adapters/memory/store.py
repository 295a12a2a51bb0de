"""The in-memory fake of the database: a `RowStore` over `MemoryDatabase` (its rows and
indexes, see `adapters.memory.database`) that keeps the schema's promises.

A query whose terms fix an index's leading columns, or bound the time column that leads
one, reads only the rows the index selects, as the database's index search does, never
the whole table; the store counts the most rows one query examined (`examined`).
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any, assert_never

from sqlalchemy import Table

from agentkeel.adapters.constraints import TableRules, rules_of
from agentkeel.adapters.memory.database import MemoryDatabase, Tables
from agentkeel.domain.clock import Clock
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.store import (
    Aggregate,
    AnyRelated,
    Asc,
    Before,
    Count,
    Desc,
    Eq,
    In,
    IsNull,
    Max,
    Ne,
    NoneRelated,
    NotNull,
    NotRefersTo,
    Order,
    Percentile,
    Reaches,
    Referenced,
    RefersTo,
    Row,
    Since,
    Sum,
    Where,
    covered,
    older_run,
    referenced_table,
)
from agentkeel.schema import metadata
from agentkeel.schema.graph import plan_delete

__all__ = ["MemoryDatabase", "MemoryStore"]


RowTest = Callable[[Row], bool]


def _test(where: Sequence[Where], tables: Tables) -> RowTest:
    """Whether a row matches every term of `where`, as SQL would: a function made once per
    query, so that which kind of term each is is worked out once, not once per row."""
    tests = [_term_test(term, tables) for term in where]
    if len(tests) == 1:
        return tests[0]

    def every(row: Row) -> bool:
        return all(test(row) for test in tests)

    return every


def _term_test(term: Where, tables: Tables) -> RowTest:
    column = "" if isinstance(term, Reaches) else term.column
    match term:
        case Eq():
            value = term.value
            return lambda row: (held := row.get(column)) is not None and held == value
        case Ne():
            value = term.value
            return lambda row: (held := row.get(column)) is not None and held != value
        case In():
            values = term.values
            return lambda row: (held := row.get(column)) is not None and held in values
        case IsNull():
            return lambda row: row.get(column) is None
        case NotNull():
            return lambda row: row.get(column) is not None
        case Before():
            bound = term.value
            return lambda row: (held := row.get(column)) is not None and held < bound
        case Since():
            bound = term.value
            return lambda row: (held := row.get(column)) is not None and held >= bound
        case AnyRelated() | NoneRelated():
            inner, table, wanted = (
                _test(term.where, tables),
                term.table,
                isinstance(term, AnyRelated),
            )

            def related(row: Row) -> bool:
                found = any(inner(other) for other in _referring(tables, table, column, row["id"]))
                return found is wanted

            return related
        case RefersTo() | NotRefersTo():
            inner, targets = _test(term.where, tables), tables.rows[term.table]
            wanted = isinstance(term, RefersTo)

            def refers(row: Row) -> bool:
                key = row.get(column)
                target = None if key is None else targets.get(key)
                return (target is not None and inner(target)) is wanted

            return refers
        case Reaches():
            return lambda row: _reaches(row, term, tables)
        case _:
            assert_never(term)


def _reaches(row: Row, term: Reaches, tables: Tables) -> bool:
    """Whether `row` matches `term.where` or reaches a row that does along the edges, every
    row on the way (`row` included) matching `term.through`: a walk forwards from `row`."""
    matches, through = _test(term.where, tables), _test(term.through, tables)
    if matches(row):
        return True
    if not through(row):
        return False
    nodes = tables.rows[referenced_table(metadata.tables[term.table], term.target).name]
    seen = {row["id"]}
    frontier = [row["id"]]
    while frontier:
        following = []
        for key in frontier:
            for edge in _referring(tables, term.table, term.source, key):
                node = nodes.get(edge[term.target])
                if node is None or node["id"] in seen:
                    continue
                seen.add(node["id"])
                if matches(node):
                    return True
                if through(node):
                    following.append(node["id"])
        frontier = following
    return False


def _null_first(values: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is not None, value if value is not None else 0) for value in values)


def _aggregated(aggregate: Aggregate, rows: list[Row]) -> Any:
    """One aggregate over one group's rows, as SQL computes it."""
    match aggregate:
        case Count():
            return len(rows)
        case Sum() | Max():
            values = [row[aggregate.column] for row in rows if row[aggregate.column] is not None]
            if not values:
                return None
            return sum(values) if isinstance(aggregate, Sum) else max(values)
        case Percentile():
            # cume_dist() of a value: the rows up to its last peer, divided (as a double) by
            # all rows; the percentile is the least value whose cume_dist reaches `fraction`.
            values = sorted(row[aggregate.column] for row in rows)
            total = len(values)
            for position, value in enumerate(values):
                last_peer = position + 1 == total or values[position + 1] != value
                if last_peer and (position + 1) / total >= aggregate.fraction:
                    return value
            return None
        case _:
            assert_never(aggregate)


def _referring(tables: Tables, table: str, column: str, key: Any) -> Iterable[Row]:
    """The rows of `table` holding `key` in `column`: through its foreign-key index if it
    has one (as the database uses the foreign key's index), else by a scan."""
    rows = tables.rows[table]
    index = tables.referrer_index(table, column)
    if index is not None:
        return [rows[child] for child in index.get(key, ())]
    return [row for row in rows.values() if row.get(column) == key]


def _sort(rows: list[Row], order_by: Sequence[Order]) -> list[Row]:
    # NULLs first ascending and last descending, as the SQL store asks every backend to do.
    rows.sort(key=itemgetter("id"))
    for term in reversed(order_by):
        column = term.column
        match term:
            case Asc():
                descending = False
            case Desc():
                descending = True
            case _:
                assert_never(term)
        rows.sort(
            key=lambda row: (
                row[column] is not None,
                row[column] if row[column] is not None else 0,
            ),
            reverse=descending,
        )
    return rows


class MemoryStore:
    """A `RowStore` over a MemoryDatabase, for one unit of work holding its lock; or, for a
    read-only unit of work, reading `tables` (a snapshot) and never writing."""

    def __init__(self, db: MemoryDatabase, clock: Clock, tables: Tables | None = None) -> None:
        self.db = db
        self.clock = clock
        self.tables: Tables = db if tables is None else tables
        # The most rows one query of each table has examined (read to check its terms), for
        # tests that prove a finder is answered through an index: a query examines what the
        # index selects, never every row of the table.
        self.examined: dict[str, int] = {}

    def _copy(self, rules: TableRules, row: Row) -> Row:
        copied = dict(row)
        for column in rules.json_columns:
            if copied.get(column) is not None:
                copied[column] = copy.deepcopy(copied[column])
        return copied

    def _check(self, rules: TableRules, key: str, row: Row, old: Row | None) -> None:
        rules.check_values(row)
        for rule in rules.uniques:
            values = rule.key(row)
            if values is None:
                continue
            holder = self.db.unique[(rules.table.name, rule.name)].get(values)
            if holder is not None and (old is None or holder != key):
                raise rule.error(rules.table, row)
        for fk in rules.foreign_keys:
            value = row.get(fk.column)
            changed = old is None or old.get(fk.column) != value
            if value is not None and changed and value not in self.tables.rows[fk.target.name]:
                raise fk.error(rules.table, value)

    def insert(self, table: Table, row: Row) -> None:
        rules = rules_of(table.name)
        full: Row = {column.name: row.get(column.name) for column in table.columns}
        key: str = full["id"]
        self._check(rules, key, full, None)
        self.db._put(table.name, key, self._copy(rules, full))

    def insert_many(self, table: Table, rows: Sequence[Row]) -> None:
        with self.atomic():
            for row in rows:
                self.insert(table, row)

    def get(self, table: Table, key: str, *, for_update: bool = False) -> Row | None:
        row = self.tables.rows[table.name].get(key)
        return None if row is None else self._copy(rules_of(table.name), row)

    def _matching(self, table: Table, where: Sequence[Where]) -> list[Row]:
        candidates = self._candidates(table, where)
        self.examined[table.name] = max(self.examined.get(table.name, 0), len(candidates))
        matches = _test(where, self.tables)
        return [row for row in candidates if matches(row)]

    def _candidates(self, table: Table, where: Sequence[Where]) -> Collection[Row]:
        """The rows an index narrows `where` to: by id, by a unique rule whose columns the
        terms fix (the one default repository of a project), by the longest prefix of an
        index that the terms fix (IsNull fixes a column to NULL), by a foreign key or an
        index's leading column (each of the values of an In term on it); else all."""
        rows = self.tables.rows[table.name]
        equal = {term.column: term.value for term in where if isinstance(term, Eq)}
        fixed: dict[str, Any] = {**{t.column: None for t in where if isinstance(t, IsNull)}}
        fixed.update(equal)
        if "id" in equal:
            row = rows.get(equal["id"])
            return [] if row is None else [row]
        if self.tables is self.db and equal:
            for rule in rules_of(table.name).uniques:
                partial_ok = rule.only is None or covered(rule.only) in where
                if partial_ok and all(column in equal for column in rule.columns):
                    values = tuple(equal[column] for column in rule.columns)
                    key = self.db.unique[(table.name, rule.name)].get(values)
                    return [] if key is None else [rows[key]]
        prefixes = [
            columns
            for columns in rules_of(table.name).looked_up_prefixes
            if all(column in fixed for column in columns)
        ]
        if prefixes:
            columns = max(prefixes, key=len)
            keys = self.tables.prefix_index(table.name, columns).get(
                tuple(fixed[column] for column in columns), ()
            )
            return [rows[key] for key in keys]
        for column, value in equal.items():
            index = self.tables.referrer_index(table.name, column)
            if index is not None:
                return [rows[key] for key in index.get(value, ())]
        for term in where:
            if isinstance(term, AnyRelated) and any(isinstance(t, Eq) for t in term.where):
                # The related rows of one value (a task's dependencies), found through the
                # related table's index, name the rows: looked up by key, as the SQL store
                # asks for `id IN (SELECT ...)`.
                related = self._matching(metadata.tables[term.table], term.where)
                linked = dict.fromkeys(row[term.column] for row in related)
                return [rows[key] for key in linked if key in rows]
        for term in where:
            if (
                isinstance(term, Since | Before)
                and term.column in rules_of(table.name).ranged_columns
            ):
                ordered = self.tables.ordered_index(table.name, term.column)
                if isinstance(term, Since):
                    chosen = ordered[bisect_left(ordered, (term.value,)) :]
                else:
                    chosen = ordered[: bisect_left(ordered, (term.value,))]
                return [rows[key] for _, key in chosen]
        for term in where:
            if isinstance(term, In):
                index = self.tables.referrer_index(table.name, term.column)
                if index is not None:
                    return [rows[key] for value in term.values for key in index.get(value, ())]
        return rows.values()

    def select(
        self,
        table: Table,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        rows = _sort(self._matching(table, where), order_by)
        end = None if limit is None else offset + limit
        rules = rules_of(table.name)
        return [self._copy(rules, row) for row in rows[offset:end]]

    def select_with(
        self,
        table: Table,
        referenced: Referenced,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[Row, Row | None]]:
        target_table = referenced_table(table, referenced.via)
        target, rules = self.tables.rows[target_table.name], rules_of(target_table.name)
        found: list[tuple[Row, Row | None]] = []
        for row in self.select(table, where, order_by, limit, offset):
            other = target.get(row[referenced.via]) if row[referenced.via] is not None else None
            if other is None:
                found.append((row, None))
            else:
                copied = self._copy(rules, other)
                found.append((row, {name: copied[name] for name in ("id", *referenced.columns)}))
        return found

    def count(self, table: Table, where: Sequence[Where] = ()) -> int:
        return len(self._matching(table, where))

    def aggregate(
        self,
        table: Table,
        aggregates: Sequence[Aggregate],
        where: Sequence[Where] = (),
        group_by: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        greatest = self._greatest(table, aggregates, where, group_by)
        if greatest is not None:
            return [greatest]
        groups: dict[tuple[Any, ...], list[Row]] = {} if group_by else {(): []}
        for row in self._matching(table, where):
            groups.setdefault(tuple(row[column] for column in group_by), []).append(row)
        return [
            (*key, *(_aggregated(aggregate, groups[key]) for aggregate in aggregates))
            for key in sorted(groups, key=_null_first)
        ]

    def _greatest(
        self,
        table: Table,
        aggregates: Sequence[Aggregate],
        where: Sequence[Where],
        group_by: Sequence[str],
    ) -> tuple[Any] | None:
        """The answer to a Max of the whole-number column an index ends in, over the rows
        whose leading columns the terms fix (Eq, and nothing else): the last of that
        group's values, as a database reads it from the end of the index, without reading
        the group's rows (an agent's next chunk number, whatever the length of its log).
        None where the question is any other."""
        if group_by or len(aggregates) != 1 or not isinstance(aggregates[0], Max):
            return None
        fixed = {term.column: term.value for term in where if isinstance(term, Eq)}
        if len(fixed) != len(where):
            return None
        for within in rules_of(table.name).greatest_within:
            columns, column = within
            if column == aggregates[0].column and set(columns) == set(fixed):
                index = self.tables.greatest_index(table.name, within)
                entries = index.get(tuple(fixed[name] for name in columns), [])
                self.examined[table.name] = max(self.examined.get(table.name, 0), 1)
                return (entries[-1][0] if entries else None,)
        return None

    def update(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> int:
        rules = rules_of(table.name)
        matched = sorted(self._matching(table, where), key=itemgetter("id"))
        with self.atomic():
            for old in matched:
                new = {**old, **values}
                for column, delta in (increments or {}).items():
                    new[column] = old[column] + delta
                self._check(rules, old["id"], new, old)
                self.db._put(table.name, old["id"], self._copy(rules, new))
        return len(matched)

    def update_one(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> Row | None:
        matched = self._matching(table, where)
        if not matched:
            return None
        self.update(table, [Eq("id", matched[0]["id"])], values, increments)
        return self.get(table, matched[0]["id"])

    def claim(
        self,
        table: Table,
        where: Sequence[Where],
        order_by: Sequence[Order],
        values: Mapping[str, Any],
    ) -> Row | None:
        # The database's lock admits one writer at a time: no other claimer can come between
        # the choice and the write.
        first = self.select(table, where, order_by, limit=1)
        if not first:
            return None
        return self.update_one(table, [Eq("id", first[0]["id"])], values)

    def delete(self, table: Table, where: Sequence[Where]) -> int:
        keys = {row["id"] for row in self._matching(table, where)}
        if not keys:
            return 0
        plan = plan_delete(table, keys, self.referrers)
        if (refusal := plan.refusal()) is not None:
            raise refusal
        with self.atomic():
            for (child, column), child_keys in plan.cleared.items():
                for key in child_keys:
                    self.db._put(child, key, {**self.db.rows[child][key], column: None})
            for name, removed in plan.removed.items():
                for key in removed:
                    self.db._drop(name, key)
        return len(keys)

    def delete_first(
        self, table: Table, where: Sequence[Where], order_by: Sequence[Order], limit: int
    ) -> int:
        chosen = self.select(table, where, order_by, limit)
        if not chosen:
            return 0
        return self.delete(table, [In("id", frozenset(row["id"] for row in chosen))])

    def referrers(self, table: Table, column: str, keys: set[str]) -> Iterator[tuple[str, str]]:
        index = self.tables.referrer_index(table.name, column)
        if index is not None:
            for parent in keys:
                for child in index.get(parent, ()):
                    yield child, parent
        else:
            for row in self.tables.rows[table.name].values():
                if row.get(column) in keys:
                    yield row["id"], row[column]

    def serialize(self, table: Table, key: str) -> None:
        # One writing unit of work holds the database's lock at a time already.
        return None

    def append_log(self, table: Table, rows: Sequence[Row]) -> None:
        # The writer lock this unit of work holds orders appends as commits are ordered.
        last = self.db.log_sequences.get(table.name, 0)
        for row in rows:
            last += 1
            stored = {column.name: row.get(column.name) for column in table.columns}
            stored["sequence"] = last
            self.db._put(table.name, f"{last:020d}", stored)
        self.db.log_sequences[table.name] = last

    def _log_range(self, table: Table, after: int, upto: int, limit: int | None) -> list[Row]:
        """The rows of a log table numbered after `after` and up to `upto`, in order, at
        most `limit`: looked up by key, number by number (its primary-key index), so a read
        costs what it returns and the numbers a rolled-back append skipped, never a walk of
        the log. Numbers past the last one handed out hold nothing."""
        rows = self.tables.rows[table.name]
        last = min(upto, self.db.log_sequences.get(table.name, 0))
        found: list[Row] = []
        # Readers and purges start at the purge's horizon or after it: below it, every
        # number is gone, and the walk would only find the holes.
        sequence = after + 1
        while sequence <= last and (limit is None or len(found) < limit):
            row = rows.get(f"{sequence:020d}")
            if row is not None:
                found.append(row)
            sequence += 1
        self.examined[table.name] = max(self.examined.get(table.name, 0), len(found))
        return found

    def read_log(self, table: Table, after: int, limit: int) -> list[Row]:
        return [dict(row) for row in self._log_range(table, after, INT64_MAX, limit)]

    def log_prefix(
        self, table: Table, after: int, upto: int, before: datetime, limit: int
    ) -> int | None:
        return older_run(self._log_range(table, after, upto, limit), before)

    def trim_log(self, table: Table, after: int, through: int) -> int:
        gone = [row["sequence"] for row in self._log_range(table, after, through, None)]
        for sequence in gone:
            self.db._drop(table.name, f"{sequence:020d}")
        return len(gone)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        mark = len(self.db.undo)
        try:
            yield
        except BaseException:
            self.db.rollback_to(mark)
            raise
