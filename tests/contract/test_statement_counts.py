"""Round trips per port call, counted on SQLite and PostgreSQL, so that a later change
cannot add statements unnoticed.

Counted: every statement SQLAlchemy sends (savepoints included) and every transaction
begun, committed or rolled back. A call's statements do not depend on how many rows it
returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from agentkeel.database import Database
from agentkeel.domain.agents import Agent, Metric, MetricType
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.planning import Initiative, Phase, Task, TaskDependency, TaskStatus
from agentkeel.domain.workspace import Project, Repository
from agentkeel.domain.workspace.events import ProjectArchived
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests.conftest import POSTGRES_URL, open_backend

SQL = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    SQL.append(pytest.param("postgres", marks=pytest.mark.postgres))


class Counted:
    """What the engine sent since the last `take()`."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def take(self) -> dict[str, int]:
        taken, self.seen = dict(self.seen), Counter()
        return taken


@pytest.fixture(params=SQL)
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Counted]]:
    db = open_backend(request, request.param, tmp_path)
    assert db.engine is not None
    counts = Counted()

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        verb = sql.split(None, 1)[0].upper()
        counts.seen["savepoint" if verb in ("SAVEPOINT", "RELEASE") else "statement"] += 1

    listeners: dict[str, Callable[..., None]] = {
        "before_cursor_execute": statement,
        "begin": lambda conn: counts.seen.update(["begin"]),
        "commit": lambda conn: counts.seen.update(["commit"]),
        "rollback": lambda conn: counts.seen.update(["rollback"]),
    }
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    yield db, counts
    for name, listener in listeners.items():
        event.remove(db.engine, name, listener)
    if request.param != "postgres":
        db.close()


def backend(db: Database) -> str:
    assert db.engine is not None
    return db.engine.dialect.name


def test_a_read_in_its_own_unit_of_work_is_begin_one_select_and_its_end(
    counted: tuple[Database, Counted],
) -> None:
    db, counts = counted
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.commit()
    counts.take()
    with db.unit_of_work(read_only=True) as uow:
        uow.projects.get(project.id)
    assert counts.take() == {"begin": 1, "statement": 1, "rollback": 1}


@pytest.mark.parametrize("rows", [3, 60])
def test_get_find_list_and_count_are_one_select_whatever_the_size(
    counted: tuple[Database, Counted], rows: int
) -> None:
    db, counts = counted
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        for i in range(rows):
            factories.repository(uow, project, f"r{i}")
        counts.take()
        for call in (
            lambda: uow.projects.get(project.id),
            lambda: uow.projects.find("missing"),
            lambda: uow.repositories.list(project_id=project.id),
            lambda: uow.repositories.find_by_name(project.id, "r1"),
            lambda: uow.repositories.count(),
        ):
            call()
            assert counts.take() == {"statement": 1}


def test_writes_take_one_statement_and_a_savepoint_only_where_a_rule_can_refuse(
    counted: tuple[Database, Counted],
) -> None:
    """SQLite undoes a refused statement by itself. PostgreSQL aborts the transaction, so a
    write that can break a unique or foreign-key rule runs in a savepoint, except an insert,
    which skips a clash (ON CONFLICT DO NOTHING) or a missing reference (WHERE EXISTS) and
    names it after."""
    db, counts = counted
    postgres = backend(db) == "postgresql"
    guarded = {"statement": 1, "savepoint": 2} if postgres else {"statement": 1}
    with db.unit_of_work() as uow:
        uow.projects.count()  # the transaction begins
        counts.take()
        project = uow.projects.add(Project(name="Keel"))
        assert counts.take() == {"statement": 1}
        api = uow.repositories.add(Repository(project_id=project.id, name="api", path="/api"))
        assert counts.take() == {"statement": 1}  # a reference: skipped, not refused
        project.description = "a field no rule is about"
        uow.projects.update(project)
        assert counts.take() == {"statement": 1}
        api.name = "web"  # unique within the project: may be refused
        uow.repositories.update(api)
        assert counts.take() == guarded
        template = factories.template(uow)
        counts.take()
        uow.templates.record_use(template.id)  # UPDATE ... RETURNING
        assert counts.take() == {"statement": 1}


def test_appending_a_batch_of_log_chunks_is_one_select_and_one_bulk_insert(
    counted: tuple[Database, Counted],
) -> None:
    """The hot path: the agent's last chunk number, then the whole batch in one INSERT
    (executemany), whatever its size. SQLite needs no savepoint (a refused batch's rows are
    deleted again); PostgreSQL guards a batch of several rows with one."""
    db, counts = counted
    postgres = backend(db) == "postgresql"
    sent: list[str] = []

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        sent.append(sql.split(None, 1)[0].upper())

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        with db.unit_of_work() as uow:
            uow.agent_log_chunks.count()  # the transaction begins
            for size in (1, 100, 500):
                counts.take()
                sent.clear()
                uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["x"] * size)
                taken = counts.take()
                # One row is a plain insert (ON CONFLICT DO NOTHING on PostgreSQL).
                guarded = postgres and size > 1
                assert taken == ({"statement": 2, "savepoint": 2} if guarded else {"statement": 2})
                assert [verb for verb in sent if verb not in ("SAVEPOINT", "RELEASE")] == [
                    "SELECT",
                    "INSERT",
                ]
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)


def test_reading_the_logs_of_many_agents_is_one_select(counted: tuple[Database, Counted]) -> None:
    db, counts = counted
    with db.unit_of_work() as uow:
        for agent in ("a", "b", "c"):
            uow.agent_log_chunks.append(agent, "n", 1, ["x", "y"])
        counts.take()
        assert len(uow.agent_log_chunks.find_by_agents(["a", "b", "c", "d"])) == 6
        assert counts.take() == {"statement": 1}
        uow.agent_log_chunks.session_count("a")
        assert counts.take() == {"statement": 1}
        uow.metrics.tokens_by_project()
        assert counts.take() == {"statement": 1}
        uow.metrics.task_duration_percentiles([50, 90, 99])
        assert counts.take() == {"statement": 1}


@pytest.mark.parametrize("tasks", [3, 60])
def test_ready_tasks_and_dependency_context_are_one_select_whatever_the_size(
    counted: tuple[Database, Counted], tasks: int
) -> None:
    db, counts = counted
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        initiative = factories.initiative(uow, project)
        made = [
            factories.task(uow, project, f"t{i}", initiative_id=initiative.id) for i in range(tasks)
        ]
        last = made[-1]
        for task in made[:-1]:
            uow.task_dependencies.create(last.id, task.id)
        counts.take()
        calls: list[Callable[[], object]] = [
            lambda: uow.tasks.ready_tasks(initiative_id=initiative.id),
            lambda: uow.tasks.ready_tasks(project_id=project.id),
            lambda: uow.tasks.dependency_context(last.id),
        ]
        for call in calls:
            call()
            assert counts.take() == {"statement": 1}


def test_a_new_tasks_dependency_costs_a_fixed_number_of_statements(
    counted: tuple[Database, Counted],
) -> None:
    """Reading both ends, the scope's turn (PostgreSQL), one step of the backwards cycle
    search (a new task has no dependents), the insert: however long the chain behind."""
    db, counts = counted
    postgres = backend(db) == "postgresql"
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        chain = [factories.task(uow, project, f"t{i}") for i in range(30)]
        for later, earlier in zip(chain[1:], chain, strict=False):
            uow.task_dependencies.create(later.id, earlier.id)
        newest = factories.task(uow, project, "newest")
        counts.take()
        uow.task_dependencies.create(newest.id, chain[-1].id)
        # The insert refers to both tasks: on PostgreSQL it skips a missing one (WHERE
        # EXISTS) instead of running in a savepoint.
        expected = {"statement": 4} if postgres else {"statement": 3}
        assert counts.take() == expected


def test_a_commits_events_are_one_bulk_insert_and_no_events_cost_nothing(
    counted: tuple[Database, Counted],
) -> None:
    """The event log: a commit with events adds one executemany (on PostgreSQL also the
    advisory lock that numbers appends in commit order); a commit without events adds
    nothing to its commit."""
    db, counts = counted
    postgres = backend(db) == "postgresql"
    with db.unit_of_work() as uow:
        uow.projects.count()  # the transaction begins
        counts.take()
        uow.commit()
        assert counts.take() == {"commit": 1}
        uow.projects.count()
        counts.take()
        for n in range(5):
            uow.record(ProjectArchived(f"p{n}"))
        uow.commit()
        assert counts.take() == {"statement": 2 if postgres else 1, "commit": 1}


def test_a_purge_batch_is_one_delete_whatever_it_removes(
    counted: tuple[Database, Counted],
) -> None:
    """Every retention purge deletes set-based: one DELETE per call (the rows chosen by a
    subquery with ORDER BY ... LIMIT, or the event log's number range), and the same
    statements whether it removes two rows or five."""
    db, counts = counted
    deletes: list[str] = []

    def delete(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.lstrip().upper().startswith("DELETE"):
            deletes.append(sql)

    assert db.engine is not None
    event.listen(db.engine, "before_cursor_execute", delete)
    purges: dict[str, Callable[..., int]] = {
        "audit_logs": lambda uow, **k: uow.audit_logs.purge_before(uow.clock.now(), **k),
        "idempotency_keys": lambda uow, **k: uow.idempotency_keys.purge_before(
            uow.clock.now(), **k
        ),
        "agent_log_chunks": lambda uow, **k: uow.agent_log_chunks.purge_before(
            uow.clock.now(), **k
        ),
        "metrics": lambda uow, **k: uow.metrics.purge_before(uow.clock.now(), **k),
        "event_log": lambda uow, **k: uow.event_log.purge_before(uow.clock.now(), **k),
    }
    try:
        for rows in (2, 5):
            with db.unit_of_work() as uow:
                project = factories.project(uow, f"P{rows}")
                for n in range(rows):
                    uow.audit_logs.add(
                        AuditEntry(event_type="t", event_category=EventCategory.RECORD, message="m")
                    )
                    uow.tasks.add(
                        Task(project_id=project.id, name=f"t{n}"), idempotency_key=f"k{rows}-{n}"
                    )
                    uow.agent_log_chunks.append("agent-1", "otter", 1, [f"c{n}"])
                    uow.metrics.record(
                        Metric(
                            project_id=project.id,
                            type=MetricType.TOKEN_USAGE,
                            value=n,
                            timestamp=uow.clock.now(),
                        )
                    )
                    uow.record(ProjectArchived(f"p{n}"))
                    uow.commit()
            seen = {}
            for name, purge in purges.items():
                for bounded in (False, True):
                    with db.unit_of_work() as uow:
                        uow.projects.count()  # the transaction begins
                        counts.take()
                        deletes.clear()
                        removed = purge(uow, **({"limit": 100} if bounded else {}))
                        seen[(name, bounded)] = counts.take()
                        assert len(deletes) == 1, (name, bounded, deletes)
                        assert removed >= rows, name  # (the audit trail: and earlier purges')
                        uow.rollback()
            if rows == 2:
                two = seen
        assert seen == two
    finally:
        event.remove(db.engine, "before_cursor_execute", delete)


def test_a_task_start_is_a_read_an_update_and_its_event(
    counted: tuple[Database, Counted],
) -> None:
    """Starting a task in a unit of work of its own: BEGIN, the task read, its UPDATE (no
    savepoint: one statement, and no counter moves), the event log's insert at commit (on
    PostgreSQL with the lock that numbers appends), COMMIT. A task in a phase adds the
    phase's read (the phase follows its tasks)."""
    db, counts = counted
    postgres = backend(db) == "postgresql"
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        initiative = factories.initiative(uow, project)
        phase = factories.phase(uow, initiative)
        loose = factories.task(uow, project, "loose")
        first, second = (
            factories.task(uow, project, name, phase_id=phase.id) for name in ("first", "second")
        )
        uow.commit()
    event_log = 2 if postgres else 1
    with db.unit_of_work() as uow:  # the phase's first task to start moves it to in_progress
        uow.tasks.move_to(first.id, TaskStatus.IN_PROGRESS)
        uow.commit()
    for task, phase_read in ((loose, 0), (second, 1)):
        counts.take()
        with db.unit_of_work() as uow:
            uow.tasks.move_to(task.id, TaskStatus.IN_PROGRESS)
            uow.commit()
        expected = {"begin": 1, "statement": 2 + phase_read + event_log, "commit": 1}
        assert counts.take() == expected, task.name


def _build(uow: UnitOfWork, initiatives: int, tasks_per_phase: int) -> int:
    """A project as W2 of the benchmark builds it, a batch per table (per initiative for
    tasks and their dependencies); returns the rows written."""
    project = factories.project(uow)
    rows = 1 + len(
        uow.repositories.add_many(
            [Repository(project_id=project.id, name=f"r{n}", path=f"/r{n}") for n in range(5)]
        )
    )
    made = uow.initiatives.add_many(
        [Initiative(project_id=project.id, name=f"i{n}") for n in range(initiatives)]
    )
    phases = uow.phases.add_many(
        [Phase(initiative_id=i.id, name=f"p{n}") for i in made for n in range(4)]
    )
    rows += len(made) + len(phases)
    every: list[Task] = []
    for n, initiative in enumerate(made):
        tasks: list[Task] = []
        edges: list[TaskDependency] = []
        for phase in phases[4 * n : 4 * n + 4]:
            for _ in range(tasks_per_phase):
                k = len(tasks)
                task = Task(
                    project_id=project.id,
                    initiative_id=initiative.id,
                    phase_id=phase.id,
                    name=f"t{n}-{k}",
                    parent_task_id=tasks[k - k % 5].id if k % 5 else None,
                )
                edges += [
                    TaskDependency(task_id=task.id, depends_on_task_id=tasks[d].id)
                    for d in {k // 2, k - 1}
                    if 0 <= d < k
                ]
                tasks.append(task)
        rows += len(uow.tasks.add_many(tasks)) + len(uow.task_dependencies.add_many(edges))
        every += tasks
    agents = [Agent(name=f"agent-{n}", task_id=every[n].id) for n in range(len(every) // 10)]
    return rows + len(uow.agents.add_many(agents))


def test_building_a_project_in_batches_costs_statements_per_batch_not_per_row(
    counted: tuple[Database, Counted],
) -> None:
    """W2 of the benchmark: a batch's rules read what they need a table at a time and its
    rows go in one bulk insert, so the statements do not grow with the batch, and a
    project's build stays far below 1.5 statements a row (the bound the benchmark's
    workload is held to)."""
    db, counts = counted
    sent = {}
    for size in (5, 25):
        with db.unit_of_work() as uow:
            uow.projects.count()  # the transaction begins
            counts.take()
            rows = _build(uow, initiatives=2, tasks_per_phase=size)
            taken = counts.take()
            uow.rollback()
        sent[size] = sum(taken.values())
        assert sent[size] / rows <= 1.5, (size, rows, taken)
    assert sent[5] == sent[25], sent
