"""How many writing units of work each thread has open, so that a wait that runs out can
say when a unit of work was waiting for another one of its own thread: a nested writing unit
of work waits for the outer one, which cannot finish until it returns."""

from __future__ import annotations

import threading

from agentkeel.domain.errors import Busy

_open = threading.local()

NESTED = (
    "another writing unit of work is open in this same thread, and this one waits for it "
    "(a nested unit of work waits for itself): finish the outer one first, or open this one "
    "read_only"
)


def opened() -> None:
    """Count a writing unit of work as open in this thread (until `closed`)."""
    _open.count = getattr(_open, "count", 0) + 1


def closed() -> None:
    _open.count -= 1


def busy() -> Busy:
    """The `Busy` for a wait that ran out, saying so when this thread waited for itself."""
    return Busy(NESTED) if getattr(_open, "count", 0) > 1 else Busy()
