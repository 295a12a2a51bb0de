"""The Database facade: open, tables(), ping(), close(); and the pitfalls of Nexus'
DatabaseClient (its tables() listed nothing because of an unescaped LIKE wildcard), and of
a PostgreSQL server whose time zone is not UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.pool import QueuePool

from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workspace import DEFAULT_SETTINGS, Project
from agentkeel.schema import metadata
from tests.conftest import BACKENDS, POSTGRES_URL, url_of


def test_tables_lists_every_table_of_the_schema(db: Database) -> None:
    assert db.tables() == sorted(metadata.tables)
    assert "template_placeholders" in db.tables()  # underscores are not wildcards


def test_tables_filters_by_exact_name_not_by_pattern(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "t.db")) as db:
        assert db.engine is not None
        with db.engine.begin() as connection:
            # Names a LIKE 'alembic_version' or 'sqlite_%' pattern would wrongly match.
            connection.execute(text("CREATE TABLE alembicXversion (x INTEGER)"))
            connection.execute(text("CREATE TABLE sqliteXstat (x INTEGER)"))
        assert db.tables() == sorted([*metadata.tables, "alembicXversion", "sqliteXstat"])


def test_ping_answers_and_close_releases(tmp_path: Path) -> None:
    db = Database.open(str(tmp_path / "p.db"))
    assert db.ping()
    db.close()


def test_ping_is_false_when_the_database_cannot_be_reached() -> None:
    # Database.open refuses a server it cannot reach (tests/reliability/test_hostile_databases.py);
    # a Database whose server went away since is built here directly.
    db = Database(engine=create_database_engine("postgresql://nobody@127.0.0.1:1/none"))
    assert db.ping() is False


@pytest.mark.parametrize("url", [":memory:", "memory://"])
def test_in_memory_databases_work(url: str) -> None:
    with Database.open(url) as db:
        assert db.tables() == sorted(metadata.tables)
        with db.unit_of_work() as uow:
            assert uow.settings.count() == len(DEFAULT_SETTINGS)


def test_a_sqlalchemy_url_is_taken_as_well_as_a_string(tmp_path: Path) -> None:
    with Database.open(make_url(f"sqlite:///{tmp_path / 'u.db'}")) as db:
        assert db.tables() == sorted(metadata.tables)


def test_opening_twice_is_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "twice.db")
    Database.open(path).close()
    with Database.open(path) as db, db.unit_of_work() as uow:
        assert uow.settings.count() == len(DEFAULT_SETTINGS)


@contextmanager
def server_time_zone(backend: str, zone: str) -> Iterator[None]:
    """New sessions of the test server start in `zone`, as on a server not set to UTC."""
    if backend != "postgres":
        yield
        return
    assert POSTGRES_URL
    engine = create_database_engine(POSTGRES_URL)
    name = engine.dialect.identifier_preparer.quote(str(make_url(POSTGRES_URL).database))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ALTER DATABASE {name} SET timezone = '{zone}'")
        yield
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ALTER DATABASE {name} RESET timezone")
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_earliest_utc_time_reads_back_whatever_the_server_zone(
    backend: str, tmp_path: Path
) -> None:
    earliest = datetime(1, 1, 1, tzinfo=UTC)  # year 0 in any zone west of UTC
    with (
        server_time_zone(backend, "America/New_York"),
        Database.open(url_of(backend, tmp_path)) as db,
        db.unit_of_work() as uow,
    ):
        project = uow.projects.add(Project(name="Old", archived_at=earliest))
        assert uow.projects.get(project.id).archived_at == earliest


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is empty"),
        ("  ", "is empty"),
        (42, "must be a string"),
        (b"agentkeel.db", "must be a string"),
        (Path("agentkeel.db"), "must be a string"),
        ("://nowhere", "is not a database URL"),
        ("postgresql://me:hunter2@host:port/db", "is not a database URL"),
        ("mysql://me:hunter2@host/db", "names a mysql database"),
    ],
)
def test_a_url_naming_no_database_is_refused(
    url: object, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty name would open a throwaway in-memory SQLite database, lost on close."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidValue, match=problem) as caught:
        Database.open(url)  # type: ignore[arg-type]
    assert (caught.value.entity, caught.value.field) == ("database", "url")
    assert "hunter2" not in str(caught.value)  # passwords stay out of messages
    assert list(tmp_path.iterdir()) == []


SQL_BACKENDS = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_units_of_work_one_after_another_take_the_pools_spare_connection(
    backend: str, tmp_path: Path
) -> None:
    """A unit of work gives its connection back as the pool's spare and the next one, on
    any thread, takes it: no checkout from the pool, whose bookkeeping costs a third of a
    short unit of work. Closing the database closes the spare too."""
    from sqlalchemy import event

    with Database.open(url_of(backend, tmp_path)) as db:
        assert db.engine is not None
        checkouts: list[object] = []
        event.listen(db.engine, "checkout", lambda *args: checkouts.append(args))
        for _ in range(20):
            with db.unit_of_work() as uow:
                uow.projects.add(Project(name="P"))
                uow.commit()
            with db.unit_of_work(read_only=True) as uow:
                uow.projects.count()
        assert len(checkouts) <= 1
        pool = db.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedout() == 1  # the spare
    assert pool.checkedout() == 0


def test_a_pool_with_no_room_beside_it_keeps_no_spare(tmp_path: Path) -> None:
    """With one connection in all, none is kept aside: whoever asks the engine itself for
    a connection (a tool, `tables()`) does not wait for one nobody uses."""
    with Database.open(str(tmp_path / "one.db"), pool_size=1, busy_timeout=0.5) as db:
        with db.unit_of_work() as uow:
            uow.projects.add(Project(name="P"))
            uow.commit()
        assert "projects" in db.tables()
        assert db.engine is not None and isinstance(db.engine.pool, QueuePool)
        assert db.engine.pool.checkedout() == 0
