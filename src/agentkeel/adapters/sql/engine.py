"""Engines for a database URL: SQLite (embedded, the default) or PostgreSQL, same code."""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool, StaticPool

from agentkeel.adapters.sql.errors import busy_error
from agentkeel.domain.errors import Busy

BUSY_TIMEOUT = 5.0
"""Seconds any wait for the database lasts before `Busy`, unless told otherwise."""

READ_ONLY_OPTION = "agentkeel_read_only"


def normalise_url(url: str | URL) -> URL:
    """`:memory:` and bare paths mean SQLite; `postgresql://` means psycopg 3."""
    if isinstance(url, str) and url == ":memory:":
        return make_url("sqlite://")
    if isinstance(url, str) and "://" not in url:
        return make_url(f"sqlite:///{url}")
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_database_engine(
    url: str | URL,
    *,
    busy_timeout: float = BUSY_TIMEOUT,
    pool_size: int | None = None,
    **options: Any,
) -> Engine:
    """An engine with agentkeel's connection settings.

    Every wait for the database ends in `Busy` after `busy_timeout` seconds: for a lock
    (SQLite's busy timeout, PostgreSQL's lock_timeout) and for a free connection of the pool,
    which holds `pool_size` connections (by default SQLAlchemy's 5, and 10 more under load).
    Deadlocks and serialization failures are `Busy` too.

    SQLite: `busy_timeout`, `journal_mode=WAL` (files; switched only when a file is not in
    WAL yet, since it persists), `foreign_keys=ON`, `synchronous=NORMAL` on every
    connection, and every transaction starts with
    `BEGIN IMMEDIATE`, so writers queue on the busy timeout instead of failing midway
    (read-only units of work begin with a plain `BEGIN`).
    An in-memory SQLite database lives on one shared connection (no pool to size).

    PostgreSQL: every session has `lock_timeout` set to `busy_timeout` and its time zone
    pinned to UTC; connecting gives up after `busy_timeout` (at least 2 s, libpq's
    minimum) unless the URL sets `connect_timeout`.
    """
    parsed = normalise_url(url)
    memory = is_memory_sqlite(parsed)
    if memory:
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
    else:
        options.setdefault("poolclass", _Pool)
        options.setdefault("pool_timeout", busy_timeout)
        # Every user of a connection ends its transaction before giving it back (a unit of
        # work rolls back what it did not commit; `Connection.close` rolls back): the pool's
        # own rollback on return would be a second, empty one per unit of work.
        options.setdefault("pool_reset_on_return", None)
        if pool_size is not None:
            options.setdefault("pool_size", pool_size)
            options.setdefault("max_overflow", 0)
    # At least 1 ms: a lock_timeout of 0 would mean "wait forever" to PostgreSQL.
    wait_ms = max(1, math.ceil(busy_timeout * 1000))
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **options)
        _set_sqlite_pragmas(engine, wait_ms, memory)
    else:
        # No pre-ping: it costs a round trip per unit of work; a connection the server
        # dropped fails at its first statement with a retryable Conflict instead.
        if "connect_timeout" not in parsed.query:
            # A server that does not answer (a dropped packet, not a refusal) is given up on
            # after the busy timeout too, instead of the system's minutes (libpq: >= 2 s).
            connect_args = dict(options.pop("connect_args", {}))
            connect_args.setdefault("connect_timeout", max(2, math.ceil(busy_timeout)))
            options["connect_args"] = connect_args
        engine = create_engine(parsed, **options)
        _pin_postgres_sessions(engine, wait_ms)
    event.listen(engine, "handle_error", busy_error)
    return engine


class _Pool(QueuePool):
    """SQLAlchemy's QueuePool, except that running out of connections is `Busy`, and that
    it keeps one spare connection for units of work (`checkout`, `give_back`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spare: PoolProxiedConnection | None = None
        self._spare_lock = threading.Lock()
        # Called with a connection each time a unit of work gives it back (see
        # `_set_sqlite_pragmas`), as the pool's checkin listeners are on a real return.
        self.on_give_back: Callable[[Any, dict[Any, Any]], None] | None = None

    def _do_get(self) -> ConnectionPoolEntry:
        try:
            return super()._do_get()
        except PoolTimeout as exc:
            held = self.size() + self.overflow()
            raise Busy(
                f"all {held} connections of its pool were in use past the wait limit"
            ) from exc

    def take_spare(self) -> PoolProxiedConnection | None:
        with self._spare_lock:
            spare, self._spare = self._spare, None
        return spare

    def keep_spare(self, connection: PoolProxiedConnection) -> bool:
        """Keep `connection` as the spare, if there is none and the pool has room for
        others beside it (so that nobody waits for a connection it keeps)."""
        with self._spare_lock:
            if self._spare is not None or self.checkedout() >= self.size():
                return False
            self._spare = connection
        return True

    def dispose(self) -> None:
        spare = self.take_spare()
        if spare is not None:
            spare.close()
        super().dispose()


def checkout(engine: Engine) -> PoolProxiedConnection:
    """A driver connection for a unit of work: the pool's spare, else one from the pool.

    A pool's checkout and checkin cost about a third of a unit of work that reads one row
    (its queue, its events, its bookkeeping): a unit of work gives its connection back as
    the spare, and the next one, on whatever thread, takes it without them."""
    pool = engine.pool
    if isinstance(pool, _Pool) and (spare := pool.take_spare()) is not None:
        return spare
    return engine.raw_connection()


def give_back(engine: Engine, connection: PoolProxiedConnection) -> None:
    """Return a unit of work's connection (its transaction ended): kept as the spare, or
    checked in to the pool."""
    pool = engine.pool
    if isinstance(pool, _Pool) and connection.is_valid:
        if pool.on_give_back is not None:
            pool.on_give_back(connection.dbapi_connection, connection.info)
        if pool.keep_spare(connection):
            return
    connection.close()


def read_only_connection(engine: Engine) -> Connection:
    """A connection for reading only, whose transactions read one snapshot and wait for no
    writer: on SQLite they begin with a plain `BEGIN` (a WAL snapshot), on PostgreSQL they
    run REPEATABLE READ (READ COMMITTED would see each later commit at once, unlike SQLite
    and the fakes)."""
    options: dict[str, object] = {READ_ONLY_OPTION: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    return engine.connect().execution_options(**options)


def _set_sqlite_pragmas(engine: Engine, wait_ms: int, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (savepoints need it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First, so that everything after it waits for the database as long as the rest.
        cursor.execute(f"PRAGMA busy_timeout={wait_ms}")
        if not memory:
            # WAL is kept in the file: a database already in WAL needs no switch, and asking
            # for one would want a lock (under load, a Busy on opening a connection). Only a
            # file not in WAL yet (a new one) is switched.
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # An ANALYZE reads at most this many index entries a table: statistics good enough
        # for the planner, in milliseconds whatever the size of the table.
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.close()

    # Statistics kept current, as SQLite recommends for long-lived connections: `PRAGMA
    # optimize` analyses the tables this connection's queries would have planned better
    # with statistics. Run when a connection is back in the pool after every
    # OPTIMIZE_EVERY-th unit of work (its caller has its result already) and when it
    # closes; without waiting for a writer (busy_timeout 0): a database that is busy is
    # analysed another time.
    def count_use(dbapi_connection: Any, info: dict[Any, Any]) -> None:
        uses = info.get(_USES, 0) + 1
        info[_USES] = uses
        if uses % OPTIMIZE_EVERY == 0:
            _optimize(dbapi_connection, wait_ms)

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            count_use(dbapi_connection, record.info)

    if isinstance(engine.pool, _Pool):
        # A unit of work's connection kept as the spare is not checked in: counted here.
        engine.pool.on_give_back = count_use

    @event.listens_for(engine, "close")
    def on_close(dbapi_connection: Any, _record: Any) -> None:
        _optimize(dbapi_connection, wait_ms)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection | None) -> None:
        if connection is None:  # a unit of work's DriverTransaction, which begins itself
            return
        # A read-only connection reads a WAL snapshot without queueing behind writers.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.connection.info[_BEGIN] = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    # The BEGIN runs in the dialect's do_begin, not in the listener: when it fails (Busy),
    # SQLAlchemy then lets the connection begin again at its next statement; a failing
    # listener would leave it outside any transaction, every later statement autocommitting.
    engine.dialect.do_begin = _do_begin  # type: ignore[method-assign]


_BEGIN = "agentkeel_begin"
_USES = "agentkeel_uses"
ANALYSIS_LIMIT = 1000
OPTIMIZE_EVERY = 1000


def _optimize(dbapi_connection: Any, wait_ms: int) -> None:
    try:
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        try:
            dbapi_connection.execute("PRAGMA optimize")
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={wait_ms}")
    except sqlite3.Error:
        pass  # busy, or closing after a failure: statistics can wait


def _do_begin(dbapi_connection: Any) -> None:
    dbapi_connection.execute(dbapi_connection.info.pop(_BEGIN, "BEGIN IMMEDIATE"))


def _pin_postgres_sessions(engine: Engine, wait_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Once per session, not per statement. Without lock_timeout a waiter queues forever;
        # in a session zone west of UTC, 0001-01-01 UTC reads back as year 0 and fails.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {wait_ms}")
            cursor.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()
