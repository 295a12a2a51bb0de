"""Backends for every test that takes `db` or `uow`: memory, sqlite and (when
AGENTKEEL_TEST_POSTGRES_URL is set) postgres. If that variable is set and the server cannot
be reached, the tests fail; they never skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text

from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.adapters.sql.migrate import upgrade
from agentkeel.database import Database
from agentkeel.domain.clock import FakeClock
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata
from agentkeel.services.workspace import seed_default_settings
from tests.figures import FIGURES, Figures

POSTGRES_URL = os.environ.get("AGENTKEEL_TEST_POSTGRES_URL")

BACKENDS = [
    pytest.param("memory", marks=pytest.mark.memory),
    pytest.param("sqlite", marks=pytest.mark.sqlite),
]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", marks=pytest.mark.postgres))


def url_of(backend: str, tmp_path: Path) -> str:
    """What `Database.open` takes for `backend`: the fakes, a new SQLite file, the test server."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return str(tmp_path / "agentkeel.db")
    assert POSTGRES_URL, "AGENTKEEL_TEST_POSTGRES_URL is not set"
    return POSTGRES_URL


def reset_postgres_schema(engine: Engine) -> None:
    """An empty `public` schema: the state of a database nobody has used."""
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file that each test copies (a fresh file per test)."""
    path = tmp_path_factory.mktemp("template") / "agentkeel.db"
    Database.open(str(path)).close()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    assert POSTGRES_URL, "AGENTKEEL_TEST_POSTGRES_URL is not set"
    engine = create_database_engine(POSTGRES_URL)
    reset_postgres_schema(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


def truncate_all(engine: Engine) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        # Sequences (the event log's numbers) start again at 1, as in a new SQLite file.
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def open_backend(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Database:
    clock = FakeClock()
    if backend == "memory":
        return Database.open("memory://", clock=clock)
    if backend == "sqlite":
        path = tmp_path / "agentkeel.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database(engine=create_database_engine(str(path)), clock=clock)
    engine: Engine = request.getfixturevalue("postgres_engine")
    truncate_all(engine)
    database = Database(engine=engine, clock=clock)
    with database.unit_of_work() as uow:
        seed_default_settings(uow)
        uow.commit()
    return database


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A seeded database on each backend, with a FakeClock."""
    database = open_backend(request, request.param, tmp_path)
    yield database
    if request.param != "postgres":  # the session engine outlives the test
        database.close()


@pytest.fixture
def uow(db: Database) -> Iterator[UnitOfWork]:
    """An open unit of work on `db`."""
    with db.unit_of_work() as unit:
        yield unit


# Hypothesis: `ci` (used by .ci/run) runs 200 examples per property; `dev` is quicker.
settings.register_profile("ci", max_examples=200, stateful_step_count=30, deadline=None)
settings.register_profile("dev", max_examples=40, stateful_step_count=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# The `figures` fixture and the summary that shows them (see tests/figures.py).
@pytest.fixture
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Figures:
    store = request.config.stash.setdefault(FIGURES, {})
    return Figures(store, tmp_path_factory.getbasetemp() / "figures.json")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    store = config.stash.get(FIGURES, {})
    if not store:
        return
    terminalreporter.section("figures")
    for heading, values in store.items():
        shown = ", ".join(f"{key}={value}" for key, value in values.items())
        terminalreporter.write_line(f"{heading}: {shown}")
