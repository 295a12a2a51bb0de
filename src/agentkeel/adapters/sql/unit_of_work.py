"""The SQL unit of work: one connection and its transaction."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from agentkeel.adapters.sql.engine import read_only_connection
from agentkeel.adapters.sql.store import SqlStore
from agentkeel.adapters.unit_of_work import BaseUnitOfWork
from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.events import EventBus


class SqlUnitOfWork(BaseUnitOfWork):
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        bus: EventBus | None = None,
        source: EventSource = EventSource.SYSTEM,
        read_only: bool = False,
    ) -> None:
        super().__init__(clock, bus or EventBus(), source, read_only)
        self._engine = engine
        self._connection: Connection | None = None

    def _begin(self) -> SqlStore:
        # The transaction begins with the first statement (BEGIN IMMEDIATE on SQLite).
        if self.read_only:
            self._connection = read_only_connection(self._engine)
        else:
            self._connection = self._engine.connect()
        return SqlStore(self._connection, self.clock)

    def _commit(self) -> None:
        self._require().commit()

    def _rollback(self) -> None:
        self._require().rollback()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.rollback()
            self._connection.close()
            self._connection = None

    def _require(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._connection
