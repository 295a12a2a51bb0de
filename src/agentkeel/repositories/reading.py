"""The rows a write's rules read, read once per write, and a batch's read ahead.

A rule that checks a row against another (a task's phase belongs to its initiative) reads
that row through `_read`: once per write, and for `add_many`, from rows read ahead a table
at a time (`_read_ahead`, `_read_rows`) or from the batch itself (`_readable`), so that a
batch costs a query per table instead of one per row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table

from agentkeel.ports.store import In, Row, RowStore
from agentkeel.schema.columns import ANY_TABLE


class WriteReads:
    """Mixed into the generic repository: its store, its table, and the reads of the write
    under way (None between writes)."""

    _store: RowStore
    _table: Table
    _reads: dict[tuple[str, str], Row | None] | None = None

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """The scope of one write (an add, or a batch of them): the rows its rules read
        (`_read`) are read once within it. The outermost scope ends them."""
        if self._reads is not None:
            yield
            return
        self._reads = {}
        try:
            yield
        finally:
            self._reads = None

    def _read(self, table: Table, key: str) -> Row | None:
        """The row of `table` with id `key` (None: none), as a rule of the write under way
        reads it: once per write, or from what the batch read ahead or holds itself."""
        reads = self._reads
        if reads is None:
            return self._store.get(table, key)
        if (table.name, key) not in reads:
            reads[(table.name, key)] = self._store.get(table, key)
        return reads[(table.name, key)]

    def _read_rows(self, table: Table, keys: Collection[str | None]) -> None:
        """Read the rows of `table` with these ids (None: no row) ahead, in one query, for
        `_read`."""
        reads = self._reads
        assert reads is not None, "read ahead within `_reading`"
        wanted = frozenset(k for k in keys if k is not None and (table.name, k) not in reads)
        if not wanted:
            return
        reads.update(dict.fromkeys(((table.name, key) for key in wanted), None))
        for row in self._store.select(table, [In(ANY_TABLE.id, wanted)]):
            reads[(table.name, row[ANY_TABLE.id])] = row

    def _readable(self, row: Row) -> None:
        """A row of this table the write under way is adding, for the rules of the rows
        after it in the batch."""
        if self._reads is not None:
            self._reads[(self._table.name, row[ANY_TABLE.id])] = row

    def _forget(self, table: Table, key: str) -> None:
        """A row the write under way changed: read again if a rule asks for it."""
        if self._reads is not None:
            self._reads.pop((table.name, key), None)

    def _read_ahead(self, batch: Sequence[Any]) -> None:
        """Read ahead (`_read_rows`) the rows the rules of adding `batch` will read, so that
        a batch costs a query per table, not one per row. None by default."""
