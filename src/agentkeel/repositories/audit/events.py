"""The event log: the events of every committed unit of work, numbered in commit order, read by
position, purged from the oldest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from agentkeel.domain.audit import EventLogPurged
from agentkeel.domain.errors import EventsPurged, InvalidValue
from agentkeel.domain.events import DomainEvent, LoggedEvent, encode_event
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.events import READ_LIMIT
from agentkeel.ports.store import Asc, Eq, Max, Row, RowStore
from agentkeel.repositories.read_only import ReadOnlyStore
from agentkeel.repositories.state import UnitState, append_audit_entry, purge_entry, purge_limit
from agentkeel.schema.columns import EVENT_CONSUMERS, EVENT_LOG, LOG_HORIZONS
from agentkeel.schema.events import event_consumers, event_log, log_horizons

LABEL = "event_log"


# An unbounded purge looks at the log this many events at a time.
_PAGE = 10_000


def log_rows(events: Sequence[DomainEvent], now: datetime) -> list[Row]:
    """The event log's rows for a committing unit of work's events."""
    rows = []
    for event in events:
        event_type, payload = encode_event(event)
        rows.append(
            {
                EVENT_LOG.event_type: event_type,
                EVENT_LOG.payload: payload,
                EVENT_LOG.recorded_at: now,
            }
        )
    return rows


def purged_through(store: RowStore) -> int:
    """The highest sequence number the purge has removed through (0: never purged)."""
    row = store.get(log_horizons, event_log.name)
    return 0 if row is None else int(row[LOG_HORIZONS.purged_through])


def last_sequence(store: RowStore) -> int:
    """The number of the newest event committed; the purge's horizon if the log is empty
    since a purge (numbers are never reused)."""
    [(last,)] = store.aggregate(event_log, [Max(EVENT_LOG.sequence)])
    return max(int(last or 0), purged_through(store))


def hold_the_log(store: RowStore) -> None:
    """Take turns, until the transaction ends, with every purge of the event log and every
    registration of a consumer."""
    store.serialize(event_log, "purge")


def fallen_behind(store: RowStore, position: int, horizon: int) -> EventsPurged:
    first = store.read_log(event_log, horizon, 1)
    return EventsPurged(position, horizon, int(first[0][EVENT_LOG.sequence]) if first else None)


class EventLogTable:
    def __init__(self, state: UnitState) -> None:
        self._state = state
        self._store = state.store
        self._snapshot = isinstance(state.store, ReadOnlyStore)

    def read_after(self, sequence: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        check_whole(LABEL, "sequence", sequence, 0, INT64_MAX)
        check_whole(LABEL, "limit", limit, 1, READ_LIMIT)
        while True:
            horizon = purged_through(self._store)
            if sequence < horizon:
                raise fallen_behind(self._store, sequence, horizon)
            rows = self._store.read_log(event_log, sequence, limit)
            # A read-only unit of work reads one snapshot: a purge is in both reads or in
            # neither. A writing one on PostgreSQL (READ COMMITTED) may see a purge commit
            # between them: the events read may then lack some the horizon did not yet
            # say were gone, so it looks again.
            if self._snapshot or purged_through(self._store) == horizon:
                break
        return [
            LoggedEvent(
                sequence=row[EVENT_LOG.sequence],
                event_type=row[EVENT_LOG.event_type],
                payload=json.loads(row[EVENT_LOG.payload]),
                recorded_at=row[EVENT_LOG.recorded_at],
            )
            for row in rows
        ]

    def last_sequence(self) -> int:
        return last_sequence(self._store)

    def purged_through(self) -> int:
        return purged_through(self._store)

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        cutoff = _utc(cutoff)
        bound = purge_limit(LABEL, limit)
        hold_the_log(self._store)
        horizon = purged_through(self._store)
        lowest = self._store.select(
            event_consumers, order_by=[Asc(EVENT_CONSUMERS.position)], limit=1
        )
        upto = int(lowest[0][EVENT_CONSUMERS.position]) if lowest else INT64_MAX
        through = horizon
        while True:
            last = self._store.log_prefix(event_log, through, upto, cutoff, bound or _PAGE)
            if last is None:
                break
            through = last
            if bound is not None:
                break
        if through == horizon:
            return 0
        now = self._store.clock.now()
        with self._store.atomic():
            removed = self._store.trim_log(event_log, horizon, through)
            mark = {LOG_HORIZONS.purged_through: through, LOG_HORIZONS.purged_at: now}
            if self._store.get(log_horizons, event_log.name) is None:
                self._store.insert(
                    log_horizons,
                    {LOG_HORIZONS.id: event_log.name, **mark, LOG_HORIZONS.row_version: 1},
                )
            else:
                where = [Eq(LOG_HORIZONS.id, event_log.name)]
                self._store.update(log_horizons, where, mark, {LOG_HORIZONS.row_version: 1})
            entry = purge_entry(self._state, event_log, "events", removed, cutoff, through=through)
            append_audit_entry(self._state, entry)
        self._state.events.append(EventLogPurged(through, removed))
        return removed


def check_whole(label: str, name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(label, name, value, f"must be a whole number from {low} to {high:,}")


def _utc(value: object) -> datetime:
    """A purge's cutoff, checked as the `recorded_at` it is compared with: an aware
    datetime, in UTC."""
    if value is None:
        problem = "must be given: a bound to compare with, not None"
    elif not isinstance(value, datetime):
        problem = f"must be a datetime, not {type(value).__name__}"
    elif value.tzinfo is None or value.utcoffset() is None:
        problem = "must be timezone-aware"
    else:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            problem = "is out of range when converted to UTC"
    raise InvalidValue(LABEL, "recorded_at", value, problem)
