"""Following the event log from another process (or the same one): a consumer keeps the
sequence number of the last event it handled, and reads on from there.

    reader = EventLogReader(Database.open(url), after=saved_position)
    for logged in reader.read():
        handle(logged.event())
        save_position(logged.sequence)   # where to start again after a crash

Nothing is missed and nothing comes twice, whatever the writers do: the log numbers events
in commit order (see `ports.events.EventLog`), so everything after the last number seen is
exactly what has not been read yet. Delivery is at least once across a consumer's crash
only if it saves its position after handling an event, as above (exactly once if it saves
the position in the same transaction as the handling's own writes).
"""

from __future__ import annotations

from typing import Protocol

from agentkeel.domain.audit import EventSource
from agentkeel.domain.events import LoggedEvent
from agentkeel.ports.unit_of_work import UnitOfWork


class UnitsOfWork(Protocol):
    """What the reader reads from: a `Database`."""

    def unit_of_work(
        self, *, source: EventSource = EventSource.SYSTEM, read_only: bool = False
    ) -> UnitOfWork: ...


class EventLogReader:
    """Reads the events committed after `after` (a sequence number; 0: from the start),
    moving `position` on as it hands them out. Reads never wait for a writer (read-only
    units of work)."""

    def __init__(self, db: UnitsOfWork, *, after: int = 0, batch: int = 1000) -> None:
        self._db = db
        self.position = after
        self._batch = batch

    def read(self, limit: int | None = None) -> list[LoggedEvent]:
        """Every event committed after `position` (at most `limit`), oldest first; then
        `position` is the last one's sequence number. Raises InvalidValue for a bad
        `after`, `batch` or `limit` (as `EventLog.read_after` names them)."""
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

    def start_at_end(self) -> None:
        """Skip everything committed so far: read only events committed from now on."""
        with self._db.unit_of_work(read_only=True) as uow:
            self.position = uow.event_log.last_sequence()
