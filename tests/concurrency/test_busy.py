"""A unit of work that cannot get the database in time gets `Busy`, a retryable Conflict,
from every backend — never a driver's OperationalError — after `busy_timeout`, the one wait
setting of `Database.open`."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from agentkeel.adapters.memory.store import MemoryDatabase
from agentkeel.adapters.memory.unit_of_work import MemoryUnitOfWork
from agentkeel.adapters.sql.engine import create_database_engine, read_only_connection
from agentkeel.adapters.sql.migrate import head_revision
from agentkeel.adapters.sql.store import SqlStore
from agentkeel.database import Database
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import Busy, Conflict, InvalidValue
from agentkeel.domain.workspace import DEFAULT_SETTINGS, Project
from tests.conftest import BACKENDS, POSTGRES_URL, url_of
from tests.factories import store_of

KEY = "workflow.maxConcurrentImplementations"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_writer_waiting_past_the_busy_timeout_gets_busy(backend: str, tmp_path: Path) -> None:
    """The holder has the row (PostgreSQL), the writer lock (SQLite) or the lock (memory)."""
    with Database.open(url_of(backend, tmp_path), busy_timeout=0.2) as db:
        with db.unit_of_work() as holder:
            holder.settings.set_value(KEY, 7)
            started = time.monotonic()
            with pytest.raises(Busy, match="database is busy") as caught, db.unit_of_work() as uow:
                uow.settings.set_value(KEY, 8)
            waited = time.monotonic() - started
        assert isinstance(caught.value, Conflict)
        assert "a nested unit of work waits for itself" in str(caught.value)
        assert 0.1 <= waited < 2
        with db.unit_of_work() as uow:  # nothing is left held
            assert uow.settings.set_value(KEY, 9).typed_value == 9


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_wait_for_another_thread_does_not_claim_to_be_nested(
    backend: str, tmp_path: Path
) -> None:
    with Database.open(url_of(backend, tmp_path), busy_timeout=0.2) as db:
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with db.unit_of_work() as holder:
                holder.settings.set_value(KEY, 7)
                held.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            held.wait(10)
            with pytest.raises(Busy) as caught, db.unit_of_work() as uow:
                uow.settings.set_value(KEY, 8)
        finally:
            release.set()
            thread.join()
        assert str(caught.value) == str(Busy())


SQL = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    SQL.append(pytest.param("postgres", marks=pytest.mark.postgres))


@pytest.mark.parametrize("backend", SQL)
def test_a_unit_of_work_used_after_busy_still_writes_only_in_its_transaction(
    backend: str, tmp_path: Path
) -> None:
    """After Busy the unit of work is to be retried, and nothing it does reaches the
    database outside its transaction. On SQLite the Busy comes from its BEGIN IMMEDIATE: the
    next call begins again rather than running outside any transaction, where every
    statement would commit at once. On PostgreSQL a write that waited past lock_timeout
    ended the transaction (a write that cannot break a rule runs without a savepoint): the
    next call is refused with a retryable Conflict."""
    with Database.open(url_of(backend, tmp_path), busy_timeout=0.2) as db:
        before = _count_projects(db)
        with db.unit_of_work() as uow:
            with db.unit_of_work() as holder:
                holder.settings.set_value(KEY, 7)
                with pytest.raises(Busy):
                    uow.settings.set_value(KEY, 8)
            if backend == "postgres":
                with pytest.raises(Conflict, match="retry the unit of work"):
                    uow.projects.add(Project(name="Never committed"))
            else:
                uow.projects.add(Project(name="Never committed"))
        assert _count_projects(db) == before


def _count_projects(db: Database) -> int:
    with db.unit_of_work(read_only=True) as uow:
        return uow.projects.count()


@pytest.mark.parametrize("backend", SQL)
@pytest.mark.parametrize(("pool_size", "connections"), [(2, 2), (None, 15)])
def test_one_unit_of_work_more_than_the_pool_holds_gets_busy(
    backend: str, tmp_path: Path, pool_size: int | None, connections: int
) -> None:
    """A unit of work takes its connection on entering; the pool holds `pool_size` (by
    default 5, and 10 more under load) and one more waits `busy_timeout` for one."""
    url = url_of(backend, tmp_path)
    with Database.open(url, pool_size=pool_size, busy_timeout=0.2) as db, ExitStack() as held:
        for _ in range(connections):
            held.enter_context(db.unit_of_work())
        started = time.monotonic()
        with pytest.raises(Busy, match=f"all {connections} connections of its pool") as caught:
            held.enter_context(db.unit_of_work())
        assert 0.1 <= time.monotonic() - started < 2
        assert isinstance(caught.value, Conflict)
        held.close()
        with db.unit_of_work() as uow:  # every connection went back to the pool
            assert uow.settings.value("logging.retentionDays") is not None


@pytest.mark.parametrize("url", ["memory://", "db-file"])
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("busy_timeout", -1),
        ("busy_timeout", float("nan")),
        ("busy_timeout", float("inf")),
        ("busy_timeout", True),
        ("busy_timeout", "5"),
        ("pool_size", 0),
        ("pool_size", -2),
        ("pool_size", 2.5),
        ("pool_size", True),
    ],
)
def test_nonsense_wait_and_pool_options_are_refused(
    url: str, option: str, value: object, tmp_path: Path
) -> None:
    path = tmp_path / "never.db"
    with pytest.raises(InvalidValue) as caught:
        Database.open(str(path) if url == "db-file" else url, **{option: value})  # type: ignore[arg-type]
    assert (caught.value.entity, caught.value.field) == ("database", option)
    assert not path.exists()


@pytest.mark.parametrize("backend", SQL)
def test_every_connection_waits_five_seconds_by_default(backend: str, tmp_path: Path) -> None:
    """Set per connection, not per statement; PostgreSQL sessions also talk UTC."""
    with Database.open(url_of(backend, tmp_path), seed=False) as db:
        assert db.engine is not None
        with db.engine.connect() as connection:
            if backend == "sqlite":
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            else:
                assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "5s"
                assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"


def test_memory_unit_of_work_waiting_past_the_lock_timeout_gets_busy() -> None:
    db = MemoryDatabase(lock_timeout=0.05)
    with MemoryUnitOfWork(db, FakeClock()), pytest.raises(Busy):  # noqa: SIM117
        with MemoryUnitOfWork(db, FakeClock()):
            pass


@contextmanager
def writer_lock_held(path: str) -> Iterator[None]:
    """Another connection holds the SQLite file's writer lock (its BEGIN IMMEDIATE)."""
    holder = create_database_engine(path)
    try:
        with holder.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            yield
    finally:
        holder.dispose()


def test_opening_a_sqlite_file_that_needs_no_writing_does_not_wait_for_a_writer(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "held.db")
    Database.open(path).close()
    with writer_lock_held(path):
        started = time.monotonic()
        with Database.open(path) as db:  # the busy timeout is 5 s
            assert time.monotonic() - started < 2
            assert db.schema_revision() == head_revision()
            assert db.ping()
            assert "settings" in db.tables()
            with db.unit_of_work(read_only=True) as uow:
                assert uow.settings.count() == len(DEFAULT_SETTINGS)


def delete_a_default_setting(path: str) -> None:
    Database.open(path).close()
    engine = create_database_engine(path)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM settings WHERE key = :key"), {"key": KEY})
    engine.dispose()


@pytest.mark.parametrize(
    "prepare",
    [
        pytest.param(delete_a_default_setting, id="a-default-setting-missing"),
        pytest.param(lambda path: None, id="never-migrated"),
    ],
)
def test_opening_a_sqlite_file_that_needs_writing_behind_a_writer_gets_busy(
    tmp_path: Path, prepare: Callable[[str], None]
) -> None:
    """A default setting to seed again, or a file never migrated."""
    path = str(tmp_path / "held.db")
    prepare(path)
    with writer_lock_held(path):
        started = time.monotonic()
        with pytest.raises(Busy, match="database is busy"):
            Database.open(path, busy_timeout=0.2)
        assert time.monotonic() - started < 2


if POSTGRES_URL:  # PostgreSQL only: SQLite undoes a failed statement by itself

    @pytest.mark.postgres
    def test_a_connection_the_server_dropped_is_a_conflict_and_then_replaced() -> None:
        """Connections are not pinged on checkout: the first unit of work on a dropped one
        gets a retryable Conflict, and the retry gets a new connection."""
        assert POSTGRES_URL
        with Database.open(POSTGRES_URL, pool_size=1) as db:
            with db.unit_of_work() as uow:
                store = store_of(uow)
                assert isinstance(store, SqlStore)
                (pid,) = store.transaction.driver.execute("SELECT pg_backend_pid()").fetchone()
            admin = create_database_engine(POSTGRES_URL)
            with admin.begin() as connection:
                connection.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            admin.dispose()
            with pytest.raises(Conflict, match="connection to the database was lost"):  # noqa: SIM117
                with db.unit_of_work() as uow:
                    uow.projects.count()
            with db.unit_of_work() as uow:
                assert uow.projects.count() >= 0

    @pytest.mark.postgres
    def test_a_postgresql_transaction_aborted_by_a_failed_read_is_a_conflict() -> None:
        """A statement that fails outside a savepoint aborts a PostgreSQL transaction; what
        the unit of work does next is refused with a retryable Conflict, not psycopg's."""
        assert POSTGRES_URL
        with Database.open(POSTGRES_URL) as db, db.unit_of_work() as uow:
            store = store_of(uow)
            assert isinstance(store, SqlStore)
            driver = store.transaction.driver
            with pytest.raises(psycopg.errors.DivisionByZero):
                driver.execute("SELECT 1/0")
            with pytest.raises(Conflict, match="aborted its transaction; retry the unit"):
                uow.projects.count()


@pytest.mark.sqlite
def test_a_connection_opens_at_once_on_a_wal_file_while_another_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    """WAL is kept in the file: a new connection reads the mode instead of asking for it, so
    it needs no lock (under load, asking for it could end in Busy while opening)."""
    path = tmp_path / "held.db"
    Database.open(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE settings SET display_name = display_name")
        statements: list[str] = []
        engine = create_database_engine(str(path), busy_timeout=0)

        def traced(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.set_trace_callback(statements.append)

        event.listen(engine, "connect", traced, insert=True)  # before agentkeel's pragmas
        try:
            started = time.monotonic()
            # A reader's connection (a writer's BEGIN IMMEDIATE would rightly wait).
            with read_only_connection(engine) as connection:
                mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
                count = connection.exec_driver_sql("SELECT count(*) FROM settings").scalar()
            assert time.monotonic() - started < 1
        finally:
            engine.dispose()
        assert mode == "wal" and count == len(DEFAULT_SETTINGS)
        assert "PRAGMA journal_mode" in statements
        assert "PRAGMA journal_mode=WAL" not in statements
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.sqlite
def test_a_new_file_is_switched_to_wal_by_its_first_connection(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = create_database_engine(str(path))
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()
    with sqlite3.connect(path) as plain:  # a connection without agentkeel's settings
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
