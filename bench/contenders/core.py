"""`core-sqlite`, `core-postgres`: SQLAlchemy Core written by hand, on agentkeel's own tables.

The statements are written plainly, as a competent developer would (`insert(projects)` with
a dict of values, `select(...).where(table.c.id == key)`: values are bound parameters and
SQLAlchemy caches the compiled statements). The tables are `agentkeel.schema.metadata`'s,
created with `metadata.create_all`, so their column types (timezone-aware UTC datetimes)
and constraints are agentkeel's. No validation, no audit, no row-version checks.

On SQLite the engine gets agentkeel's pragmas and SQLAlchemy's documented recipe for real
transactions (the driver's own transaction handling off, `BEGIN` emitted by the engine):
`BEGIN IMMEDIATE` for writes, `BEGIN` for reads, as raw sqlite3 does. On PostgreSQL the
engine is SQLAlchemy's default (psycopg 3, READ COMMITTED).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url

from agentkeel.schema import metadata
from agentkeel.schema.agents import agent_log_chunks, agents
from agentkeel.schema.planning import (
    initiatives,
    phase_dependencies,
    phases,
    task_dependencies,
    tasks,
)
from agentkeel.schema.workspace import projects, repositories, worktrees
from bench.contenders.base import (
    CLOSED_PHASES,
    LOG_AGENT_NAME,
    RENAMED,
    REPOSITORIES,
    STARTABLE_PHASES,
    Built,
    Contender,
    ProjectPlan,
    Work,
    agent_name,
    initiative_values,
    log_batches,
    new_id,
    phase_values,
    project_values,
    renamed,
    repository_values,
    task_plan,
    task_values,
    utc_now,
    workload_log_batches,
    workload_task_values,
    worktree_values,
)
from bench.operations import (
    DEFAULT_CANDIDATES,
    LIST_CALLS,
    LOG_AGENTS,
    REPOSITORY_PROJECTS,
    moved,
    ready_call,
    ready_calls,
    status_call,
    task_calls,
    task_count,
    update_plan,
    workload_plan,
)

# The execution option that says how the engine's SQLite transactions begin.
BEGIN = "bench_sqlite_begin"


def sqlite_engine(path: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the engine, not the driver, begins
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(BEGIN, "BEGIN IMMEDIATE"))

    return engine


def postgres_engine(url: str) -> Engine:
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"))


class Core(Contender):
    engine: Engine
    reader: Engine

    def open(self) -> None:
        if self.backend == "sqlite":
            self.engine = sqlite_engine(self.location)
            self.reader = self.engine.execution_options(**{BEGIN: "BEGIN"})
        else:
            self.engine = self.reader = postgres_engine(self.location)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def writing(self) -> AbstractContextManager[Connection]:
        return self.engine.begin()

    def reading(self) -> AbstractContextManager[Connection]:
        return self.reader.begin()

    def counts(self) -> dict[str, int]:
        count = func.count()
        queries = {
            "projects": select(count).select_from(projects),
            "repositories": select(count).select_from(repositories),
            "worktrees": select(count).select_from(worktrees),
            "defaults": select(count).where(repositories.c.set_as_default_at.is_not(None)),
            "renamed": select(count).where(projects.c.name.endswith(RENAMED)),
            "log_chunks": select(count).select_from(agent_log_chunks),
            "tasks": select(count).select_from(tasks),
            "started": select(count).where(
                tasks.c.status == "in_progress", tasks.c.started_at.is_not(None)
            ),
            "initiatives": select(count).select_from(initiatives),
            "phases": select(count).select_from(phases),
            "phases_started": select(count).where(phases.c.status == "in_progress"),
            "task_dependencies": select(count).select_from(task_dependencies),
            "agents": select(count).select_from(agents),
            "linked": select(count).where(agents.c.task_id.is_not(None)),
        }
        with self.reading() as connection:
            found = {
                name: connection.execute(query).scalar_one() for name, query in queries.items()
            }
        return {**found, "ready": self.ready_found, "found": self.found}

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def insert_project(connection: Connection, i: int) -> str:
        key, now = new_id(), utc_now()
        row = {"id": key, "created_at": now, "updated_at": now, "row_version": 1}
        connection.execute(insert(projects), {**row, **project_values(i)})
        return key

    @staticmethod
    def insert_repository(connection: Connection, i: int, project_id: str) -> str:
        key, now = new_id(), utc_now()
        row = {"id": key, "created_at": now, "updated_at": now, "row_version": 1}
        values = {**row, **repository_values(i, project_id), "default_branch": "main"}
        connection.execute(insert(repositories), values)
        return key

    @staticmethod
    def insert_worktree(connection: Connection, i: int, repository_id: str) -> None:
        now = utc_now()
        row = {"id": new_id(), "created_at": now, "updated_at": now, "row_version": 1}
        values = {**row, **worktree_values(i, repository_id), "status": "active"}
        connection.execute(insert(worktrees), values)

    def add_projects(self, count: int) -> list[str]:
        with self.writing() as connection:
            return [self.insert_project(connection, i) for i in range(count)]

    def add_repositories(self, n: int, project_id: str) -> list[str]:
        with self.writing() as connection:
            return [self.insert_repository(connection, i, project_id) for i in range(n)]

    # -- the operations ---------------------------------------------------------------------

    def insert_each(self, n: int) -> Work:
        def work() -> None:
            for i in range(n):
                with self.writing() as connection:
                    self.insert_project(connection, i)

        return work

    def insert_repositories(self, n: int) -> Work:
        project_ids = self.add_projects(REPOSITORY_PROJECTS)

        def work() -> None:
            with self.writing() as connection:
                for i in range(n):
                    self.insert_repository(connection, i, project_ids[i % len(project_ids)])

        return work

    def get_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with self.reading() as connection:
                    connection.execute(select(projects).where(projects.c.id == key)).one()

        return work

    def get_in_one(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            with self.reading() as connection:
                for key in keys:
                    connection.execute(select(projects).where(projects.c.id == key)).one()

        return work

    def update_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with self.writing() as connection:
                    row = connection.execute(select(projects).where(projects.c.id == key)).one()
                    connection.execute(
                        update(projects)
                        .where(projects.c.id == key)
                        .values(
                            name=renamed(row.name),
                            updated_at=utc_now(),
                            row_version=projects.c.row_version + 1,
                        )
                    )

        return work

    def list_repositories(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        self.add_repositories(n, project_id)

        def work() -> None:
            for _ in range(LIST_CALLS):
                with self.reading() as connection:
                    rows = connection.execute(
                        select(repositories)
                        .where(repositories.c.project_id == project_id)
                        .order_by(repositories.c.name)
                    ).all()
            assert len(rows) == n

        return work

    def switch_default(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(DEFAULT_CANDIDATES, project_id)

        def work() -> None:
            for i in range(n):
                key = keys[i % len(keys)]
                with self.writing() as connection:
                    now = utc_now()
                    connection.execute(
                        update(repositories)
                        .where(
                            repositories.c.project_id == project_id,
                            repositories.c.id != key,
                            repositories.c.set_as_default_at.is_not(None),
                        )
                        .values(set_as_default_at=None, updated_at=now)
                    )
                    connection.execute(
                        update(repositories)
                        .where(repositories.c.id == key)
                        .values(
                            set_as_default_at=now,
                            updated_at=now,
                            row_version=repositories.c.row_version + 1,
                        )
                    )

        return work

    def delete_project(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(n, project_id)
        with self.writing() as connection:
            for i, key in enumerate(keys):
                self.insert_worktree(connection, i, key)

        def work() -> None:
            with self.writing() as connection:
                connection.execute(delete(projects).where(projects.c.id == project_id))

        return work

    def append_log_chunks(self, n: int) -> Work:
        return self.appending(log_batches(n))

    def appending(self, batches: list[list[str]]) -> Work:
        """O9 and W1: append the batches to LOG_AGENTS agents in turn, a transaction each."""
        log_agents = [new_id() for _ in range(LOG_AGENTS)]
        chunks = agent_log_chunks.c

        def work() -> None:
            for i, contents in enumerate(batches):
                agent = log_agents[i % LOG_AGENTS]
                with self.writing() as connection:
                    last = connection.execute(
                        select(func.coalesce(func.max(chunks.chunk_number), 0)).where(
                            chunks.agent_id == agent
                        )
                    ).scalar_one()
                    now = utc_now()
                    connection.execute(
                        insert(agent_log_chunks),
                        [
                            {
                                "id": new_id(),
                                "created_at": now,
                                "agent_id": agent,
                                "agent_name": LOG_AGENT_NAME,
                                "session_number": 1,
                                "chunk_number": last + number,
                                "content": content,
                            }
                            for number, content in enumerate(contents, 1)
                        ],
                    )

        return work

    def insert_tasks(
        self, project_id: str, initiative_id: str | None, plan: list[tuple[str, list[int]]]
    ) -> list[str]:
        keys: list[str] = []
        with self.writing() as connection:
            for i, (status, depends_on) in enumerate(plan):
                key, now = new_id(), utc_now()
                row = {"id": key, "created_at": now, "updated_at": now, "row_version": 1}
                values = task_values(i, project_id, initiative_id, status)
                completed = {"completed_at": now if status == "completed" else None}
                connection.execute(insert(tasks), {**row, **values, **completed})
                for d in depends_on:
                    edge = {"id": new_id(), "task_id": key, "depends_on_task_id": keys[d]}
                    stamps = {"created_at": now, "row_version": 1}
                    connection.execute(insert(task_dependencies), {**edge, **stamps})
                keys.append(key)
        return keys

    def ready_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        initiative_id = new_id()
        with self.writing() as connection:
            now = utc_now()
            connection.execute(
                insert(initiatives),
                {
                    "id": initiative_id,
                    "created_at": now,
                    "updated_at": now,
                    "row_version": 1,
                    "project_id": project_id,
                    "name": "bench",
                    "status": "active",
                    "branch": "agentkeel/bench",
                    "execution_mode": "review_per_phase",
                },
            )
        self.insert_tasks(project_id, initiative_id, task_plan(task_count(n)))
        awaited = tasks.alias("awaited")
        unfinished = (
            select(task_dependencies.c.id)
            .join(awaited, awaited.c.id == task_dependencies.c.depends_on_task_id)
            .where(task_dependencies.c.task_id == tasks.c.id, awaited.c.status != "completed")
        )

        def work() -> None:
            for _ in range(LIST_CALLS):
                with self.reading() as connection:
                    rows = connection.execute(
                        select(tasks)
                        .where(
                            tasks.c.initiative_id == initiative_id,
                            tasks.c.status == "pending",
                            ~exists(unfinished),
                        )
                        .order_by(tasks.c.order_index, tasks.c.created_at, tasks.c.id)
                    ).all()
            self.ready_found = len(rows)

        return work

    def start_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.insert_tasks(project_id, None, [("pending", [])] * n)

        def work() -> None:
            for key in keys:
                with self.writing() as connection:
                    row = connection.execute(
                        select(tasks.c.status, tasks.c.started_at).where(tasks.c.id == key)
                    ).one()
                    if row.status != "pending":
                        raise ValueError(f"task {key} is {row.status}, not pending")
                    now = utc_now()
                    connection.execute(
                        update(tasks)
                        .where(tasks.c.id == key)
                        .values(
                            status="in_progress",
                            started_at=row.started_at or now,
                            updated_at=now,
                            row_version=tasks.c.row_version + 1,
                        )
                    )

        return work

    # -- the orchestrator workload ----------------------------------------------------------

    def append_workload_log(self, n: int) -> Work:
        return self.appending(workload_log_batches(n))

    def build(self, plan: ProjectPlan) -> Built:
        """The plan's project, in one transaction, an executemany (a list of dicts) per table."""
        project_id = new_id()
        initiative_ids = [new_id() for _ in range(plan.initiatives)]
        phase_ids = [new_id() for _ in plan.phases]
        task_ids = [new_id() for _ in plan.tasks]
        with self.writing() as connection:
            now = utc_now()
            row = {"created_at": now, "updated_at": now, "row_version": 1}
            connection.execute(insert(projects), {**row, "id": project_id, **project_values(0)})
            connection.execute(
                insert(repositories),
                [
                    {
                        **row,
                        "id": new_id(),
                        **repository_values(i, project_id),
                        "default_branch": "main",
                    }
                    for i in range(REPOSITORIES)
                ],
            )
            connection.execute(
                insert(initiatives),
                [
                    {
                        **row,
                        "id": key,
                        **initiative_values(k, project_id),
                        "status": "active",
                        "execution_mode": "review_per_phase",
                    }
                    for k, key in enumerate(initiative_ids)
                ],
            )
            connection.execute(
                insert(phases),
                [
                    {**row, "id": key, **phase_values(p, initiative_ids[i]), "status": "pending"}
                    for p, (key, i) in enumerate(zip(phase_ids, plan.phases, strict=True))
                ],
            )
            task_rows = []
            for i, (key, task) in enumerate(zip(task_ids, plan.tasks, strict=True)):
                values = workload_task_values(
                    i, task, project_id, initiative_ids[task.initiative], phase_ids[task.phase]
                )
                task_rows.append(
                    {
                        **row,
                        "id": key,
                        **values,
                        "parent_task_id": None if task.parent is None else task_ids[task.parent],
                        "completed_at": now if task.status == "completed" else None,
                    }
                )
            connection.execute(insert(tasks), task_rows)
            connection.execute(
                insert(task_dependencies),
                [
                    {
                        "id": new_id(),
                        "task_id": key,
                        "depends_on_task_id": task_ids[d],
                        "created_at": now,
                        "row_version": 1,
                    }
                    for key, task in zip(task_ids, plan.tasks, strict=True)
                    for d in task.depends_on
                ],
            )
            connection.execute(
                insert(agents),
                [
                    {
                        **row,
                        "id": new_id(),
                        "name": agent_name(a),
                        "session_number": 1,
                        "provider": "claude",
                        "status": "idle",
                        "mode": "execute",
                        "tokens_used": 0,
                        "tasks_completed": 0,
                        "tasks_failed": 0,
                        "spawned_at": now,
                        "last_activity_at": now,
                        "task_id": None if t is None else task_ids[t],
                    }
                    for a, t in enumerate(plan.agent_tasks)
                ],
            )
        return Built(project_id, initiative_ids, phase_ids, task_ids)

    def workload_ready(self, n: int) -> Work:
        plan = workload_plan(n)
        built = self.build(plan)
        asked = [built.initiatives[ready_call(i, plan)] for i in range(ready_calls(n))]
        awaited = tasks.alias("awaited")
        unfinished = (
            select(task_dependencies.c.id)
            .join(awaited, awaited.c.id == task_dependencies.c.depends_on_task_id)
            .where(task_dependencies.c.task_id == tasks.c.id, awaited.c.status != "completed")
        )
        closed = select(phases.c.id).where(
            phases.c.id == tasks.c.phase_id, phases.c.status.in_(CLOSED_PHASES)
        )
        before = phases.alias("before")
        held = (
            select(phase_dependencies.c.id)
            .join(before, before.c.id == phase_dependencies.c.depends_on_phase_id)
            .where(
                phase_dependencies.c.phase_id == tasks.c.phase_id, before.c.status != "completed"
            )
        )

        def work() -> None:
            found = 0
            for initiative_id in asked:
                with self.reading() as connection:
                    found += len(
                        connection.execute(
                            select(tasks)
                            .where(
                                tasks.c.initiative_id == initiative_id,
                                tasks.c.status == "pending",
                                ~exists(unfinished),
                                ~exists(closed),
                                ~exists(held),
                            )
                            .order_by(tasks.c.order_index, tasks.c.created_at, tasks.c.id)
                        ).all()
                    )
            self.found = found

        return work

    def get_tasks(self, n: int) -> Work:
        built = self.build(workload_plan(n))
        keys = [built.tasks[i % len(built.tasks)] for i in range(task_calls(n))]

        def work() -> None:
            found = 0
            for key in keys:
                with self.reading() as connection:
                    found += (
                        connection.execute(select(tasks).where(tasks.c.id == key)).one().id == key
                    )
            self.found = found

        return work

    def move_tasks(self, n: int) -> Work:
        built = self.build(update_plan(n))
        keys = [built.tasks[i] for i in moved(n)]

        def work() -> None:
            for key in keys:
                with self.writing() as connection:
                    row = connection.execute(
                        select(tasks.c.status, tasks.c.started_at, tasks.c.phase_id).where(
                            tasks.c.id == key
                        )
                    ).one()
                    if row.status != "pending":
                        raise ValueError(f"task {key} is {row.status}, not pending")
                    now = utc_now()
                    connection.execute(
                        update(tasks)
                        .where(tasks.c.id == key)
                        .values(
                            status="in_progress",
                            started_at=row.started_at or now,
                            updated_at=now,
                            row_version=tasks.c.row_version + 1,
                        )
                    )
                    connection.execute(
                        update(phases)
                        .where(phases.c.id == row.phase_id, phases.c.status.in_(STARTABLE_PHASES))
                        .values(
                            status="in_progress",
                            updated_at=now,
                            row_version=phases.c.row_version + 1,
                        )
                    )

        return work

    def delete_workload_project(self, n: int) -> Work:
        built = self.build(workload_plan(n))

        def work() -> None:
            # The foreign keys' ON DELETE CASCADE removes the tree, their SET NULL unlinks
            # the agents.
            with self.writing() as connection:
                connection.execute(delete(projects).where(projects.c.id == built.project_id))

        return work

    def tasks_by_status(self, n: int) -> Work:
        plan = workload_plan(n)
        built = self.build(plan)
        asked = []
        for i in range(task_calls(n)):
            initiative, status = status_call(i, plan)
            asked.append((built.initiatives[initiative], status))
        # The project is checked through the initiative's row, as agentkeel does, so that
        # the query walks the initiative's index rather than the project's.
        of_project = select(initiatives.c.id).where(
            initiatives.c.id == tasks.c.initiative_id, initiatives.c.project_id == built.project_id
        )

        def work() -> None:
            found = 0
            for initiative_id, status in asked:
                with self.reading() as connection:
                    found += len(
                        connection.execute(
                            select(tasks)
                            .where(
                                tasks.c.initiative_id == initiative_id,
                                tasks.c.status == status,
                                exists(of_project),
                            )
                            .order_by(tasks.c.order_index, tasks.c.created_at, tasks.c.id)
                        ).all()
                    )
            self.found = found

        return work
