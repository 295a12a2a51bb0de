"""The audit trail: appended, read by entity, workflow or time, purged by age."""

from __future__ import annotations

import builtins
from datetime import datetime

from agentkeel.domain.audit import AuditEntry, AuditLogsPurged, EventCategory
from agentkeel.domain.errors import Protected
from agentkeel.ports.base import Position
from agentkeel.ports.store import Since
from agentkeel.repositories.paging import PagedTable
from agentkeel.repositories.purging import PurgingTable
from agentkeel.schema.columns import AUDIT_LOGS


class AuditLogsTable(PagedTable[AuditEntry], PurgingTable[AuditEntry]):
    entity = AuditEntry
    purged_noun = "audit entries"

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
        where = self._eq_filters(
            entity_type=entity_type,
            entity_id=entity_id,
            event_type=event_type,
            event_category=category,
            workflow_id=workflow_id,
        )
        if since is not None:
            where.append(Since(AUDIT_LOGS.timestamp, since))
        return self._page(where, AUDIT_LOGS.timestamp, newest_first=True, after=after, limit=limit)

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        return self._purge_before(AUDIT_LOGS.timestamp, cutoff, limit)

    def _purged(self, removed: int, cutoff: datetime) -> None:
        self._record(AuditLogsPurged(removed))

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(
            "audit_entry", key, "cannot be deleted: only the retention purge removes entries"
        )
