"""Ports of the audit context."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from agentkeel.domain.audit import AuditEntry, EventCategory


class AuditLogs(Protocol):
    """The audit trail: append-only, except for the retention purge."""

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
        since: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[AuditEntry]:
        """Entries, newest first, filtered by whatever is given."""
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

    def purge_before(self, cutoff: datetime) -> int:
        """Delete entries older than `cutoff`; return how many went. Raises InvalidValue for
        a naive datetime."""
        ...
