"""The in-memory unit of work: a writer holds the database's lock and rolls back by replaying
the undo log; a read-only one reads a snapshot of the committed rows and waits for nobody."""

from __future__ import annotations

from contextlib import ExitStack

from agentkeel.adapters.memory.store import MemoryDatabase, MemoryStore
from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.events import EventBus
from agentkeel.repositories.unit_of_work import BaseUnitOfWork


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
        self._store: MemoryStore

    def _begin(self) -> MemoryStore:
        if self.read_only:
            self._store = MemoryStore(self._db, self.clock, self._db.snapshot())
        else:
            self._held.enter_context(self._db.locked())
            self._mark = len(self._db.undo)
            self._store = MemoryStore(self._db, self.clock)
        return self._store

    def _commit(self) -> None:
        self._next_transaction() if self.read_only else self._db.commit(self._mark)

    def _rollback(self) -> None:
        self._next_transaction() if self.read_only else self._db.rollback_to(self._mark)

    def _next_transaction(self) -> None:
        # Like a database, a read-only unit of work sees later commits once its transaction
        # has ended.
        self._store.tables = self._db.snapshot()

    def _close(self) -> None:
        try:
            if not self.read_only:
                self._db.rollback_to(self._mark)
        finally:
            self._held.close()
