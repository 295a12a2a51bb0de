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
        """Raises NotFound."""
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

    def count(self) -> int: ...

    def purge_before(self, cutoff: datetime) -> int:
        """Delete entries older than `cutoff`; return how many went."""
        ...
