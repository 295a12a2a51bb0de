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
from sqlalchemy import Connection, Engine

from agentkeel.adapters.sql.engine import read_only_connection
from agentkeel.domain.errors import SchemaError


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
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    current = current_revision(engine)
    if current is not None and current not in known:
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
        except CommandError as exc:
            raise SchemaError(f"migration failed: {exc}") from exc
