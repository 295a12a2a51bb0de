"""The one entry point for applications: open a database, get units of work.

    db = Database.open()                       # $AGENTKEEL_DATABASE_URL, or ./data/agentkeel.db
    db = Database.open("orchestrator.db")      # an embedded SQLite file
    db = Database.open("postgresql://...")     # a PostgreSQL server
    db = Database.open(":memory:")             # SQLite in memory
    db = Database.open("memory://")            # the in-memory fakes, for unit tests

    with db.unit_of_work() as uow:
        project = uow.projects.add(Project(name="Keel"))
        uow.commit()

Opening first checks that agentkeel can use the database (and refuses, untouched, one it
cannot: docs/reliability.md), then brings the schema to the newest revision and seeds the
default settings, writing only if something is missing. For one-off work,
`db.transaction(fn)` runs `fn(uow)` in a unit of work and commits it (Nexus'
`transaction(fn)`).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy import URL, Engine, inspect, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from agentkeel.adapters.memory.store import MemoryDatabase
from agentkeel.adapters.memory.unit_of_work import MemoryUnitOfWork
from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import (
    BUSY_TIMEOUT,
    create_database_engine,
    is_memory_sqlite,
    normalise_url,
    read_only_connection,
)
from agentkeel.adapters.sql.inspection import (
    LiveSchema,
    check_sqlite_file,
    integrity_problems,
)
from agentkeel.adapters.sql.unit_of_work import SqlUnitOfWork
from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock, SystemClock
from agentkeel.domain.errors import DatabaseUnusable, InvalidValue, NotSupported
from agentkeel.domain.events import DomainEvent, EventBus
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata
from agentkeel.services.workspace import missing_default_settings, seed_default_settings

# Where `Database.open()` opens when given no URL (Nexus: DATABASE_PATH, ./data/nexus.db).
URL_VARIABLE = "AGENTKEEL_DATABASE_URL"
DEFAULT_URL = "data/agentkeel.db"
MEMORY_URL = "memory://"
MIGRATION_TABLE = "alembic_version"
MAX_BUSY_TIMEOUT = 86_400  # a day, in seconds: its milliseconds fit every backend's setting

E = TypeVar("E", bound=DomainEvent)
R = TypeVar("R")


def default_url() -> str:
    """The database `Database.open()` opens when given none: the environment variable
    `AGENTKEEL_DATABASE_URL` if it is set (and not blank), else the SQLite file
    `data/agentkeel.db` under the working directory."""
    value = os.environ.get(URL_VARIABLE, "")
    return value if value.strip() else DEFAULT_URL


class Database:
    """A database agentkeel works on, and the factory of its units of work."""

    def __init__(
        self,
        *,
        engine: Engine | None = None,
        memory: MemoryDatabase | None = None,
        clock: Clock | None = None,
    ) -> None:
        if (engine is None) == (memory is None):
            raise ValueError("a Database has either an engine or an in-memory store")
        self.engine = engine
        self._memory = memory
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()

    @classmethod
    def open(
        cls,
        url: str | URL | None = None,
        *,
        clock: Clock | None = None,
        migrate_schema: bool = True,
        seed: bool = True,
        busy_timeout: float = BUSY_TIMEOUT,
        pool_size: int | None = None,
    ) -> Database:
        """Open `url`, bring its schema to head and seed the default settings.

        Opening writes only when it must (a schema behind head, a default setting missing),
        so a ready SQLite file opens at once even while another process writes to it.
        `url` is a SQLAlchemy URL, a file path (SQLite), `:memory:` (SQLite in memory) or
        `memory://` (the in-memory fakes).

        With no `url`, `default_url()`: `$AGENTKEEL_DATABASE_URL`, else `data/agentkeel.db`,
        whose `data` directory is created if missing.

        `busy_timeout` (seconds, 0 to 86,400; default 5) bounds every wait for the database:
        SQLite's busy timeout, PostgreSQL's lock_timeout, the wait for a free connection and
        the fakes' lock. Past it, the waiting call raises `Busy`. `pool_size` is the most
        connections (so units of work) open at once; by default 5, and 10 more under load.
        `:memory:` and `memory://` have no pool (one connection, one lock) and ignore it.

        Opening first checks that agentkeel can use the database, and refuses one it cannot
        before writing anything to it (see docs/reliability.md): a SQLite file that is not a
        database, is truncated or damaged, read-only, in a directory that does not exist or
        is read-only, or holds another application's tables; a PostgreSQL server that cannot
        be reached or has no such database; a schema at head whose tables, columns or
        indexes were altered. An empty (0-byte) file is a new database. With
        `migrate_schema=False` a database behind head or empty is opened as it is.

        Raises InvalidValue for a `url` naming no database ("" would be a throwaway SQLite
        database in memory) or an option out of range, DatabaseUnusable for a database that
        cannot be used (with `problem` saying why), SchemaError (a DatabaseUnusable) if the
        database was written by a newer agentkeel or its schema was altered, Busy if opening
        had to wait too long.
        """
        if url is None:
            url = default_url()
            if url == DEFAULT_URL:
                Path(DEFAULT_URL).parent.mkdir(parents=True, exist_ok=True)
        _check_url(url)
        _check_options(busy_timeout, pool_size)
        if url == MEMORY_URL:
            database = cls(memory=MemoryDatabase(lock_timeout=busy_timeout), clock=clock)
        else:
            parsed = normalise_url(url)
            live: LiveSchema | None = None
            if parsed.get_backend_name() == "sqlite" and not is_memory_sqlite(parsed):
                # Judged before any connection with agentkeel's settings (WAL) touches it.
                live = check_sqlite_file(str(parsed.database), busy_timeout=busy_timeout)
            engine = create_database_engine(url, busy_timeout=busy_timeout, pool_size=pool_size)
            database = cls(engine=engine, clock=clock)
        try:
            if database.engine is not None:
                name = _hidden(url)
                with _unreachable_is_unusable(database.engine, name):
                    migrate.create_or_upgrade(
                        database.engine, live, database=name, migrate_schema=migrate_schema
                    )
            if seed:
                database._seed()
        except BaseException:
            database.close()  # a database that failed to open holds no connections
            raise
        return database

    def _seed(self) -> None:
        # Checked first without the writer lock, so a seeded database opens behind a writer.
        with self.unit_of_work(read_only=True) as uow:
            if not missing_default_settings(uow):
                return
        with self.unit_of_work() as uow:
            seed_default_settings(uow)
            uow.commit()

    def unit_of_work(
        self, *, source: EventSource = EventSource.SYSTEM, read_only: bool = False
    ) -> UnitOfWork:
        """A new unit of work; `source` is who acts (recorded in audit entries).

        A `read_only` unit of work refuses writes with `ReadOnly` and reads one snapshot of
        the committed data without waiting for writers, on every backend (SQLite: a WAL
        snapshot, while writers begin with `BEGIN IMMEDIATE`; PostgreSQL: REPEATABLE READ;
        memory: the rows as last committed). After its commit or rollback it reads a new
        snapshot.
        """
        if self._memory is not None:
            return MemoryUnitOfWork(self._memory, self.clock, self.bus, source, read_only)
        assert self.engine is not None
        return SqlUnitOfWork(self.engine, self.clock, self.bus, source, read_only)

    def transaction(
        self, fn: Callable[[UnitOfWork], R], *, source: EventSource = EventSource.SYSTEM
    ) -> R:
        """Run `fn(uow)` in a new unit of work and commit it; return what `fn` returns
        (Nexus' `transaction(fn)`). If `fn` raises, nothing it wrote stays and the error
        propagates; its events are published only after the commit. For one-off work:
        the same unit of work as `with db.unit_of_work() as uow: ...; uow.commit()`.

            project = db.transaction(lambda uow: uow.projects.add(Project(name="Keel")))
        """
        with self.unit_of_work(source=source) as uow:
            result = fn(uow)
            uow.commit()
        return result

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Call `handler` with every event of this type committed from now on."""
        self.bus.subscribe(event_type, handler)

    def tables(self) -> list[str]:
        """The database's tables, by name, without Alembic's bookkeeping table (read without
        waiting for a writer)."""
        if self.engine is None:
            return sorted(metadata.tables)
        with read_only_connection(self.engine) as connection:
            names = inspect(connection).get_table_names()
        return sorted(name for name in names if name != MIGRATION_TABLE)

    def ping(self) -> bool:
        """True if the database answers a query (without waiting for a writer)."""
        if self.engine is None:
            return True
        try:
            with read_only_connection(self.engine) as connection:
                return connection.execute(text("SELECT 1")).scalar() == 1
        except Exception:
            return False

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None for the in-memory fakes)."""
        return None if self.engine is None else migrate.current_revision(self.engine)

    def backup(self, path: str | Path) -> None:
        """Copy the database, consistent as of one moment, into a new SQLite file at `path`,
        without stopping writers (SQLite's online backup API: it reads one snapshot, and in
        WAL mode writers go on meanwhile). The copy opens with `Database.open(path)`.

        Raises InvalidValue if `path` exists already (a backup never overwrites) or its
        directory does not exist; NotSupported on PostgreSQL (use `pg_dump`, as
        docs/reliability.md shows) and for the in-memory fakes.
        """
        if self.engine is None:
            raise NotSupported(
                "backup", "the in-memory fakes", "they keep nothing to back up; use SQLite"
            )
        if self.engine.dialect.name != "sqlite":
            raise NotSupported(
                "backup",
                "PostgreSQL",
                "use pg_dump: `pg_dump --format=custom --file=agentkeel.dump URL`, restored "
                "with `pg_restore --dbname=URL agentkeel.dump` (see docs/reliability.md)",
            )
        target = Path(path)
        if target.exists():
            raise InvalidValue("database", "backup", str(path), "exists already: name a new file")
        if not target.absolute().parent.is_dir():
            raise InvalidValue("database", "backup", str(path), "is in no existing directory")
        copy = sqlite3.connect(target)
        try:
            with self.engine.connect() as connection:
                source = connection.connection.driver_connection
                assert isinstance(source, sqlite3.Connection)
                source.backup(copy)
        except BaseException:
            copy.close()
            target.unlink(missing_ok=True)
            raise
        copy.close()

    def integrity_check(self) -> list[str]:
        """What is wrong with the stored data, one sentence per problem; empty if nothing.

        Checks that the schema matches this version's (revision, tables, columns, indexes);
        on SQLite also `PRAGMA integrity_check` (every page, row and index entry) and
        `PRAGMA foreign_key_check` (rows whose reference points at no row); on PostgreSQL,
        which enforces its foreign keys itself, that every foreign key declared by the schema
        exists and that no row refers to a missing one (rows written while the keys were
        disabled or dropped). SQLite reads every page: it takes time in proportion to the
        database's size. The in-memory fakes check their references as they write: they
        have nothing to check and answer empty.
        """
        if self.engine is None:
            return []
        with read_only_connection(self.engine) as connection:
            return integrity_problems(connection, migrate.HEAD)

    def close(self) -> None:
        """Release the database's connections (a no-op for the in-memory fakes). Units of
        work opened afterwards reconnect; close again when done."""
        if self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_URLS = "a SQLite file path, a postgresql:// URL, ':memory:' or 'memory://'"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def _check_url(url: object) -> None:
    """Raise InvalidValue unless `url` names a database agentkeel can open."""
    if not isinstance(url, str | URL):
        raise InvalidValue("database", "url", url, f"must be a string or a URL: {_URLS}")
    if isinstance(url, str) and not url.strip():
        raise InvalidValue("database", "url", url, f"is empty: name a database, {_URLS}")
    if url == MEMORY_URL:
        return
    try:
        backend = normalise_url(url).get_backend_name()
    except (ArgumentError, ValueError) as exc:  # make_url's complaints
        raise InvalidValue("database", "url", _hidden(url), "is not a database URL") from exc
    if backend not in ("sqlite", "postgresql"):
        raise InvalidValue(
            "database",
            "url",
            _hidden(url),
            f"names a {backend} database: agentkeel works on {_URLS}",
        )


@contextmanager
def _unreachable_is_unusable(engine: Engine, name: str) -> Iterator[None]:
    """The driver's complaints at the first connection, made while opening, as a
    DatabaseUnusable saying what is wrong: a PostgreSQL server that refuses the connection
    or has no such database; a SQLite file whose pages are damaged."""
    try:
        yield
    except DBAPIError as exc:
        if isinstance(exc.orig, sqlite3.DatabaseError):
            raise DatabaseUnusable(
                migrate.database_name(engine), f"it is damaged: SQLite says {exc.orig}"
            ) from exc
        if engine.dialect.name != "postgresql" or not isinstance(exc, OperationalError):
            raise
        lines = str(exc.orig).strip().splitlines()
        message = lines[0].removeprefix("connection failed: ") if lines else type(exc).__name__
        if "does not exist" in message and "database" in message:
            problem = (
                f"the server has no database {engine.url.database!r} ({message}): create it, "
                f"e.g. `createdb {engine.url.database}`"
            )
        else:
            problem = f"the server cannot be reached: {message}"
        raise DatabaseUnusable(name, problem) from exc


def _hidden(url: str | URL) -> str:
    """The URL as an error may show it: without its password."""
    text = url.render_as_string(hide_password=True) if isinstance(url, URL) else url
    return _PASSWORD.sub(r"\1***@", text)


def _check_options(busy_timeout: object, pool_size: object) -> None:
    """Raise InvalidValue naming the first option `Database.open` cannot use (NaN fails
    every comparison; a bool is an int to Python but no count of seconds or connections)."""
    if (
        isinstance(busy_timeout, bool)
        or not isinstance(busy_timeout, int | float)
        or not 0 <= busy_timeout <= MAX_BUSY_TIMEOUT
    ):
        raise InvalidValue(
            "database",
            "busy_timeout",
            busy_timeout,
            f"must be a number of seconds from 0 to {MAX_BUSY_TIMEOUT}",
        )
    if pool_size is not None and (
        isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1
    ):
        raise InvalidValue(
            "database", "pool_size", pool_size, "must be a whole number of connections, at least 1"
        )
