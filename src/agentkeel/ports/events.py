"""The event log port: what consumers in other processes read; and the named consumers whose
positions the log keeps events for."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from agentkeel.domain.audit import EventConsumer
from agentkeel.domain.events import LoggedEvent

READ_LIMIT = 10_000
"""The most events one `read_after` returns."""


class EventLog(Protocol):
    """The domain events of every committed unit of work, in commit order (an outbox).

    The unit of work appends them itself, in the transaction it commits, so an event is in
    the log exactly when the data it speaks of is committed; there is no way to append or
    change one by hand. Sequence numbers are strictly increasing in commit order: a number
    becomes visible only after every smaller one has, so reading after the last number seen
    misses nothing, even with writers in many processes. Numbers may skip (a rolled-back
    unit of work's); a skipped number never appears later.

    The retention purge (`purge_before`) removes the oldest events, never one after the
    position of a registered consumer (`EventConsumers`). A reader that asks for the
    events after a position the purge has gone past gets `EventsPurged`, never the events
    after the hole as if nothing had been missed."""

    def read_after(self, sequence: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        """The first `limit` events (1 to 10,000) whose sequence number is greater than
        `sequence` (>= 0), oldest first; an empty list when there are none yet.
        Raises InvalidValue naming `sequence` or `limit` for anything else, and
        EventsPurged when `sequence` is below `purged_through()`: events after it are gone
        (the error names the position, the purge's horizon and the first event kept)."""
        ...

    def last_sequence(self) -> int:
        """The sequence number of the newest event committed, 0 if none (if the purge has
        emptied the log, the highest number it removed: numbers are never reused): where a
        consumer that wants only events from now on starts."""
        ...

    def purged_through(self) -> int:
        """The purge's horizon: every event numbered up to it is gone (0: nothing was ever
        purged). A reader at this position reads everything the log still holds."""
        ...

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        """The retention purge: remove the oldest events, in sequence order, from the first
        up to (not including) the first one recorded at or after `cutoff`, and never one
        numbered after the lowest position of a registered consumer; at most `limit` of
        them (1 to 100,000; None: all) in one statement. The log kept is always every
        event after one number (`purged_through()`, moved to the last event removed): no
        hole. Writes one audit entry (`event_log.purged`: how many, the cutoff, the new
        horizon) and records `EventLogPurged` when any went. Returns how many went.
        Purges and consumer registrations take turns. Raises InvalidValue naming
        `recorded_at` for a cutoff that is not a timezone-aware datetime, `limit` for a bad
        bound."""
        ...


class EventConsumers(Protocol):
    """Named consumers of the event log and their positions (the sequence number of the
    last event each has handled), stored in the database: a consumer restarted anywhere
    resumes where it acknowledged, and while it is registered the retention purge keeps
    every event after its position, however old (so a consumer that stops reading for good
    must be unregistered, or the log grows). A registered consumer therefore never falls
    behind. Names are normalised like every name and unique."""

    def register(self, name: str, *, position: int | None = None) -> EventConsumer:
        """Register a consumer at `position`: it will read the events after it. None: at
        the purge's horizon, so it reads every event the log still holds. Raises
        InvalidValue (a bad name; a position not a whole number >= 0, or past the newest
        event), EventsPurged (a position below the horizon: events after it are gone),
        AlreadyExists (the name is registered)."""
        ...

    def find_by_name(self, name: str) -> EventConsumer | None:
        """The consumer of that name, or None. Raises InvalidValue for a bad name."""
        ...

    def list(self) -> builtins.list[EventConsumer]:
        """Every registered consumer, by name (code point order)."""
        ...

    def acknowledge(self, name: str, position: int) -> EventConsumer:
        """Save that the consumer has handled every event up to `position`; return it as
        stored. Done in the unit of work that writes what handling the events wrote, it
        makes delivery exactly once. Raises NotFound (no consumer of that name),
        InvalidValue naming `position` (not a whole number >= 0, below the saved position:
        positions only move forward, or past the newest event), Conflict (another unit of
        work acknowledged for the same consumer since it was read: retry)."""
        ...

    def unregister(self, name: str) -> EventConsumer:
        """Remove the consumer, so that it no longer holds the log; return it as it was.
        Audited like every hard delete. Raises NotFound, InvalidValue (a bad name)."""
        ...

    def count(self) -> int:
        """How many consumers are registered."""
        ...
