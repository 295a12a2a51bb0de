"""A unit of work that cannot get the database in time gets `Busy`, a retryable Conflict,
from every backend — never a driver's OperationalError — after `busy_timeout`, the one wait
setting of `Database.open`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agentkeel.adapters.memory.store import MemoryDatabase
from agentkeel.adapters.memory.unit_of_work import MemoryUnitOfWork
from agentkeel.database import Database
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import Busy, Conflict
from agentkeel.services.workspace import change_setting
from tests.conftest import BACKENDS, POSTGRES_URL, url_of

KEY = "workflow.maxConcurrentImplementations"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_writer_waiting_past_the_busy_timeout_gets_busy(backend: str, tmp_path: Path) -> None:
    """The holder has the row (PostgreSQL), the writer lock (SQLite) or the lock (memory)."""
    with Database.open(url_of(backend, tmp_path), busy_timeout=0.2) as db:
        with db.unit_of_work() as holder:
            change_setting(holder, KEY, 7)
            started = time.monotonic()
            with pytest.raises(Busy, match="database is busy") as caught, db.unit_of_work() as uow:
                change_setting(uow, KEY, 8)
            waited = time.monotonic() - started
        assert isinstance(caught.value, Conflict)
        assert 0.1 <= waited < 2
        with db.unit_of_work() as uow:  # nothing is left held
            assert change_setting(uow, KEY, 9).typed_value == 9


@pytest.mark.skipif(not POSTGRES_URL, reason="AGENTKEEL_TEST_POSTGRES_URL is not set")
@pytest.mark.postgres
def test_postgres_connections_wait_five_seconds_for_a_lock_and_talk_utc() -> None:
    with Database.open(str(POSTGRES_URL), seed=False) as db:
        assert db.engine is not None
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "5s"
            assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"


def test_memory_unit_of_work_waiting_past_the_lock_timeout_gets_busy() -> None:
    db = MemoryDatabase(lock_timeout=0.05)
    with MemoryUnitOfWork(db, FakeClock()), pytest.raises(Busy):  # noqa: SIM117
        with MemoryUnitOfWork(db, FakeClock()):
            pass
