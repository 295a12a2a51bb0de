"""Seed 002, Nexus: its DatabaseClient's verification (WAL, foreign keys, migrations on
start-up, tables(), ping(), transactions, the default location), all nine tables with their
five named indexes, and its relations, done right."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from agentkeel.adapters.sql import migrate
from agentkeel.database import URL_VARIABLE, Database, default_url
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workspace import Project, ProjectMode
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata
from agentkeel.services.backlog import create_checkpoint
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


# -- the verification list of 002: every table, the five named indexes, WAL, foreign keys ----

# Nexus' nine tables and their homes (`sessions` is `interaction_sessions`).
NEXUS_TABLES = {
    "projects": "projects",
    "features": "features",
    "sub_features": "sub_features",
    "tasks": "tasks",
    "agents": "agents",
    "checkpoints": "checkpoints",
    "requirements": "requirements",
    "metrics": "metrics",
    "sessions": "interaction_sessions",
}
# Nexus' named indexes and ours: (table, leading columns).
NEXUS_INDEXES = {
    "idx_features_project": ("features", ["project_id"]),
    "idx_tasks_project": ("tasks", ["project_id"]),
    "idx_tasks_status": ("tasks", ["status"]),
    "idx_agents_status": ("agents", ["status"]),
    "idx_checkpoints_project": ("checkpoints", ["project_id"]),
}


def _indexes(db: Database, table: str) -> list[list[str]]:
    """The column lists of the table's indexes, as the database itself reports them (the
    in-memory fakes: as the schema declares them)."""
    if db.engine is None:
        return [list(index.columns.keys()) for index in metadata.tables[table].indexes]
    with db.engine.connect() as connection:
        return [
            [str(column) for column in index["column_names"]]
            for index in inspect(connection).get_indexes(table)
        ]


def test_every_nexus_table_exists(db: Database) -> None:
    assert set(NEXUS_TABLES.values()) <= set(db.tables())
    assert "requirement_features" in db.tables()  # `requirements.linked_features`, normalized


@pytest.mark.parametrize("name", sorted(NEXUS_INDEXES))
def test_the_five_named_indexes_of_nexus_exist(db: Database, name: str) -> None:
    table, leading = NEXUS_INDEXES[name]
    assert any(columns[: len(leading)] == leading for columns in _indexes(db, table)), name


def test_a_fresh_migrated_file_holds_every_table_with_wal_and_foreign_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "nexus.db"
    path.parent.mkdir()
    with Database.open(str(path)) as db:
        assert db.schema_revision() == migrate.HEAD
        assert db.tables() == sorted(metadata.tables)
        assert db.engine is not None
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_the_default_location_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    assert default_url() == "data/agentkeel.db"
    with Database.open() as db:  # Nexus: ./data/nexus.db, the directory made if missing
        assert db.ping()
    assert (tmp_path / "data" / "agentkeel.db").exists()
    monkeypatch.setenv(URL_VARIABLE, str(tmp_path / "elsewhere.db"))
    assert default_url() == str(tmp_path / "elsewhere.db")
    with Database.open() as db:
        assert "features" in db.tables()
    assert (tmp_path / "elsewhere.db").exists()
    monkeypatch.setenv(URL_VARIABLE, "memory://")
    with Database.open() as db:
        assert db.engine is None
    monkeypatch.setenv(URL_VARIABLE, "  ")
    assert default_url() == "data/agentkeel.db"


def test_transaction_commits_what_fn_did_or_nothing(db: Database) -> None:
    project = db.transaction(lambda uow: uow.projects.add(Project(name="Nexus")))
    with db.unit_of_work() as uow:
        assert uow.projects.get(project.id) == project

    def half_done(uow: UnitOfWork) -> None:
        factories.feature(uow, project, "Kept?")
        factories.feature(uow, project, "Bad", priority="urgent")

    with pytest.raises(InvalidValue, match="priority"):
        db.transaction(half_done)
    with db.unit_of_work() as uow:
        assert uow.features.find_by_project(project.id) == []


def test_nexus_relations(db: Database) -> None:
    """002 T1 `relations`: projects -> features, tasks, checkpoints, requirements; features
    -> sub-features, tasks; tasks -> project, feature. Deleting the project takes them all."""
    with db.unit_of_work() as uow:
        project = factories.project(uow, "Nexus")
        feature = factories.feature(uow, project)
        sub_feature = factories.sub_feature(uow, feature)
        task = factories.task(uow, project, feature_id=feature.id, sub_feature_id=sub_feature.id)
        requirement = factories.requirement(uow, project)
        uow.requirement_features.link(requirement.id, feature.id)
        create_checkpoint(uow, project.id, "start")
        assert uow.tasks.get(task.id).feature_id == feature.id
        assert uow.sub_features.find_by_feature(feature.id) == [sub_feature]
        removed = uow.projects.delete(project.id)
        uow.commit()
    assert removed == {
        "projects": 1,
        "features": 1,
        "sub_features": 1,
        "tasks": 1,
        "requirements": 1,
        "requirement_features": 1,
        "checkpoints": 1,
    }
