"""`Database.backup` (SQLite's online backup API) and `Database.integrity_check`, and the
`agentkeel backup` / `agentkeel check` commands that run them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.cli import main
from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue, NotSupported
from agentkeel.domain.workspace import Project
from tests.conftest import POSTGRES_URL, reset_postgres_schema
from tests.factories import project, task
from tests.figures import Figures


def count_projects(path: Path) -> int:
    with Database.open(str(path)) as db, db.unit_of_work(read_only=True) as uow:
        return uow.projects.count()


def test_a_backup_taken_while_a_writer_commits_is_whole_and_opens(
    tmp_path: Path, figures: Figures
) -> None:
    source = tmp_path / "live.db"
    with Database.open(str(source)) as db:
        with db.unit_of_work() as uow:
            for i in range(200):
                project(uow, f"before-{i}")
            uow.commit()
        stop = threading.Event()
        written = [0]

        def write() -> None:
            while not stop.is_set():
                with db.unit_of_work() as uow:
                    project(uow, f"during-{written[0]}")
                    uow.commit()
                written[0] += 1

        writer = threading.Thread(target=write)
        writer.start()
        try:
            for i in range(3):
                db.backup(tmp_path / f"copy-{i}.db")
        finally:
            stop.set()
            writer.join()
    counts = []
    for i in range(3):
        copy = tmp_path / f"copy-{i}.db"
        with Database.open(str(copy)) as restored:
            assert restored.integrity_check() == []
        counts.append(count_projects(copy))
    assert all(200 <= count <= 200 + written[0] for count in counts)
    assert counts == sorted(counts)  # each copy is a later moment
    figures.set(
        "backup (sqlite)",
        copies=3,
        commits_during_backup=written[0],
        projects_in_copies="/".join(map(str, counts)),
    )


def test_a_backup_never_overwrites_and_needs_a_directory(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "a.db")) as db:
        existing = tmp_path / "taken.db"
        existing.write_bytes(b"precious")
        with pytest.raises(InvalidValue, match="exists already"):
            db.backup(existing)
        assert existing.read_bytes() == b"precious"
        with pytest.raises(InvalidValue, match="no existing directory"):
            db.backup(tmp_path / "missing" / "b.db")


def test_backup_of_an_in_memory_sqlite_database_works(tmp_path: Path) -> None:
    with Database.open(":memory:") as db:
        with db.unit_of_work() as uow:
            uow.projects.add(Project(name="kept"))
            uow.commit()
        db.backup(tmp_path / "from-memory.db")
    assert count_projects(tmp_path / "from-memory.db") == 1


def test_backup_of_the_fakes_is_not_supported(tmp_path: Path) -> None:
    with Database.open("memory://") as db, pytest.raises(NotSupported, match="use SQLite"):
        db.backup(tmp_path / "x.db")


POSTGRES = [pytest.param(POSTGRES_URL, marks=pytest.mark.postgres)] if POSTGRES_URL else []


@pytest.fixture(params=POSTGRES)
def postgres(request: pytest.FixtureRequest) -> Iterator[tuple[Database, Engine]]:
    """A PostgreSQL database at head, and an engine on it; left at head afterwards."""
    engine = create_database_engine(request.param)
    reset_postgres_schema(engine)
    with Database.open(request.param) as db:
        yield db, engine
    reset_postgres_schema(engine)
    migrate.upgrade(engine)
    engine.dispose()


def test_backup_on_postgres_points_to_pg_dump(
    postgres: tuple[Database, Engine], tmp_path: Path
) -> None:
    db, _ = postgres
    with pytest.raises(NotSupported, match="pg_dump --format=custom"):
        db.backup(tmp_path / "x.db")


# -- integrity_check ------------------------------------------------------------------------


def test_a_sound_database_has_no_problem(db: Database) -> None:
    with db.unit_of_work() as uow:
        task(uow, project(uow))
        uow.commit()
    assert db.integrity_check() == []


def test_sqlite_rows_referring_to_missing_rows_are_found(tmp_path: Path, figures: Figures) -> None:
    path = tmp_path / "orphans.db"
    with Database.open(str(path)) as db, db.unit_of_work() as uow:
        task(uow, project(uow))
        uow.commit()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("DELETE FROM projects")
    connection.commit()
    connection.close()
    with Database.open(str(path)) as db:
        problems = db.integrity_check()
    assert problems == ["1 row(s) of tasks refer to a missing projects"]
    figures.add("integrity_check", problems_found=len(problems))


def test_a_damaged_data_page_is_found(tmp_path: Path, figures: Figures) -> None:
    """Opening reads the schema, not every page: damage elsewhere is what `integrity_check`
    (which reads them all) is for."""
    path = tmp_path / "damaged.db"
    with Database.open(str(path)) as db, db.unit_of_work() as uow:
        for i in range(50):
            project(uow, f"p{i}", description="x" * 200)
        uow.commit()
    connection = sqlite3.connect(path)
    (root,) = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'projects'"
    ).fetchone()
    (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)
    with Database.open(str(path)) as db:
        problems = db.integrity_check()
    assert problems and all(p.startswith("integrity_check: ") for p in problems), problems
    figures.add("integrity_check", problems_found=len(problems))


def test_postgres_keys_dropped_and_rows_written_without_them_are_found(
    postgres: tuple[Database, Engine], figures: Figures
) -> None:
    db, engine = postgres
    with db.unit_of_work() as uow:
        task(uow, project(uow))
        uow.commit()
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE tasks DROP CONSTRAINT fk_tasks_project_id_projects")
        connection.exec_driver_sql("DELETE FROM projects")
    problems = db.integrity_check()
    assert problems == [
        "the foreign key tasks.project_id -> projects is missing",
        "1 row(s) of tasks refer to a missing projects (project_id)",
    ]
    figures.add("integrity_check", problems_found=len(problems))


def test_a_database_behind_head_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_database_engine(str(path))
    migrate.upgrade(engine, "0005")
    engine.dispose()
    with Database.open(str(path), migrate_schema=False, seed=False) as db:
        (problem,) = db.integrity_check()
    assert problem.startswith(f"its schema revision is 0005, not this version's {migrate.HEAD}")


def test_the_fakes_have_nothing_to_check() -> None:
    with Database.open("memory://") as db:
        assert db.integrity_check() == []


# -- the commands -----------------------------------------------------------------------------


def test_agentkeel_backup_copies_and_agentkeel_check_says_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, copy = tmp_path / "a.db", tmp_path / "a-copy.db"
    with Database.open(str(source)) as db, db.unit_of_work() as uow:
        project(uow)
        uow.commit()
    assert main(["backup", str(source), str(copy)]) == 0
    assert main(["check", str(copy)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{source}: backed up to {copy}",
        f"{copy}: ok",
    ]
    assert count_projects(copy) == 1


def test_agentkeel_backup_copies_an_older_database_as_it_is(tmp_path: Path) -> None:
    source, copy = tmp_path / "old.db", tmp_path / "old-copy.db"
    engine = create_database_engine(str(source))
    migrate.upgrade(engine, "0005")
    engine.dispose()
    assert main(["backup", str(source), str(copy)]) == 0
    engine = create_database_engine(str(copy))
    assert migrate.current_revision(engine) == "0005"
    assert migrate.current_revision(create_database_engine(str(source))) == "0005"
    engine.dispose()


def test_agentkeel_check_reports_problems_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orphans.db"
    with Database.open(str(path)) as db, db.unit_of_work() as uow:
        task(uow, project(uow))
        uow.commit()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("DELETE FROM projects")
    connection.commit()
    connection.close()
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out == f"{path}: 1 row(s) of tasks refer to a missing projects\n"


def test_agentkeel_check_of_an_unusable_database_says_why_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database")
    assert main(["check", str(path)]) == 1
    assert "it is not a SQLite database" in capsys.readouterr().out


def test_agentkeel_backup_refusing_is_status_2_with_the_reason_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a.db"
    Database.open(str(source)).close()
    assert main(["backup", str(source), str(source)]) == 2
    assert "exists already" in capsys.readouterr().err
