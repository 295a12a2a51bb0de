"""The task finders an orchestrator calls in its loop walk an index that leads with their
scope and status, in task order: no scan of the growing table, no sort of what it finds.

Checked on the plan each database gives for the very statements the repositories send
(captured as they go), so that a change of a query term, a statement or an index that
loses the index fails here. SQLite plans without statistics until it has gathered them:
there each finder must walk its scope's index, with no sort, at any size. PostgreSQL plans
by its statistics, and on a table of a test's size rightly prefers a scan or another
index; its plans at scale are the benchmark's to show, not a test's."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from agentkeel.database import Database
from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

LEASE = timedelta(minutes=5)


def task_selects(db: Database, call: Callable[[UnitOfWork], Any]) -> list[tuple[str, Any]]:
    """The statements reading `tasks` that `call` sends (a claim is an UPDATE of the first
    row its SELECT finds), with their parameters."""
    assert db.engine is not None
    sent: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, *rest: Any) -> None:
        verb = sql.lstrip().split(None, 1)[0].upper()
        if verb in ("SELECT", "UPDATE") and "FROM tasks" in sql:
            sent.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.unit_of_work() as uow:
            call(uow)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert sent, "the call read no tasks"
    return sent


def plan(db: Database, sql: str, params: Any) -> str:
    """SQLite's plan for the statement, as text."""
    assert db.engine is not None
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[3]) for row in cursor.fetchall())
    finally:
        raw.close()


def scoped(uow: UnitOfWork, projects: int = 2) -> dict[str, str]:
    """Tasks in several scopes: `projects` projects of 5 initiatives of 2 phases, 20 tasks
    a phase, half of them pending; the ids of one project, initiative and phase."""
    first: dict[str, str] = {}
    tasks: list[Task] = []
    for p in range(projects):
        project = factories.project(uow, f"project {p}")
        for i in range(5):
            initiative = factories.initiative(uow, project, f"initiative {i}")
            for h in range(2):
                phase = factories.phase(uow, initiative, f"phase {h}")
                first = first or {
                    "project_id": project.id,
                    "initiative_id": initiative.id,
                    "phase_id": phase.id,
                }
                tasks += [
                    Task(
                        project_id=project.id,
                        initiative_id=initiative.id,
                        phase_id=phase.id,
                        name=f"task {t}",
                        status=TaskStatus.PENDING if t % 2 else TaskStatus.COMPLETED,
                        order_index=t,
                    )
                    for t in range(20)
                ]
    uow.tasks.add_many(tasks)
    first["agent_id"] = factories.agent(uow).id
    uow.commit()
    return first


FINDERS: dict[str, Callable[[UnitOfWork, dict[str, str], str], Any]] = {
    "ready_tasks": lambda uow, ids, scope: uow.tasks.ready_tasks(**{scope: ids[scope]}),
    "claim_next_ready": lambda uow, ids, scope: uow.tasks.claim_next_ready(
        ids["agent_id"], LEASE, **{scope: ids[scope]}
    ),
    "list by status": lambda uow, ids, scope: uow.tasks.list(
        project_id=ids["project_id"],
        initiative_id=ids["initiative_id"] if scope == "initiative_id" else None,
        phase_id=ids["phase_id"] if scope == "phase_id" else None,
        status=TaskStatus.PENDING,
    ),
}


SCOPES = ["project_id", "initiative_id", "phase_id"]


def index_of(scope: str) -> str:
    return f"ix_tasks_{scope}_status_order_index_created_at_id"


@pytest.mark.sqlite
@pytest.mark.parametrize("finder", sorted(FINDERS))
@pytest.mark.parametrize("scope", SCOPES)
def test_on_sqlite_a_task_finder_walks_the_index_of_its_scope_in_task_order(
    tmp_path: Path, finder: str, scope: str
) -> None:
    db = Database.open(str(tmp_path / "plans.db"))
    try:
        with db.unit_of_work() as uow:
            ids = scoped(uow)
        for sql, params in task_selects(db, lambda uow: FINDERS[finder](uow, ids, scope)):
            found = plan(db, sql, params)
            assert index_of(scope) in found, f"{finder} by {scope} does not use it:\n{found}"
            assert "SCAN tasks" not in found, found
            assert "TEMP B-TREE FOR ORDER BY" not in found, f"{finder} sorts:\n{found}"
    finally:
        db.close()


@pytest.mark.sqlite
def test_sqlite_keeps_statistics_current_without_waiting_for_a_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkeel.adapters.sql import engine as sql_engine

    monkeypatch.setattr(sql_engine, "OPTIMIZE_EVERY", 5)
    path = tmp_path / "statistics.db"
    db = Database.open(str(path))
    try:
        with db.unit_of_work() as uow:
            ids = scoped(uow)
            for n in range(200):
                factories.task(uow, factories.project(uow, f"p{n}"), f"t{n}")
            uow.commit()
        for _ in range(10):  # queries the planner would plan better with statistics
            with db.unit_of_work(read_only=True) as uow:
                uow.tasks.ready_tasks(initiative_id=ids["initiative_id"])
                uow.tasks.list(project_id=ids["project_id"], status=TaskStatus.PENDING)
        assert db.engine is not None
        with db.engine.connect() as connection:
            analysed = connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).scalar()
            assert analysed == 1
            rows = connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'tasks'"
            ).scalar()
            assert rows and rows > 0
    finally:
        db.close()


@pytest.mark.sqlite
def test_statistics_wait_for_no_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentkeel.adapters.sql import engine as sql_engine

    monkeypatch.setattr(sql_engine, "OPTIMIZE_EVERY", 1)
    db = Database.open(str(tmp_path / "busy.db"), busy_timeout=5.0)
    try:
        with db.unit_of_work() as writer:
            ids = scoped(writer)  # commits, and stays open holding nothing
            factories.task(writer, factories.project(writer, "held"))  # holds the write lock
            started = time.perf_counter()
            with db.unit_of_work(read_only=True) as reader:
                reader.tasks.ready_tasks(initiative_id=ids["initiative_id"])
            # The reader's connection went back to the pool and tried to analyse at once.
            assert time.perf_counter() - started < 2.0
            writer.commit()
    finally:
        db.close()
