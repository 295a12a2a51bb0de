"""The in-memory unit of work: holds the database's lock; rollback replays the undo log."""

from __future__ import annotations

from contextlib import ExitStack

from agentkeel.adapters.memory.store import MemoryDatabase, MemoryStore
from agentkeel.adapters.unit_of_work import BaseUnitOfWork
from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.events import EventBus


class MemoryUnitOfWork(BaseUnitOfWork):
    def __init__(
        self,
        db: MemoryDatabase,
        clock: Clock,
        bus: EventBus | None = None,
        source: EventSource = EventSource.SYSTEM,
        read_only: bool = False,
    ) -> None:
        super().__init__(clock, bus or EventBus(), source, read_only)
        self._db = db
        self._held = ExitStack()
        self._mark = 0

    def _begin(self) -> MemoryStore:
        self._held.enter_context(self._db.locked())
        self._mark = len(self._db.undo)
        return MemoryStore(self._db, self.clock)

    def _commit(self) -> None:
        del self._db.undo[self._mark :]

    def _rollback(self) -> None:
        self._db.rollback_to(self._mark)

    def _close(self) -> None:
        try:
            self._db.rollback_to(self._mark)
        finally:
            self._held.close()
