"""Events of the audit context."""

from __future__ import annotations

from dataclasses import dataclass

from agentkeel.domain.events import DomainEvent


@dataclass(frozen=True)
class AuditLogsPurged(DomainEvent):
    """The retention purge removed `removed` audit entries."""

    removed: int
