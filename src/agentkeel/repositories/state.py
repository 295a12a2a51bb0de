"""What one open unit of work lends its repositories (its store, who acts, the events
recorded, the row versions seen, the unit of work itself), and the audit entries written
straight into its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import JsonValue
from sqlalchemy import Table

from agentkeel.domain.audit import AuditEntry, EventCategory, EventSource
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.events import DomainEvent
from agentkeel.ports.base import PURGE_LIMIT
from agentkeel.ports.store import RowStore
from agentkeel.schema import label_of, table_of

if TYPE_CHECKING:
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork


def purge_limit(label: str, limit: object) -> int | None:
    """`limit` of a purge, checked: None (no bound) or a whole number from 1 to
    `PURGE_LIMIT`; anything else is an InvalidValue naming `limit`."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PURGE_LIMIT:
        problem = f"must be a whole number from 1 to {PURGE_LIMIT:,}, or None for no bound"
        raise InvalidValue(label, "limit", limit, problem)
    return limit


def purge_entry(
    state: UnitState,
    table: Table,
    noun: str,
    removed: int,
    cutoff: datetime,
    **data: JsonValue,
) -> AuditEntry:
    """The one audit entry of a retention purge's batch of `table` (`<table>.purged`): how
    many went (`noun`: what they are, plural) and up to when."""
    return AuditEntry(
        entity_type=label_of(table),
        event_type=f"{table.name}.purged",
        event_category=EventCategory.RECORD,
        message=f"Purged {removed} {noun} older than {cutoff.isoformat()}",
        event_data={"removed": removed, "cutoff": cutoff.isoformat(), **data},
        source=state.source,
    )


def append_audit_entry(state: UnitState, entry: AuditEntry) -> None:
    """Append `entry` to the audit trail in the unit of work's transaction, stamped now."""
    row = entry.to_row()
    row["timestamp"] = state.store.clock.now()
    state.store.insert(table_of(AuditEntry), row)


@dataclass
class UnitState:
    """The state of one open unit of work, which it lends its repositories: its store, who
    acts, the events recorded, and the row version at which this transaction first saw each
    versioned row."""

    store: RowStore
    source: EventSource = EventSource.SYSTEM
    events: list[DomainEvent] = field(default_factory=list)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    # The repositories built so far, by attribute name (see OnFirstUse).
    repositories: dict[str, object] = field(default_factory=dict)
    # The unit of work they belong to: how one repository reaches another.
    uow: BaseUnitOfWork | None = None

    def end_transaction(self) -> None:
        self.events.clear()
        self.seen.clear()
