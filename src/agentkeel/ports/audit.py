"""Ports of the audit context."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.ports.base import Position


class AuditLogs(Protocol):
    """The audit trail: append-only, except for the retention purge (`purge_before`)."""

    def add(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry; its `timestamp` is set now. Raises InvalidValue."""
        ...

    def get(self, key: str) -> AuditEntry:
        """The entry with this id. Raises NotFound."""
        ...

    def find(self, key: str) -> AuditEntry | None:
        """The entry with this id, or None."""
        ...

    def list(
        self,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        event_type: str | None = None,
        category: EventCategory | None = None,
        workflow_id: str | None = None,
        since: datetime | None = None,
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[AuditEntry]:
        """Entries, newest first (`timestamp`, then id), filtered by whatever is given: the
        trail of one entity (`entity_type`, `entity_id`), of a workflow and its steps
        (`workflow_id`), of an event type or category, the entries at or after `since`.
        Each filter is served by an index that ends with `timestamp`. Raises InvalidValue
        for a filter value the column could never hold (a naive datetime, an unknown
        category).
        Paged (see `Position`): at most `limit` after `after` (timestamp, id), newest first;
        InvalidValue naming `after` or `limit` for a bad one."""
        ...

    def count(self) -> int:
        """How many entries are stored."""
        ...

    def update(self, entry: AuditEntry) -> AuditEntry:
        """Always raises Protected: entries are never changed."""
        ...

    def delete(self, key: str) -> dict[str, int]:
        """Always raises Protected: entries leave only by `purge_before` (the retention
        purge)."""
        ...

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        """The retention purge: delete the entries older than `cutoff`, the oldest first, at
        most `limit` (1 to 100,000; None: all) in one statement; return how many went. The
        purge leaves one entry of its own (`audit_logs.purged`, category record: how many
        went and the cutoff) and records `AuditLogsPurged`, when any went, so the trail
        says it was cut. Raises InvalidValue naming `timestamp` for a cutoff that is not a
        timezone-aware datetime, `limit` for a bad bound."""
        ...


class IdempotencyKeys(Protocol):
    """The idempotency keys that `add(..., idempotency_key=...)` has used, each with what
    it created. A key is remembered until the retention purge removes it: a command
    repeated with a purged key runs again and creates anew."""

    def count(self) -> int:
        """How many keys are remembered."""
        ...

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        """The retention purge: forget the keys used before `cutoff`, the oldest first, at
        most `limit` (1 to 100,000; None: all) in one statement; return how many went.
        Writes one audit entry (`idempotency_keys.purged`) and records `RecordsPurged` when
        any went. Raises InvalidValue naming `created_at` for a cutoff that is not a
        timezone-aware datetime, `limit` for a bad bound."""
        ...
