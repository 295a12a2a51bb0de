"""A unit of work that cannot get the database in time gets `Busy`, a retryable Conflict,
from every backend — never a driver's OperationalError."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkeel.adapters.memory.store import MemoryDatabase
from agentkeel.adapters.memory.unit_of_work import MemoryUnitOfWork
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import Busy, Conflict


def test_sqlite_writer_waiting_past_the_busy_timeout_gets_busy(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.db")
    Database.open(path).close()
    holder = create_database_engine(path)
    waiter = Database(engine=create_database_engine(path, busy_timeout_ms=100), clock=FakeClock())
    with holder.connect() as connection:
        connection.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: holds the writer lock
        with waiter.unit_of_work() as uow, pytest.raises(Busy, match="database is busy") as caught:
            uow.projects.count()
    assert isinstance(caught.value, Conflict)
    holder.dispose()
    waiter.close()


def test_memory_unit_of_work_waiting_past_the_lock_timeout_gets_busy() -> None:
    db = MemoryDatabase(lock_timeout=0.05)
    with MemoryUnitOfWork(db, FakeClock()), pytest.raises(Busy):  # noqa: SIM117
        with MemoryUnitOfWork(db, FakeClock()):
            pass
