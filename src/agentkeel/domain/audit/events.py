"""Events of the audit context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentkeel.domain.events import DomainEvent


@dataclass(frozen=True)
class AuditLogsPurged(DomainEvent):
    """The retention purge removed `removed` audit entries."""

    removed: int


@dataclass(frozen=True)
class RecordsPurged(DomainEvent):
    """The retention purge removed `removed` rows of `entity_type` (agent log chunks,
    metrics, idempotency keys) older than `before`."""

    entity_type: str
    removed: int
    before: datetime


@dataclass(frozen=True)
class EventLogPurged(DomainEvent):
    """The retention purge removed `removed` events from the event log: it now holds no
    event numbered `through` or below (a reader at a lower position gets `EventsPurged`)."""

    through: int
    removed: int
