"""Crash safety: writer processes SIGKILLed in the middle of units of work and of commits,
again and again, and processes killed during the first `Database.open` of a new database
(while it creates the schema), on SQLite and PostgreSQL.

Afterwards the database opens; every unit of work a writer saw committed is fully there
(its project, its three repositories, its event in the event log, once); no unit of work
is there in part; SQLite's `PRAGMA integrity_check` says ok and `PRAGMA foreign_key_check`
finds nothing; on both backends no row refers to a row that is not there. Kills land three
ways: a writer kills itself halfway through a unit of work, or at its commit (after the
event log's append, before the driver's COMMIT), and the test kills writers from outside
at random moments (some of which fall inside the driver's commit).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.workspace import Project, Repository
from agentkeel.schema import metadata
from tests.conftest import POSTGRES_URL, reset_postgres_schema, truncate_all, url_of
from tests.figures import Figures

ROUNDS = 10
WRITERS = 3
REPOSITORIES = 3  # per unit of work
OPENS = 10  # processes killed during a first open

SQL = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    SQL.append(pytest.param("postgres", marks=pytest.mark.postgres))

# fork: a writer starts in milliseconds (the parent has imported everything), so the kills
# land while it works rather than while it imports.
CONTEXT = multiprocessing.get_context("fork")


@dataclass(frozen=True)
class CrashProbe(DomainEvent):
    """The event each test unit of work records: which writer, which unit."""

    writer: str
    unit: int


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def write_until_killed(url: str, writer: str, ledger: str, seed: int) -> None:
    """Commit units of work until killed; after each commit, note its number in `ledger`.
    Now and then kill itself halfway through a unit or at its commit."""
    rng = random.Random(seed)
    with Database.open(url, migrate_schema=False, seed=False) as db:
        assert db.engine is not None
        die_at_commit = [False]

        def at_commit(_: Any) -> None:  # after the event log's append, before COMMIT
            if die_at_commit[0]:
                die()

        event.listen(db.engine, "commit", at_commit)
        with open(ledger, "a", buffering=1) as out:
            out.write("ready\n")
            unit = 0
            while True:
                fate = rng.random()
                with db.unit_of_work() as uow:
                    project = uow.projects.add(Project(name=f"crash-{writer}-{unit}"))
                    for r in range(REPOSITORIES):
                        uow.repositories.add(
                            Repository(project_id=project.id, name=f"r{r}", path=f"/{r}")
                        )
                        if fate < 0.01 and r == 1:
                            die()  # halfway through a unit of work
                    uow.record(CrashProbe(writer, unit))
                    die_at_commit[0] = fate > 0.99
                    uow.commit()
                out.write(f"{unit}\n")
                unit += 1


def orphans(engine: Engine) -> list[str]:
    """Every foreign key's rows that refer to no row, on any backend."""
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for key in table.foreign_keys:
                column, target = key.parent.name, key.column.table.name
                count = connection.execute(
                    text(
                        f'SELECT count(*) FROM "{table.name}" c WHERE c."{column}" IS NOT NULL '
                        f'AND NOT EXISTS (SELECT 1 FROM "{target}" t WHERE t.id = c."{column}")'
                    )
                ).scalar()
                if count:
                    found.append(f"{table.name}.{column}: {count}")
    return found


def sqlite_checks(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("backend", SQL)
def test_writers_killed_mid_unit_and_mid_commit_lose_and_half_write_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    url = url_of(backend, tmp_path)
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
    Database.open(url).close()
    rng = random.Random(12)
    kills = self_kills = 0
    ledgers: dict[str, Path] = {}
    for round_ in range(ROUNDS):
        processes = []
        for w in range(WRITERS):
            writer = f"r{round_}w{w}"
            ledgers[writer] = tmp_path / f"{writer}.ledger"
            process = CONTEXT.Process(
                target=write_until_killed,
                args=(url, writer, str(ledgers[writer]), rng.randrange(2**32)),
            )
            process.start()
            processes.append((writer, process))
        for writer, process in processes:
            while process.is_alive() and not ledgers[writer].exists():
                time.sleep(0.005)
        time.sleep(rng.uniform(0.05, 0.5))  # let them commit, then kill at a random moment
        for _, process in processes:
            if process.is_alive():
                process.kill()
                kills += 1
            else:
                self_kills += 1
            process.join(10)
            assert process.exitcode == -signal.SIGKILL

    with Database.open(url) as db:  # it opens
        assert db.engine is not None
        engine = db.engine
        if backend == "sqlite":
            sqlite_checks(engine)
        assert orphans(engine) == []
        with engine.connect() as connection:
            projects: dict[str, str] = dict(
                connection.execute(
                    text("SELECT name, id FROM projects WHERE name LIKE 'crash-%'")
                ).all()
            )
            repositories: dict[str, int] = dict(
                connection.execute(
                    text("SELECT project_id, count(*) FROM repositories GROUP BY project_id")
                ).all()
            )
            probes = [
                json.loads(payload)
                for (payload,) in connection.execute(
                    text("SELECT payload FROM event_log WHERE event_type = 'CrashProbe'")
                )
            ]
    logged = [f"crash-{p['writer']}-{p['unit']}" for p in probes]
    seen_committed = [
        f"crash-{writer}-{line}"
        for writer, ledger in ledgers.items()
        for line in ledger.read_text().split()
        if line != "ready"
    ]
    lost = [name for name in seen_committed if name not in projects]
    partial = [
        name
        for name, key in projects.items()
        if repositories.get(key, 0) != REPOSITORIES or logged.count(name) != 1
    ]
    strays = [name for name in logged if name not in projects]
    figures.set(
        f"crash ({backend}): writers killed",
        rounds=ROUNDS,
        killed_from_outside=kills,
        killed_themselves=self_kills,
        units_committed=len(projects),
        acknowledged_before_the_kill=len(seen_committed),
        lost=len(lost),
        partial=len(partial),
        events_without_their_unit=len(strays),
    )
    assert lost == []
    assert partial == []
    assert strays == []
    assert len(seen_committed) > 0
    assert kills + self_kills == ROUNDS * WRITERS


def open_until_killed(url: str, marker: str, kill_at_create: int) -> None:
    """Open a new database; if `kill_at_create`, die at the schema's n-th CREATE."""
    creates = [0]

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE"):
            creates[0] += 1
            if creates[0] == kill_at_create:
                die()

    event.listen(Engine, "before_cursor_execute", count)
    Path(marker).write_text("opening")
    Database.open(url).close()
    Path(marker).write_text("opened")


@pytest.mark.parametrize("backend", SQL)
def test_a_process_killed_during_the_first_open_leaves_a_database_that_opens(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    rng = random.Random(7)
    during = opened = 0
    tables = len(metadata.tables)
    try:
        for attempt in range(OPENS):
            if backend == "sqlite":
                url = str(tmp_path / f"first-{attempt}.db")
            else:
                url = url_of(backend, tmp_path)
                reset_postgres_schema(request.getfixturevalue("postgres_engine"))
            marker = tmp_path / f"open-{attempt}"
            # Half die at a chosen CREATE of the schema, half at a random moment.
            chosen = rng.randint(1, tables) if attempt % 2 == 0 else 0
            process = CONTEXT.Process(target=open_until_killed, args=(url, str(marker), chosen))
            process.start()
            while process.is_alive() and not marker.exists():
                time.sleep(0.001)
            if not chosen:
                time.sleep(rng.uniform(0, 0.06))
            process.kill()
            process.join(10)
            during += marker.exists() and marker.read_text() == "opening"
            with Database.open(url) as db:  # opens, and creates what the kill left undone
                assert db.engine is not None
                assert db.schema_revision() == migrate.HEAD
                if backend == "sqlite":
                    sqlite_checks(db.engine)
                with db.unit_of_work(read_only=True) as uow:
                    assert uow.settings.count() > 0  # seeded
                assert len(db.tables()) == tables
            opened += 1
    finally:
        if backend == "postgres":  # the schema at head again, as the other tests expect
            engine = request.getfixturevalue("postgres_engine")
            reset_postgres_schema(engine)
            migrate.upgrade(engine)
    figures.set(
        f"crash ({backend}): first opens killed",
        killed=OPENS,
        before_the_open_finished=during,
        opened_at_head_afterwards=opened,
    )
    assert during >= OPENS // 2  # at least the ones killed at a chosen CREATE


def test_the_orphan_check_finds_an_orphan(tmp_path: Path) -> None:
    """The check above can fail: a repository planted with foreign keys off is found."""
    path = tmp_path / "orphan.db"
    with Database.open(str(path)) as db, db.unit_of_work() as uow:
        project = uow.projects.add(Project(name="gone"))
        uow.repositories.add(Repository(project_id=project.id, name="r", path="/r"))
        uow.commit()
    raw = sqlite3.connect(path)  # foreign keys off, as sqlite3 connects by default
    raw.execute("DELETE FROM projects")
    raw.commit()
    raw.close()
    engine = create_database_engine(str(path))
    assert orphans(engine) == ["repositories.project_id: 1"]
    engine.dispose()
