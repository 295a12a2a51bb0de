"""The SQL unit of work: one pooled driver connection and its transaction."""

from __future__ import annotations

from sqlalchemy import Engine

from agentkeel.adapters.sql.store import SqlStore
from agentkeel.adapters.sql.transaction import DriverTransaction
from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.events import EventBus
from agentkeel.repositories.unit_of_work import BaseUnitOfWork


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
        self._transaction: DriverTransaction | None = None

    def _begin(self) -> SqlStore:
        # The transaction begins with the first statement (BEGIN IMMEDIATE on SQLite for
        # a writer, BEGIN for a read-only unit of work).
        self._transaction = DriverTransaction(self._engine, read_only=self.read_only)
        return SqlStore(self._transaction, self.clock)

    def _commit(self) -> None:
        self._require().commit()

    def _rollback(self) -> None:
        self._require().rollback()

    def _close(self) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            transaction.close()

    def _require(self) -> DriverTransaction:
        if self._transaction is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._transaction
