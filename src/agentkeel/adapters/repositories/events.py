"""The event log's repository: reads, for consumers. Appending is the unit of work's own
business (`BaseUnitOfWork.commit`), done with `log_rows` in the committing transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from agentkeel.adapters.repositories.base import UnitState
from agentkeel.adapters.store import Max, Row
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.events import DomainEvent, LoggedEvent, encode_event
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.events import READ_LIMIT
from agentkeel.schema.events import event_log

LABEL = "event_log"


def log_rows(events: Sequence[DomainEvent], now: datetime) -> list[Row]:
    """The event log's rows for a committing unit of work's events."""
    rows = []
    for event in events:
        event_type, payload = encode_event(event)
        rows.append({"event_type": event_type, "payload": payload, "recorded_at": now})
    return rows


class EventLogRepository:
    def __init__(self, state: UnitState) -> None:
        self._store = state.store

    def read_after(self, sequence: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        _check_whole("sequence", sequence, 0, INT64_MAX)
        _check_whole("limit", limit, 1, READ_LIMIT)
        rows = self._store.read_log(event_log, sequence, limit)
        return [
            LoggedEvent(
                sequence=row["sequence"],
                event_type=row["event_type"],
                payload=json.loads(row["payload"]),
                recorded_at=row["recorded_at"],
            )
            for row in rows
        ]

    def last_sequence(self) -> int:
        [(last,)] = self._store.aggregate(event_log, [Max("sequence")])
        return int(last or 0)


def _check_whole(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(LABEL, name, value, f"must be a whole number from {low} to {high:,}")
