"""Seed 002, Nexus: its DatabaseClient's verification (WAL, foreign keys, migrations on
start-up, tables(), ping(), transactions), done right."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workspace import Project, ProjectMode
from tests import factories


def test_database_file_is_created_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nexus.db"
    with Database.open(str(path)) as db:
        assert path.exists()
        assert db.engine is not None
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_migrations_run_on_start_up_and_tables_are_listed(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "nexus.db")) as db:
        assert "projects" in db.tables() and db.ping()


def test_transactions_are_all_or_nothing(db: Database) -> None:
    with pytest.raises(InvalidValue), db.unit_of_work() as uow:
        uow.projects.add(Project(name="one"))
        uow.projects.add(Project(name="two", mode="sideways"))  # type: ignore[arg-type]
        uow.commit()
    with db.unit_of_work() as uow:
        assert uow.projects.count() == 0


def test_nexus_project_columns(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(
            uow,
            "Nexus",
            mode=ProjectMode.EVOLUTION,
            status="executing",
            root_path="/home/me/nexus",
            repository_url="https://git.example/nexus.git",
        )
        project.completed_at = uow.clock.now()
        done = uow.projects.update(project)
    assert done.is_completed and done.mode is ProjectMode.EVOLUTION
    assert done.root_path == "/home/me/nexus"
