"""The event log's repository: reads, for consumers, and the retention purge; and the named
consumers whose positions the purge respects. Appending is the unit of work's own business
(`BaseUnitOfWork.commit`), done with `log_rows` in the committing transaction.

How a purge and the readers stay honest with each other:
- A purge removes a prefix of the log, in sequence order: from the oldest event up to the
  first one recorded at or after its cutoff, and never past the lowest position of a
  registered consumer. Sequence numbers are given in commit order (`RowStore.append_log`),
  so no event still to be committed can be numbered inside that prefix.
- It records how far it went (`log_horizons`): a reader whose position is below that has
  missed events and gets `EventsPurged` instead of the events after the hole.
- Purges and registrations of consumers take turns (`_hold_the_log`), so a consumer cannot
  register at a position that a concurrent purge is removing.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from agentkeel.domain.audit import EventConsumer, EventLogPurged
from agentkeel.domain.errors import EventsPurged, InvalidValue, NotFound
from agentkeel.domain.events import DomainEvent, LoggedEvent, encode_event
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.events import READ_LIMIT
from agentkeel.ports.store import Asc, Eq, Max, Row, RowStore
from agentkeel.repositories.base import (
    TableRepository,
    UnitState,
    append_audit_entry,
    purge_entry,
    purge_limit,
)
from agentkeel.repositories.read_only import ReadOnlyStore
from agentkeel.schema.events import event_consumers, event_log, log_horizons

LABEL = "event_log"
# An unbounded purge looks at the log this many events at a time.
_PAGE = 10_000


def log_rows(events: Sequence[DomainEvent], now: datetime) -> list[Row]:
    """The event log's rows for a committing unit of work's events."""
    rows = []
    for event in events:
        event_type, payload = encode_event(event)
        rows.append({"event_type": event_type, "payload": payload, "recorded_at": now})
    return rows


def purged_through(store: RowStore) -> int:
    """The highest sequence number the purge has removed through (0: never purged)."""
    row = store.get(log_horizons, event_log.name)
    return 0 if row is None else int(row["purged_through"])


def last_sequence(store: RowStore) -> int:
    """The number of the newest event committed; the purge's horizon if the log is empty
    since a purge (numbers are never reused)."""
    [(last,)] = store.aggregate(event_log, [Max("sequence")])
    return max(int(last or 0), purged_through(store))


def _hold_the_log(store: RowStore) -> None:
    """Take turns, until the transaction ends, with every purge of the event log and every
    registration of a consumer."""
    store.serialize(event_log, "purge")


def _fallen_behind(store: RowStore, position: int, horizon: int) -> EventsPurged:
    first = store.read_log(event_log, horizon, 1)
    return EventsPurged(position, horizon, int(first[0]["sequence"]) if first else None)


class EventLogTable:
    def __init__(self, state: UnitState) -> None:
        self._state = state
        self._store = state.store
        self._snapshot = isinstance(state.store, ReadOnlyStore)

    def read_after(self, sequence: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        _check_whole(LABEL, "sequence", sequence, 0, INT64_MAX)
        _check_whole(LABEL, "limit", limit, 1, READ_LIMIT)
        while True:
            horizon = purged_through(self._store)
            if sequence < horizon:
                raise _fallen_behind(self._store, sequence, horizon)
            rows = self._store.read_log(event_log, sequence, limit)
            # A read-only unit of work reads one snapshot: a purge is in both reads or in
            # neither. A writing one on PostgreSQL (READ COMMITTED) may see a purge commit
            # between them: the events read may then lack some the horizon did not yet
            # say were gone, so it looks again.
            if self._snapshot or purged_through(self._store) == horizon:
                break
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
        return last_sequence(self._store)

    def purged_through(self) -> int:
        return purged_through(self._store)

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        cutoff = _utc(cutoff)
        bound = purge_limit(LABEL, limit)
        _hold_the_log(self._store)
        horizon = purged_through(self._store)
        lowest = self._store.select(event_consumers, order_by=[Asc("position")], limit=1)
        upto = int(lowest[0]["position"]) if lowest else INT64_MAX
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
            mark = {"purged_through": through, "purged_at": now}
            if self._store.get(log_horizons, event_log.name) is None:
                self._store.insert(log_horizons, {"id": event_log.name, **mark, "row_version": 1})
            else:
                where = [Eq("id", event_log.name)]
                self._store.update(log_horizons, where, mark, {"row_version": 1})
            entry = purge_entry(self._state, event_log, "events", removed, cutoff, through=through)
            append_audit_entry(self._state, entry)
        self._state.events.append(EventLogPurged(through, removed))
        return removed


class EventConsumersTable(TableRepository[EventConsumer]):
    """Consumers by name. Their rules hold on every path, `add` and `update` included: a
    position is never below the purge's horizon when a consumer is added (`EventsPurged`),
    never past the newest event, and only moves forward; a name is fixed once stored."""

    entity = EventConsumer

    def register(self, name: str, *, position: int | None = None) -> EventConsumer:
        if position is not None:
            _check_whole(self._label, "position", position, 0, INT64_MAX)
        consumer = EventConsumer(name=name)
        _hold_the_log(self._store)
        consumer.position = purged_through(self._store) if position is None else position
        return self.add(consumer)

    def find_by_name(self, name: str) -> EventConsumer | None:
        return self._first([Eq("name", self.entity.required_value("name", name))])

    def list(self) -> builtins.list[EventConsumer]:
        return self._select(order_by=[Asc("name")])

    def acknowledge(self, name: str, position: int) -> EventConsumer:
        _check_whole(self._label, "position", position, 0, INT64_MAX)
        consumer = self._named(name)
        if position == consumer.position:
            return consumer
        consumer.position = position
        return self.update(consumer)

    def unregister(self, name: str) -> EventConsumer:
        consumer = self._named(name)
        self.delete(consumer.id)
        return consumer

    def _named(self, name: str) -> EventConsumer:
        consumer = self.find_by_name(name)
        if consumer is None:
            raise NotFound(self._label, name, field="name")
        return consumer

    def _before_write(self, consumer: EventConsumer, stored: Row | None) -> None:
        if stored is None:
            _hold_the_log(self._store)
            horizon = purged_through(self._store)
            if consumer.position < horizon:
                raise _fallen_behind(self._store, consumer.position, horizon)
        else:
            if consumer.name != stored["name"]:
                was = stored["name"]
                problem = f"cannot change once the consumer is registered (was {was!r})"
                raise InvalidValue(self._label, "name", consumer.name, problem)
            if consumer.position < stored["position"]:
                problem = (
                    f"cannot move back from {stored['position']}: a consumer's position "
                    "only moves forward"
                )
                raise InvalidValue(self._label, "position", consumer.position, problem)
        newest = last_sequence(self._store)
        if consumer.position > newest:
            problem = f"must not be past the newest event, {newest}"
            raise InvalidValue(self._label, "position", consumer.position, problem)


def _check_whole(label: str, name: str, value: object, low: int, high: int) -> None:
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
