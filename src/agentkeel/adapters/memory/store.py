"""The in-memory fake of the database: dictionaries that keep the schema's promises.

`MemoryDatabase` holds the rows of every table of `metadata`, with an index per unique rule
and per foreign key, one per prefix of the schema's indexes (`looked_up_prefixes`) and the
values of the time columns that lead an index in order (`ranged_columns`): a query whose
terms fix an index's leading columns, or bound its time, reads only the rows they select,
as the database's index search does, never the whole table. Every change goes through
`_put`/`_drop`, which keep the indexes and an undo log, so a rollback (of a unit of work or
of a savepoint) restores the previous state exactly. One writing unit of work holds the
database's lock at a time, as SQLite's writer lock does; a read-only one takes no lock and
reads a `snapshot()` of the committed rows, as SQLite readers read a WAL snapshot.
"""

from __future__ import annotations

import copy
import threading
from bisect import bisect_left, insort
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any, Protocol, assert_never

from sqlalchemy import Table

from agentkeel.adapters.constraints import TableRules, rules_of
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
from agentkeel.repositories.writers import busy
from agentkeel.schema import metadata
from agentkeel.schema.graph import plan_delete

Undo = tuple[str, str, Row | None]


class Tables(Protocol):
    """Rows to read: the live database, or a snapshot of what was committed."""

    rows: dict[str, dict[str, Row]]

    def referrer_index(self, table: str, column: str) -> dict[Any, set[str]] | None:
        """Value -> keys of the rows holding it, if `column` is looked up by an index (a
        foreign key, the leading column of an index: `TableRules.looked_up_columns`)."""
        ...

    def ordered_index(self, table: str, column: str) -> list[tuple[Any, str]]:
        """(value, key) of every row, in order, for one of the table's
        `TableRules.ranged_columns`."""
        ...

    def prefix_index(self, table: str, columns: tuple[str, ...]) -> dict[tuple[Any, ...], set[str]]:
        """Values -> keys of the rows holding them, for one of the table's
        `TableRules.looked_up_prefixes` (NULLs included: an IsNull term looks them up)."""
        ...


Referring = dict[tuple[str, str], dict[Any, set[str]]]
Prefixed = dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], set[str]]]
Ordered = dict[tuple[str, str], list[tuple[Any, str]]]


class MemorySnapshot:
    """The committed rows at one moment. Rows are never changed in place (a write puts a new
    dict), so copying each table's mapping is enough. Taken between units of work, it
    shares the live indexes too (the database copies a table's indexes, as its mapping,
    before its next change); taken while a writer has changes open, its indexes are built
    on use."""

    def __init__(
        self,
        rows: dict[str, dict[str, Row]],
        indexes: tuple[Referring, Prefixed, Ordered] | None = None,
    ) -> None:
        self.rows = rows
        self._referring: Referring = {}
        self._prefixed: Prefixed = {}
        self._ordered: Ordered = {}
        if indexes is not None:
            self._referring, self._prefixed, self._ordered = indexes

    def ordered_index(self, table: str, column: str) -> list[tuple[Any, str]]:
        index = self._ordered.get((table, column))
        if index is None:
            index = sorted((row[column], key) for key, row in self.rows[table].items())
            self._ordered[(table, column)] = index
        return index

    def referrer_index(self, table: str, column: str) -> dict[Any, set[str]] | None:
        if column not in rules_of(table).looked_up_columns:
            return None
        index = self._referring.get((table, column))
        if index is None:
            index = {}
            for key, row in self.rows[table].items():
                if row.get(column) is not None:
                    index.setdefault(row[column], set()).add(key)
            self._referring[(table, column)] = index
        return index

    def prefix_index(self, table: str, columns: tuple[str, ...]) -> dict[tuple[Any, ...], set[str]]:
        index = self._prefixed.get((table, columns))
        if index is None:
            index = {}
            for key, row in self.rows[table].items():
                index.setdefault(tuple(row.get(c) for c in columns), set()).add(key)
            self._prefixed[(table, columns)] = index
        return index


class MemoryDatabase:
    """The shared state behind every memory unit of work."""

    def __init__(self, lock_timeout: float = 5.0) -> None:
        """`lock_timeout`: seconds a unit of work waits for the lock before `Busy`."""
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in metadata.tables}
        # (table, unique rule name) -> values -> key
        self.unique: dict[tuple[str, str], dict[tuple[Any, ...], str]] = {}
        # (table, looked-up column: a foreign key, an index's first column) -> value -> keys
        self.referring: dict[tuple[str, str], dict[Any, set[str]]] = {}
        # (table, the leading columns of an index) -> their values -> keys
        self.prefixed: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], set[str]]] = {}
        # (table, a time column leading an index) -> (value, key) of every row, in order
        self.ordered: dict[tuple[str, str], list[tuple[Any, str]]] = {}
        for name in metadata.tables:
            rules = rules_of(name)
            for rule in rules.uniques:
                self.unique[(name, rule.name)] = {}
            for column in rules.looked_up_columns:
                self.referring[(name, column)] = {}
            for columns in rules.looked_up_prefixes:
                self.prefixed[(name, columns)] = {}
            for column in rules.ranged_columns:
                self.ordered[(name, column)] = []
        self.undo: list[Undo] = []
        self._lock = threading.Lock()
        self._lock_timeout = lock_timeout
        # Guards rows, indexes and undo log against a snapshot taken while a writer works.
        self._state = threading.RLock()
        # Tables whose mapping a snapshot shares: copied before their next change.
        self._shared: set[str] = set()
        # The last sequence number each log table handed out: never goes back, so a
        # rolled-back append leaves a gap, as a PostgreSQL sequence does.
        self.log_sequences: dict[str, int] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self._lock_timeout):
            raise busy()
        try:
            yield
        finally:
            self._lock.release()

    # -- the only two ways rows change -------------------------------------------------------

    def _put(self, table: str, key: str, row: Row, *, log: bool = True) -> None:
        with self._state:
            rows = self._writable(table)
            old = rows.get(key)
            if old is not None:
                self._unindex(table, key, old)
            rows[key] = row
            self._index(table, key, row)
            if log:
                self.undo.append((table, key, old))

    def _drop(self, table: str, key: str, *, log: bool = True) -> None:
        with self._state:
            old = self._writable(table).pop(key)
            self._unindex(table, key, old)
            if log:
                self.undo.append((table, key, old))

    def referrer_index(self, table: str, column: str) -> dict[Any, set[str]] | None:
        return self.referring.get((table, column))

    def prefix_index(self, table: str, columns: tuple[str, ...]) -> dict[tuple[Any, ...], set[str]]:
        return self.prefixed[(table, columns)]

    def ordered_index(self, table: str, column: str) -> list[tuple[Any, str]]:
        return self.ordered[(table, column)]

    def _writable(self, table: str) -> dict[str, Row]:
        """The table's mapping, copied first, with its indexes, if a snapshot still shares
        them."""
        if table in self._shared:
            self.rows[table] = dict(self.rows[table])
            rules = rules_of(table)
            for column in rules.looked_up_columns:
                shared = self.referring[(table, column)]
                self.referring[(table, column)] = {v: set(keys) for v, keys in shared.items()}
            for columns in rules.looked_up_prefixes:
                held = self.prefixed[(table, columns)]
                self.prefixed[(table, columns)] = {v: set(keys) for v, keys in held.items()}
            for column in rules.ranged_columns:
                self.ordered[(table, column)] = list(self.ordered[(table, column)])
            self._shared.discard(table)
        return self.rows[table]

    def snapshot(self) -> MemorySnapshot:
        """The rows as last committed: the live rows, less what the open writer changed
        (its undo log, replayed backwards on the copies). Between units of work the undo log
        is empty, so it holds only the open writer's changes. With no change open, the
        snapshot shares the live mappings and the next write to a table copies it first
        (copy on write), so a read-only unit of work costs nothing per row."""
        with self._state:
            if not self.undo:
                self._shared = set(self.rows)
                indexes = (dict(self.referring), dict(self.prefixed), dict(self.ordered))
                return MemorySnapshot(dict(self.rows), indexes)
            rows = {name: dict(table) for name, table in self.rows.items()}
            for table, key, old in reversed(self.undo):
                if old is None:
                    rows[table].pop(key, None)
                else:
                    rows[table][key] = old
        return MemorySnapshot(rows)

    def commit(self, mark: int) -> None:
        """Keep everything written since `mark`: forget how to undo it."""
        with self._state:
            del self.undo[mark:]

    def _index(self, table: str, key: str, row: Row) -> None:
        rules = rules_of(table)
        for rule in rules.uniques:
            values = rule.key(row)
            if values is not None:
                self.unique[(table, rule.name)][values] = key
        for column in rules.looked_up_columns:
            value = row.get(column)
            if value is not None:
                self.referring[(table, column)].setdefault(value, set()).add(key)
        for columns in rules.looked_up_prefixes:
            values = tuple(row.get(column) for column in columns)
            self.prefixed[(table, columns)].setdefault(values, set()).add(key)
        for column in rules.ranged_columns:
            insort(self.ordered[(table, column)], (row[column], key))

    def _unindex(self, table: str, key: str, row: Row) -> None:
        rules = rules_of(table)
        for rule in rules.uniques:
            values = rule.key(row)
            if values is not None:
                self.unique[(table, rule.name)].pop(values, None)
        for column in rules.looked_up_columns:
            value = row.get(column)
            if value is not None:
                keys = self.referring[(table, column)].get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self.referring[(table, column)][value]
        for columns in rules.looked_up_prefixes:
            values = tuple(row.get(column) for column in columns)
            index = self.prefixed[(table, columns)]
            keys = index.get(values)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[values]
        for column in rules.ranged_columns:
            ordered = self.ordered[(table, column)]
            at = bisect_left(ordered, (row[column], key))
            if at < len(ordered) and ordered[at] == (row[column], key):
                del ordered[at]

    def rollback_to(self, mark: int) -> None:
        with self._state:
            while len(self.undo) > mark:
                table, key, old = self.undo.pop()
                if old is None:
                    self._drop(table, key, log=False)
                else:
                    self._put(table, key, old, log=False)


def _matches(row: Row, where: Sequence[Where], tables: Tables) -> bool:
    for term in where:
        match term:
            case Eq():
                value = row.get(term.column)
                ok = value is not None and value == term.value
            case Ne():
                value = row.get(term.column)
                ok = value is not None and value != term.value
            case In():
                value = row.get(term.column)
                ok = value is not None and value in term.values
            case IsNull():
                ok = row.get(term.column) is None
            case NotNull():
                ok = row.get(term.column) is not None
            case Before():
                value = row.get(term.column)
                ok = value is not None and value < term.value
            case Since():
                value = row.get(term.column)
                ok = value is not None and value >= term.value
            case AnyRelated() | NoneRelated():
                found = any(
                    _matches(related, term.where, tables)
                    for related in _referring(tables, term.table, term.column, row["id"])
                )
                ok = found if isinstance(term, AnyRelated) else not found
            case RefersTo() | NotRefersTo():
                key = row.get(term.column)
                target = None if key is None else tables.rows[term.table].get(key)
                found = target is not None and _matches(target, term.where, tables)
                ok = found if isinstance(term, RefersTo) else not found
            case Reaches():
                ok = _reaches(row, term, tables)
            case _:
                assert_never(term)
        if not ok:
            return False
    return True


def _reaches(row: Row, term: Reaches, tables: Tables) -> bool:
    """Whether `row` matches `term.where` or reaches a row that does along the edges, every
    row on the way (`row` included) matching `term.through`: a walk forwards from `row`."""
    if _matches(row, term.where, tables):
        return True
    if not _matches(row, term.through, tables):
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
                if _matches(node, term.where, tables):
                    return True
                if _matches(node, term.through, tables):
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
        return [row for row in candidates if _matches(row, where, self.tables)]

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
        groups: dict[tuple[Any, ...], list[Row]] = {} if group_by else {(): []}
        for row in self._matching(table, where):
            groups.setdefault(tuple(row[column] for column in group_by), []).append(row)
        return [
            (*key, *(_aggregated(aggregate, groups[key]) for aggregate in aggregates))
            for key in sorted(groups, key=_null_first)
        ]

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
