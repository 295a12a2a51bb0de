"""The in-memory fake's state: the rows of every table and their indexes, and snapshots.

`MemoryDatabase` holds the rows of every table of `metadata`, with an index per unique rule
and per foreign key, one per prefix of the schema's indexes (`looked_up_prefixes`), the
values of the time columns that lead an index in order (`ranged_columns`) and of the
whole-number columns that end one, per group (`greatest_within`), all derived from the
schema. Every change goes through `_put`/`_drop`, which keep the indexes and an
undo log, so a rollback (of a unit of work or of a savepoint) restores the previous state
exactly. One writing unit of work holds the database's lock at a time, as SQLite's writer
lock does; a read-only one takes no lock and reads a `snapshot()` of the committed rows, as
SQLite readers read a WAL snapshot.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from agentkeel.adapters.constraints import rules_of
from agentkeel.ports.store import Row
from agentkeel.repositories.writers import busy
from agentkeel.schema import metadata

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

    def greatest_index(self, table: str, within: Within) -> dict[tuple[Any, ...], list[Entry]]:
        """Values of the leading columns -> (value, key) of each of their rows whose
        whole-number column is not NULL, in order, for one of the table's
        `TableRules.greatest_within`."""
        ...


Referring = dict[tuple[str, str], dict[Any, set[str]]]
Prefixed = dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], set[str]]]
Ordered = dict[tuple[str, str], list[tuple[Any, str]]]
# (leading columns, whole-number column): see `TableRules.greatest_within`
Within = tuple[tuple[str, ...], str]
Entry = tuple[Any, str]
Greatest = dict[tuple[str, Within], dict[tuple[Any, ...], list[Entry]]]


class MemorySnapshot:
    """The committed rows at one moment. Rows are never changed in place (a write puts a new
    dict), so copying each table's mapping is enough. Taken between units of work, it
    shares the live indexes too (the database copies a table's indexes, as its mapping,
    before its next change); taken while a writer has changes open, its indexes are built
    on use."""

    def __init__(
        self,
        rows: dict[str, dict[str, Row]],
        indexes: tuple[Referring, Prefixed, Ordered, Greatest] | None = None,
    ) -> None:
        self.rows = rows
        self._referring: Referring = {}
        self._prefixed: Prefixed = {}
        self._ordered: Ordered = {}
        self._greatest: Greatest = {}
        if indexes is not None:
            self._referring, self._prefixed, self._ordered, self._greatest = indexes

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
                index.setdefault(tuple(map(row.get, columns)), set()).add(key)
            self._prefixed[(table, columns)] = index
        return index

    def greatest_index(self, table: str, within: Within) -> dict[tuple[Any, ...], list[Entry]]:
        index = self._greatest.get((table, within))
        if index is None:
            index = {}
            for key, row in self.rows[table].items():
                _add_entry(index, within, key, row)
            self._greatest[(table, within)] = index
        return index


def _add_entry(
    index: dict[tuple[Any, ...], list[Entry]], within: Within, key: str, row: Row
) -> None:
    columns, column = within
    if row.get(column) is not None:
        insort(index.setdefault(tuple(map(row.get, columns)), []), (row[column], key))


def _drop_entry(
    index: dict[tuple[Any, ...], list[Entry]], within: Within, key: str, row: Row
) -> None:
    columns, column = within
    if row.get(column) is None:
        return
    values = tuple(map(row.get, columns))
    entries = index.get(values)
    if entries is not None:
        _discard_sorted(entries, (row[column], key))
        if not entries:
            del index[values]


def _discard_sorted(entries: list[Entry], entry: Entry) -> None:
    """Take `entry` out of the sorted `entries`, if it is there."""
    at = bisect_left(entries, entry)
    if at < len(entries) and entries[at] == entry:
        del entries[at]


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
        # (table, (leading columns, whole-number column)) -> their values -> (value, key), in
        # order
        self.greatest: Greatest = {}
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
            for within in rules.greatest_within:
                self.greatest[(name, within)] = {}
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

    def greatest_index(self, table: str, within: Within) -> dict[tuple[Any, ...], list[Entry]]:
        return self.greatest[(table, within)]

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
            for within in rules.greatest_within:
                kept = self.greatest[(table, within)]
                self.greatest[(table, within)] = {v: list(e) for v, e in kept.items()}
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
                indexes = (
                    dict(self.referring),
                    dict(self.prefixed),
                    dict(self.ordered),
                    dict(self.greatest),
                )
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
            values = tuple(map(row.get, columns))
            self.prefixed[(table, columns)].setdefault(values, set()).add(key)
        for column in rules.ranged_columns:
            insort(self.ordered[(table, column)], (row[column], key))
        for within in rules.greatest_within:
            _add_entry(self.greatest[(table, within)], within, key, row)

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
            values = tuple(map(row.get, columns))
            index = self.prefixed[(table, columns)]
            keys = index.get(values)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[values]
        for column in rules.ranged_columns:
            _discard_sorted(self.ordered[(table, column)], (row[column], key))
        for within in rules.greatest_within:
            _drop_entry(self.greatest[(table, within)], within, key, row)

    def rollback_to(self, mark: int) -> None:
        with self._state:
            while len(self.undo) > mark:
                table, key, old = self.undo.pop()
                if old is None:
                    self._drop(table, key, log=False)
                else:
                    self._put(table, key, old, log=False)
