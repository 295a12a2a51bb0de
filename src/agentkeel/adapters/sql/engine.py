"""Engines for a database URL: SQLite (embedded, the default) or PostgreSQL, same code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_MS = 5000
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
    url: str | URL, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **options: Any
) -> Engine:
    """An engine with agentkeel's connection settings.

    SQLite: `journal_mode=WAL` (files), `foreign_keys=ON`, `busy_timeout`,
    `synchronous=NORMAL` on every connection (a writer waits `busy_timeout_ms` for another
    to finish, then gets `Busy`), and every transaction starts with
    `BEGIN IMMEDIATE`, so writers queue on the busy timeout instead of failing midway
    (read-only units of work begin with a plain `BEGIN`).
    An in-memory SQLite database lives on one shared connection.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **options)
    if is_memory_sqlite(parsed):
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(parsed, **options)
    memory = is_memory_sqlite(parsed)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (savepoints need it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A read-only unit of work reads a WAL snapshot without queueing behind writers.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
