"""The event log port: what consumers in other processes read."""

from __future__ import annotations

from typing import Protocol

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
    unit of work's); a skipped number never appears later."""

    def read_after(self, sequence: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        """The first `limit` events (1 to 10,000) whose sequence number is greater than
        `sequence` (>= 0), oldest first; an empty list when there are none yet.
        Raises InvalidValue naming `sequence` or `limit` for anything else."""
        ...

    def last_sequence(self) -> int:
        """The sequence number of the newest event committed, 0 if none: where a consumer
        that wants only events from now on starts."""
        ...
