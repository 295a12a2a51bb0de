"""Audit rules: the retention purge of the audit trail, in one unit of work (for the bounded
batches of every kind, see `services.retention`)."""

from __future__ import annotations

from datetime import timedelta

from agentkeel.ports.unit_of_work import UnitOfWork

RETENTION_SETTING = "logging.retentionDays"


def purge_audit_logs(uow: UnitOfWork, *, limit: int | None = None) -> int:
    """Delete audit entries older than `logging.retentionDays` days, the oldest first, at
    most `limit` of them (None: all); return how many.

    The purge leaves one entry of its own that says how many went and up to when, and
    records `AuditLogsPurged` (both written by `uow.audit_logs.purge_before`, so no caller
    can cut the trail without a trace). `services.retention.purge_expired` runs it in
    bounded batches, each its own unit of work. Raises NotFound if the setting is missing
    (seed the defaults first), InvalidValue for a bad `limit`.
    """
    days = uow.settings.value_as(RETENTION_SETTING, int)
    return uow.audit_logs.purge_before(uow.clock.now() - timedelta(days=days), limit=limit)
