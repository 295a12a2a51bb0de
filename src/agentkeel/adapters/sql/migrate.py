"""Alembic, run from the library: bring a database to the schema this version expects."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable

from agentkeel.adapters.sql.engine import read_only_connection
from agentkeel.adapters.sql.inspection import (
    LiveSchema,
    differences,
    judge,
    read_live_connection,
)
from agentkeel.domain.errors import SchemaError
from agentkeel.schema import metadata

HEAD = "0015"
"""The newest revision, known without loading the scripts (a test checks it is their head)."""

MIGRATION_LOCK = 7_344_202_611
"""A fixed advisory-lock key: concurrent start-ups on PostgreSQL migrate one at a time."""


def script_location() -> Path:
    """The migrations: packaged inside the wheel, or `migrations/` of a source checkout."""
    packaged = Path(str(resources.files("agentkeel"))) / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[4] / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise SchemaError("agentkeel ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None if never migrated), read without waiting for
    a writer."""
    with read_only_connection(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration the database lacks, up to `revision`, in one transaction.

    A database already at head is only read, so opening it never waits for a writer.
    Raises SchemaError if the database is at a revision this version does not know (it was
    written by a newer agentkeel), Busy if a writer held the database past the wait limit.
    """
    target = head_revision() if revision == "head" else revision
    _run(engine, lambda config: command.upgrade(config, revision), done_at=target)


def create_or_upgrade(
    engine: Engine,
    live: LiveSchema | None = None,
    *,
    database: str | None = None,
    migrate_schema: bool = True,
) -> None:
    """Check the database can be used, and bring it to head, the way `Database.open` does.

    The live schema (`live`, if the caller read it already, else read here without waiting
    for a writer) is judged first (see `inspection.judge`): another application's database,
    one from a newer agentkeel, or one at head whose tables, columns or indexes were altered
    is refused with a domain error, untouched. A database already at head is only read (no
    scripts loaded). With `migrate_schema` False nothing is written.

    A database with no tables at all is created from the metadata at head and stamped
    there, in one transaction: one CREATE per table and index instead of every revision's
    steps (SQLite rebuilds a table for each batch step), the same schema, as the migration
    tests prove `upgrade` to head builds exactly the metadata. A database at an earlier
    revision is upgraded revision by revision in one transaction, which commits only if
    the schema it leaves matches the metadata at head (see `upgrade`)."""
    name = database or database_name(engine)
    with _MIGRATING:
        if live is None:
            with read_only_connection(engine) as connection:
                live = read_live_connection(connection)
        action = judge(live, name, HEAD, known_revisions)
        if action == "ready" or not migrate_schema:
            return
        if action == "create" and _create_at_head(engine):
            return
        _run_alone(engine, lambda config: command.upgrade(config, "head"), done_at=HEAD)


def database_name(engine: Engine) -> str:
    """The database as errors name it: a SQLite file's path, a URL without its password."""
    if engine.dialect.name == "sqlite":
        return engine.url.database or ":memory:"
    return engine.url.render_as_string(hide_password=True)


def known_revisions() -> set[str]:
    """Every revision this version of agentkeel ships (loads the scripts)."""
    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def _create_at_head(engine: Engine) -> bool:
    """Create the schema at head if the database is still empty once it holds the writer
    lock (BEGIN IMMEDIATE on SQLite, the advisory lock on PostgreSQL); False if another
    process got there first."""
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        if inspect(connection).get_table_names():
            return False
        _create_tables(connection)
        context = MigrationContext.configure(connection)
        version = context.impl.version_table_impl(
            version_table="alembic_version", version_table_schema=None, version_table_pk=True
        )
        version.create(connection)
        connection.execute(version.insert().values(version_num=HEAD))
    return True


def _create_tables(connection: Connection) -> None:
    """CREATE every table and index of the metadata. The foreign key that closes a cycle of
    tables (`use_alter`: agents.task_id) is declared in its CREATE TABLE on SQLite, which
    allows a key to a table not created yet and cannot add one later, and added after all
    tables on PostgreSQL. (Not `metadata.create_all`: its ALTER marks the key as never to be
    declared inline again, for every later CREATE TABLE in the process, SQLite's included.)"""
    sqlite = connection.dialect.name == "sqlite"
    later = []
    for table in metadata.sorted_tables:
        keys = [key for key in table.foreign_key_constraints if sqlite or not key.use_alter]
        later += [key for key in table.foreign_key_constraints if key not in keys]
        connection.execute(CreateTable(table, include_foreign_key_constraints=keys))
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            connection.execute(CreateIndex(index))
    for key in later:
        connection.execute(AddConstraint(key, isolate_from_table=False))


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, lambda config: command.downgrade(config, revision))


@contextmanager
def migrating(connection: Connection) -> Iterator[None]:
    """One transaction for a migration run. On SQLite, batch migrations rebuild tables, so
    foreign keys are off while they run (the pragma only takes effect outside a transaction)
    and checked once at the end instead. Used by the library and by `migrations/env.py`."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with connection.begin():
            yield
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"migration left rows with broken references: {broken}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def _check_at_head(connection: Connection, database: str) -> None:
    """Refuse (so roll back) an upgrade to head that leaves the schema short of the
    metadata: a table, column or index altered by hand before the upgrade."""
    live = read_live_connection(connection)
    # A schema this process already found whole at head (the very same CREATE statements
    # and revision: a downgrade and upgrade can rebuild it) is read without its columns and
    # indexes: it is known to be at head, and comparing that short read would find
    # everything missing.
    if live.known_good:
        return
    if problems := differences(live):
        raise SchemaError(
            f"upgrading its schema to head would leave it altered, so nothing was changed: "
            f"{'; '.join(problems)}",
            database,
        )


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


# Alembic keeps its migration context in a module global, so two threads must never migrate
# at once. Between processes the database serialises them (BEGIN IMMEDIATE on SQLite, an
# advisory lock in env.py on PostgreSQL).
_MIGRATING = threading.Lock()


def _run(engine: Engine, action: Callable[[Config], None], done_at: str | None = None) -> None:
    with _MIGRATING:
        _run_alone(engine, action, done_at)


def _run_alone(engine: Engine, action: Callable[[Config], None], done_at: str | None) -> None:
    """Run `action` unless the database is already at revision `done_at`."""
    current = current_revision(engine)
    if current is not None and current not in known_revisions():
        raise SchemaError(
            f"the database is at schema revision {current!r}, which this version of agentkeel "
            "does not know (a newer version wrote it); upgrade agentkeel"
        )
    # Migrating takes the writer lock (BEGIN IMMEDIATE on SQLite) even when there is nothing
    # to do; a database already there is left alone.
    if done_at is not None and current == done_at:
        return
    with engine.connect() as connection:
        try:
            with migrating(connection):
                action(alembic_config(connection))
                if done_at == HEAD:
                    _check_at_head(connection, database_name(engine))
        except CommandError as exc:
            raise SchemaError(f"migration failed: {exc}") from exc
