"""Time comes from an injectable clock, always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where the time comes from: `Database.open(clock=...)` takes one, and every stamp
    (`created_at`, `updated_at`, flags, audit timestamps) reads it."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current time of the system, in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to, one microsecond per reading by default.

    Ticking on every reading keeps `created_at` orderings strict without making tests sleep.
    """

    def __init__(
        self,
        start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
        tick: timedelta = timedelta(microseconds=1),
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._tick = tick

    def now(self) -> datetime:
        """The fake time; each reading moves it on by one tick."""
        current = self._now
        self._now += self._tick
        return current

    def advance(self, delta: timedelta) -> None:
        """Move the fake time on by `delta` (tests use it to age entries and expire things)."""
        self._now += delta
