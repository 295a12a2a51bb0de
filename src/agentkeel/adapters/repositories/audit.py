"""The audit log repository: append and read; entries leave only by the retention purge."""

from __future__ import annotations

import builtins
from datetime import datetime

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.adapters.store import Before, Desc, Since
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import Protected


class AuditLogRepository(TableRepository[AuditEntry]):
    entity = AuditEntry

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
        where = self._eq_filters(
            entity_type=entity_type,
            entity_id=entity_id,
            event_type=event_type,
            event_category=category,
        )
        if since is not None:
            where.append(Since("timestamp", since))
        return self._select(where, [Desc("timestamp")], limit)

    def purge_before(self, cutoff: datetime) -> int:
        return self._store.delete(self._table, self._query([Before("timestamp", cutoff)]))

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(
            "audit_entry", key, "cannot be deleted: only the retention purge removes entries"
        )
