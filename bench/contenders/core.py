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
from agentkeel.schema.agents import agent_log_chunks
from agentkeel.schema.planning import initiatives, task_dependencies, tasks
from agentkeel.schema.workspace import projects, repositories, worktrees
from bench.contenders.base import (
    LOG_AGENT_NAME,
    RENAMED,
    Contender,
    Work,
    log_batches,
    new_id,
    project_values,
    renamed,
    repository_values,
    task_plan,
    task_values,
    utc_now,
    worktree_values,
)
from bench.operations import (
    DEFAULT_CANDIDATES,
    LIST_CALLS,
    LOG_AGENTS,
    REPOSITORY_PROJECTS,
    task_count,
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
        }
        with self.reading() as connection:
            found = {
                name: connection.execute(query).scalar_one() for name, query in queries.items()
            }
        return {**found, "ready": self.ready_found}

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
        agents = [new_id() for _ in range(LOG_AGENTS)]
        batches = log_batches(n)
        chunks = agent_log_chunks.c

        def work() -> None:
            for i, contents in enumerate(batches):
                agent = agents[i % LOG_AGENTS]
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
