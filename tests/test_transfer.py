"""Moving data between databases (adapters/sql/transfer.py, copy.py, rows.py): a project
exported and imported is the same rows, exactly, on SQLite and PostgreSQL; a refused import
writes nothing; a copy of a whole database verifies, resumes after an interruption and
refuses a target it would spoil."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.copy import CopyRefused, copy_database
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.adapters.sql.rows import parents_first, read_rows
from agentkeel.adapters.sql.transfer import (
    FORMAT_VERSION,
    ImportRefused,
    export_project,
    import_project,
    parse_document,
    read_tree_rows,
)
from agentkeel.database import Database
from agentkeel.domain.agents import Agent, Metric, MetricType
from agentkeel.domain.errors import NotFound
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata
from agentkeel.services import backlog, planning
from tests import factories as f
from tests import factories_tree as ft
from tests.conftest import POSTGRES_URL, truncate_all

TARGETS = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    TARGETS.append(pytest.param("postgres", marks=pytest.mark.postgres))


def populate(uow: UnitOfWork) -> tuple[Project, Agent]:
    """A project with a row in most tables under it (self-references, dependencies both
    ways, JSON with floats and big integers, non-ASCII text), an agent outside it that it
    refers to, and another project that must stay behind."""
    project = f.project(uow, "Keel", description='ünïcode ✓ and "quotes"')
    other = f.project(uow, "Other")
    api = f.repository(uow, project, path="/src/api")
    f.worktree(uow, api, "/wt/keel", branch_name="feature/x")
    profile = f.profile(uow, "keel-dev", project_id=project.id)
    f.skill(uow, profile, "python")
    initiative = f.initiative(uow, project)
    design, build = f.phase(uow, initiative, "Design"), f.phase(uow, initiative, "Build")
    uow.phase_dependencies.create(build.id, design.id)
    scope = {"initiative_id": initiative.id, "phase_id": design.id}
    parent = f.task(uow, project, "Parent", **scope)
    child = f.task(uow, project, "Child", parent_task_id=parent.id, **scope)
    later = f.task(uow, project, "Later", initiative_id=initiative.id, phase_id=build.id)
    uow.task_dependencies.create(later.id, child.id)
    f.task(uow, other, "Elsewhere")
    root = ft.page(uow, initiative, None, "Root")
    ft.page(uow, initiative, root, "Sub")
    worker = f.agent(uow, "worker")
    planning.claim_next_ready_task(uow, worker.id, project_id=project.id, lease=timedelta(1))
    flow = f.workflow(uow, project)
    structured = {"a": 1.0, "b": [1, 2**62, "x"], "z": None, "f": 0.1}
    step = f.step(uow, flow, 1, output_structured=structured)
    uow.workflows.start(flow.id)
    uow.workflow_steps.start(step.id, agent_id=worker.id)
    feature = f.feature(uow, project)
    f.sub_feature(uow, feature)
    f.requirement(uow, project)
    uow.metrics.record(Metric(project_id=project.id, type=MetricType.TASK_DURATION, value=1 / 3))
    backlog.create_checkpoint(uow, project.id, "before the move")
    return project, worker


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Database, Project, Agent]]:
    """A SQLite database holding a populated project."""
    db = Database.open(str(tmp_path / "source.db"))
    with db.unit_of_work() as uow:
        project, worker = populate(uow)
        uow.commit()
    yield db, project, worker
    db.close()


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at head: a new SQLite file, or the test server emptied."""
    if request.param == "sqlite":
        db = Database.open(str(tmp_path / "target.db"), seed=False)
        assert db.engine is not None
        yield db.engine
        db.close()
        return
    engine: Engine = request.getfixturevalue("postgres_engine")
    truncate_all(engine)
    yield engine


def engine_of(db: Database) -> Engine:
    assert db.engine is not None
    return db.engine


def all_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {t.name: read_rows(connection, t) for t in metadata.sorted_tables}


def copy_agent(source: Engine, target: Engine, agent_id: str) -> None:
    """The agent the project refers to, put in the target as it is (it lives outside)."""
    agents = metadata.tables["agents"]
    with source.connect() as connection:
        row = connection.execute(select(agents).where(agents.c.id == agent_id)).mappings().one()
    with target.begin() as connection:
        connection.execute(insert(agents), [{**row, "task_id": None}])


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_an_exported_project_imports_exactly_into_another_database(
    source: tuple[Database, Project, Agent], target: Engine
) -> None:
    db, project, worker = source
    before = read_tree_rows(engine_of(db), project.id)
    document = export_project(engine_of(db), project.id)
    assert "Other" not in json.dumps(document.to_json())  # the other project stays behind
    text = json.dumps(document.to_json())
    copy_agent(engine_of(db), target, worker.id)
    report = import_project(target, parse_document(text))
    assert report.cleared == {}
    after = read_tree_rows(target, project.id)
    assert after == before
    assert sum(map(len, before.values())) == sum(report.rows.values()) > 20
    assert {"checkpoints", "pages", "tasks", "metrics", "audit_logs"} <= set(report.rows)
    # ... and what it reads back exports to the same document, byte for byte.
    again = export_project(target, project.id).to_json()
    assert {**again, "exported_at": None} == {**document.to_json(), "exported_at": None}


def test_a_refused_import_writes_nothing_and_says_why(
    source: tuple[Database, Project, Agent], tmp_path: Path
) -> None:
    db, project, worker = source
    text = json.dumps(export_project(engine_of(db), project.id).to_json())
    with Database.open(str(tmp_path / "target.db")) as other:
        target = engine_of(other)
        empty = all_rows(target)
        with pytest.raises(ImportRefused, match=r"tasks.assigned_agent_id refers to 1 row"):
            import_project(target, parse_document(text))
        assert all_rows(target) == empty
        copy_agent(engine_of(db), target, worker.id)
        import_project(target, parse_document(text))
        filled = all_rows(target)
        with pytest.raises(ImportRefused, match=r"row\(s\) of projects exist already"):
            import_project(target, parse_document(text))
        assert all_rows(target) == filled


def test_clear_missing_clears_only_the_references_the_schema_lets_go(
    source: tuple[Database, Project, Agent], tmp_path: Path
) -> None:
    db, project, _ = source
    text = json.dumps(export_project(engine_of(db), project.id).to_json())
    with Database.open(str(tmp_path / "target.db")) as other:
        report = import_project(engine_of(other), parse_document(text), clear_missing=True)
        assert report.cleared == {"tasks.assigned_agent_id": 1, "workflow_steps.runner_agent_id": 1}
        with other.unit_of_work() as uow:
            assert all(t.assigned_agent_id is None for t in uow.tasks.list(project_id=project.id))
    document = json.loads(text)
    document["tables"]["tasks"][0]["feature_id"] = "no-such-feature"  # NO ACTION: required
    with (
        Database.open(str(tmp_path / "third.db")) as third,
        pytest.raises(ImportRefused, match=r"tasks\.feature_id refers to 1 row"),
    ):
        import_project(engine_of(third), parse_document(json.dumps(document)), clear_missing=True)


def test_damaged_or_foreign_documents_are_refused(source: tuple[Database, Project, Agent]) -> None:
    db, project, _ = source
    good = export_project(engine_of(db), project.id).to_json()
    text = json.dumps(good)

    def changed(**fields: Any) -> str:
        return json.dumps({**good, **fields})

    cases = {
        text[: len(text) // 2]: "not a complete JSON document",
        "[]": "not an agentkeel project export",
        changed(version=FORMAT_VERSION + 1): "written by a newer agentkeel",
        changed(schema_revision="9999"): "schema revision '9999'",
        changed(tables={**good["tables"], "nope": []}): "table this agentkeel does not know",
        changed(tables={**good["tables"], "projects": []}): "does not hold the project",
    }
    broken = json.loads(text)
    broken["tables"]["tasks"][0]["created_at"] = "yesterday"
    cases[json.dumps(broken)] = "a row of tasks is damaged"
    del broken["tables"]["tasks"][0]["name"]
    cases[json.dumps(broken)] = "does not have the table's columns"
    for document, problem in cases.items():
        with pytest.raises(ImportRefused, match=problem):
            parse_document(document)


def test_exporting_a_missing_project_is_not_found(source: tuple[Database, Project, Agent]) -> None:
    with pytest.raises(NotFound):
        export_project(engine_of(source[0]), "no-such-project")


def test_parents_come_first_whatever_the_order_given() -> None:
    tasks = metadata.tables["tasks"]
    rows = [{"id": "c", "parent_task_id": "b"}, {"id": "b", "parent_task_id": "a"}]
    rows.append({"id": "a", "parent_task_id": "elsewhere"})
    assert [row["id"] for row in parents_first(tasks, rows)] == ["a", "b", "c"]


# -- copy ------------------------------------------------------------------------------------


@pytest.fixture
def demo_db(tmp_path: Path) -> Iterator[Database]:
    """A SQLite database that the demo filled."""
    from agentkeel.demo import run_demo

    path = str(tmp_path / "demo.db")
    run_demo(path)
    with Database.open(path) as db:
        yield db


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_a_copy_of_the_demo_database_is_exact(demo_db: Database, target: Engine) -> None:
    stages: set[str] = set()
    report = copy_database(
        engine_of(demo_db),
        target,
        batch_size=3,
        progress=lambda stage, _table, _done, _total: stages.add(stage),
    )
    assert report.mismatched == [] and stages == {"copy", "link", "verify"}
    assert all_rows(target) == all_rows(engine_of(demo_db))
    assert sum(t.copied for t in report.tables) > 50
    # New events number on after the copied ones (PostgreSQL's sequence was moved).
    copied = Database(engine=target)
    with copied.unit_of_work() as uow:
        last = uow.event_log.last_sequence()
        uow.projects.archive(uow.projects.add(Project(name="After the copy")).id)
        uow.commit()
    with copied.unit_of_work() as uow:
        assert [e.sequence > last for e in uow.event_log.read_after(last)] == [True]


def test_a_copy_refuses_a_target_with_rows_or_at_another_revision(
    demo_db: Database, tmp_path: Path
) -> None:
    with (
        Database.open(str(tmp_path / "seeded.db")) as seeded,  # opening seeds the settings
        pytest.raises(CopyRefused, match="settings has 21"),
    ):
        copy_database(engine_of(demo_db), engine_of(seeded))
    old = create_database_engine(str(tmp_path / "old.db"))
    migrate.upgrade(old, "0005")
    with pytest.raises(
        CopyRefused, match=f"target database is at schema revision 0005, not .*{migrate.HEAD}"
    ):
        copy_database(engine_of(demo_db), old)
    old.dispose()


def test_an_interrupted_copy_finishes_with_resume(demo_db: Database, tmp_path: Path) -> None:
    class Interrupted(Exception):
        pass

    def crash_in_tasks(stage: str, table: str, done: int, _total: int) -> None:
        if stage == "copy" and table == "tasks" and done:
            raise Interrupted

    with Database.open(str(tmp_path / "copy.db"), seed=False) as copy:
        target = engine_of(copy)
        with pytest.raises(Interrupted):
            copy_database(engine_of(demo_db), target, batch_size=1, progress=crash_in_tasks)
        with target.connect() as connection:
            tasks = metadata.tables["tasks"]
            assert connection.execute(select(func.count()).select_from(tasks)).scalar() == 1
        with pytest.raises(CopyRefused, match="--resume"):
            copy_database(engine_of(demo_db), target)
        report = copy_database(engine_of(demo_db), target, resume=True)
        assert report.mismatched == []
        skipped = {t.name: t.skipped for t in report.tables if t.skipped}
        assert skipped["tasks"] == 1 and skipped["projects"] == 1
        assert all_rows(target) == all_rows(engine_of(demo_db))
