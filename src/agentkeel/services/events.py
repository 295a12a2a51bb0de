"""Following the event log from another process (or the same one): a consumer keeps the
sequence number of the last event it handled, and reads on from there.

A named consumer keeps its position in the database, and the retention purge keeps every
event it has not acknowledged:

    reader = EventLogReader(Database.open(url), consumer="mailer")  # its saved position
    for logged in reader.read():
        handle(logged.event())
    reader.acknowledge()                  # saved: a restart reads on from here

An anonymous reader keeps its position itself:

    reader = EventLogReader(Database.open(url), after=saved_position)
    for logged in reader.read():
        handle(logged.event())
        save_position(logged.sequence)   # where to start again after a crash

Nothing is missed and nothing comes twice, whatever the writers do: the log numbers events
in commit order (see `ports.events.EventLog`), so everything after the last number seen is
exactly what has not been read yet. Delivery is at least once across a consumer's crash
only if it saves its position after handling an event, as above (exactly once if it saves
the position in the same transaction as the handling's own writes:
`uow.event_consumers.acknowledge(name, sequence)` in that unit of work).

A reader that falls behind the retention purge (its position below the purge's horizon:
an anonymous reader stopped for longer than `retention.eventLogDays`) gets `EventsPurged`
from `read`, naming its position and the first event kept; it never reads on past the
hole as if nothing were missing.
"""

from __future__ import annotations

from typing import Protocol

from agentkeel.domain.audit import EventSource
from agentkeel.domain.errors import AlreadyExists, InvalidValue
from agentkeel.domain.events import LoggedEvent
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.events import READ_LIMIT
from agentkeel.ports.unit_of_work import UnitOfWork

LABEL = "event_log_reader"


class UnitsOfWork(Protocol):
    """What the reader reads from: a `Database`."""

    def unit_of_work(
        self, *, source: EventSource = EventSource.SYSTEM, read_only: bool = False
    ) -> UnitOfWork:
        """A new unit of work (see `Database.unit_of_work`)."""
        ...


class EventLogReader:
    """Reads the events committed after its `position`, moving it on as it hands them out.
    Reads never wait for a writer (read-only units of work).

    Anonymous (`after`: a sequence number, default 0, the start of the log), the reader's
    position lives in this object only; the caller saves it where it keeps its state. With
    a `consumer` name, the position is the consumer's, saved in the database
    (`EventConsumers`): the reader starts at the saved position (registering the consumer
    at the purge's horizon, so it reads everything the log holds, if it is new), and
    `acknowledge` saves it. While registered, the consumer holds the log: the retention
    purge keeps every event after its saved position. `after` and `consumer` exclude each
    other.

    What a reader that fell behind sees: if the retention purge has removed events after
    its position (an anonymous reader stopped for longer than the retention, or one given
    an old position), `read` raises `EventsPurged`, naming the position, the purge's
    horizon (`purged_through`) and the first event kept. It never skips the missing events
    silently. The reader decides what to do about them, then moves on with
    `start_at_oldest()` (everything kept) or `start_at_end()`.

    Raises InvalidValue when `after` and `consumer` are both given, for a bad consumer name
    and for a `batch` (events read per query) that is not a whole number from 1 to 10,000;
    constructing a consumer's reader opens a unit of work (Busy if the database stays
    locked past its wait limit)."""

    def __init__(
        self,
        db: UnitsOfWork,
        *,
        after: int | None = None,
        consumer: str | None = None,
        batch: int = 1000,
    ) -> None:
        if after is not None and consumer is not None:
            problem = "cannot be given with a consumer: a consumer starts at its saved position"
            raise InvalidValue(LABEL, "after", after, problem)
        _check_whole("batch", batch, 1, READ_LIMIT)
        self._db = db
        self._batch = batch
        self.consumer = consumer
        self.position = 0 if after is None else after
        if consumer is not None:
            self.position = self._saved_position(consumer)

    def _saved_position(self, name: str) -> int:
        while True:
            with self._db.unit_of_work(read_only=True) as uow:
                found = uow.event_consumers.find_by_name(name)
            if found is not None:
                return found.position
            try:
                with self._db.unit_of_work() as uow:
                    registered = uow.event_consumers.register(name)
                    uow.commit()
                return registered.position
            except AlreadyExists:
                continue  # another reader of the same consumer registered it first

    def read(self, limit: int | None = None) -> list[LoggedEvent]:
        """Every event committed after `position` (at most `limit`), oldest first; then
        `position` is the last one's sequence number. Raises EventsPurged when the purge
        has removed events after `position` (nothing is handed out and `position` stays);
        InvalidValue naming `limit` (None, or a whole number >= 0) or `sequence` (a bad
        `after`, as `EventLog.read_after` names it)."""
        if limit is not None:
            _check_whole("limit", limit, 0, INT64_MAX)
        found: list[LoggedEvent] = []
        position = self.position
        with self._db.unit_of_work(read_only=True) as uow:
            while limit is None or len(found) < limit:
                size = self._batch if limit is None else min(self._batch, limit - len(found))
                page = uow.event_log.read_after(position, size)
                found += page
                if page:
                    position = page[-1].sequence
                if len(page) < size:
                    break
        self.position = position  # only once all of it is read
        return found

    def acknowledge(self, position: int | None = None) -> None:
        """Save the consumer's position: every event up to `position` (default: the
        reader's, the last event handed out) is handled. Raises InvalidValue naming
        `consumer` for an anonymous reader (which has nowhere to save it), else as
        `EventConsumers.acknowledge` (NotFound once unregistered; InvalidValue for a
        position below the saved one or past the newest event; Conflict)."""
        if self.consumer is None:
            problem = "is required to acknowledge: an anonymous reader keeps its own position"
            raise InvalidValue(LABEL, "consumer", None, problem)
        with self._db.unit_of_work() as uow:
            uow.event_consumers.acknowledge(
                self.consumer, self.position if position is None else position
            )
            uow.commit()

    def start_at_end(self) -> None:
        """Skip everything committed so far: read only events committed from now on (a
        consumer's saved position moves there at its next `acknowledge`)."""
        with self._db.unit_of_work(read_only=True) as uow:
            self.position = uow.event_log.last_sequence()

    def start_at_oldest(self) -> None:
        """Read on from the purge's horizon: every event the log still holds. For a reader
        that got `EventsPurged` and has dealt with what it missed."""
        with self._db.unit_of_work(read_only=True) as uow:
            self.position = uow.event_log.purged_through()


def _check_whole(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(LABEL, name, value, f"must be a whole number from {low} to {high:,}")
