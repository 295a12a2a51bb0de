"""The retention purge, written once for the append-only tables that keep a bounded past
(audit entries, idempotency keys, agent log chunks, metrics): the oldest rows first, in
bounded batches, each batch with one audit entry and one event saying how many went."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, TypeVar

from agentkeel.domain.audit import RecordsPurged
from agentkeel.domain.entity import Entity
from agentkeel.ports.store import Asc, Before, Order
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.state import append_audit_entry, purge_entry, purge_limit

P = TypeVar("P", bound=Entity)


class PurgingTable(TableRepository[P]):
    """A repository whose old rows the retention purge removes."""

    # What the rows are, plural, in a purge's audit entry (default: the table's name).
    purged_noun: ClassVar[str | None] = None

    def _purge_before(
        self, column: str, cutoff: datetime, limit: int | None, then: Sequence[Order] = ()
    ) -> int:
        """The retention purge of an append-only table: delete the rows whose `column` (a
        time, indexed) is before `cutoff`, the oldest first (ties in `then` order, then by
        id), at most `limit` of them (None: all) in one statement, with one audit entry
        saying how many went and up to when; then `_purged` records the event. Returns how
        many went. InvalidValue names `column` for a cutoff that is not an aware datetime,
        `limit` for a bad bound."""
        [older] = self._query([Before(column, cutoff)])
        assert isinstance(older, Before)
        cutoff = older.value  # in UTC
        bound = purge_limit(self._label, limit)
        with self._store.atomic():
            if bound is None:
                removed = self._store.delete(self._table, [older])
            else:
                order = [Asc(column), *then]
                removed = self._store.delete_first(self._table, [older], order, bound)
            if removed:
                noun = self.purged_noun or self._table.name.replace("_", " ")
                entry = purge_entry(self._state, self._table, noun, removed, cutoff)
                append_audit_entry(self._state, entry)
        if removed:
            self._purged(removed, cutoff)
        return removed

    def _purged(self, removed: int, cutoff: datetime) -> None:
        """Record the event a purge of `removed` rows older than `cutoff` means."""
        self._record(RecordsPurged(self._label, removed, cutoff))
