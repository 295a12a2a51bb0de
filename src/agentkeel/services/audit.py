"""Audit rules: the retention purge."""

from __future__ import annotations

from datetime import timedelta

from agentkeel.domain.audit import AuditEntry, AuditLogsPurged, EventCategory
from agentkeel.ports.unit_of_work import UnitOfWork

RETENTION_SETTING = "logging.retentionDays"


def purge_audit_logs(uow: UnitOfWork) -> int:
    """Delete audit entries older than `logging.retentionDays` days; return how many.

    The purge leaves one entry of its own that says how many went and up to when.
    Raises NotFound if the setting is missing (seed the defaults first).
    """
    days = uow.settings.value_as(RETENTION_SETTING, int)
    cutoff = uow.clock.now() - timedelta(days=days)
    removed = uow.audit_logs.purge_before(cutoff)
    if removed:
        uow.audit_logs.add(
            AuditEntry(
                entity_type="audit_entry",
                event_type="audit_logs.purged",
                event_category=EventCategory.RECORD,
                message=f"Purged {removed} audit entries older than {days} days",
                event_data={"removed": removed, "cutoff": cutoff.isoformat()},
                source=uow.source,
            )
        )
        uow.record(AuditLogsPurged(removed))
    return removed
