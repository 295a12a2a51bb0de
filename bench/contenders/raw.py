"""`raw`: the standard library's sqlite3, hand-written SQL: the reference every ratio divides by.

The tables are agentkeel's own (the DDL is compiled from `agentkeel.schema.metadata` when this
module is imported, outside the clock): same columns, keys, checks, indexes, the partial
unique index on a project's default repository and the ON DELETE CASCADE foreign keys. The
connection uses agentkeel's pragmas (WAL, foreign_keys, synchronous=NORMAL, busy_timeout)
and writes its own transactions: `BEGIN IMMEDIATE` for writes, `BEGIN` for reads. Ids are
21-character random strings and timestamps UTC text, as SQLAlchemy stores them on SQLite.
Rows come back as tuples: what a hand-written application would use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from agentkeel.schema import metadata
from bench.contenders.base import (
    CLOSED_PHASES,
    LOG_AGENT_NAME,
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


def _schema() -> str:
    dialect = sqlite.dialect()
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return ";\n".join(statements) + ";\n"


SCHEMA = _schema()

PROJECT_COLUMNS = (
    "id, created_at, updated_at, row_version, name, description, mode, status, root_path,"
    " repository_url, completed_at, archived_at"
)
REPOSITORY_COLUMNS = (
    "id, created_at, updated_at, row_version, project_id, name, path, url, default_branch,"
    " set_as_default_at, last_fetched_at"
)
INSERT_PROJECT = (
    "INSERT INTO projects (id, created_at, updated_at, row_version, name, description)"
    " VALUES (?, ?, ?, 1, ?, ?)"
)
INSERT_REPOSITORY = (
    "INSERT INTO repositories (id, created_at, updated_at, row_version, project_id, name, path,"
    " default_branch) VALUES (?, ?, ?, 1, ?, ?, ?, 'main')"
)
INSERT_WORKTREE = (
    "INSERT INTO worktrees (id, created_at, updated_at, row_version, repository_id, path,"
    " branch_name, status) VALUES (?, ?, ?, 1, ?, ?, ?, 'active')"
)
GET_PROJECT = f"SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?"
RENAME_PROJECT = (
    "UPDATE projects SET name = ?, updated_at = ?, row_version = row_version + 1 WHERE id = ?"
)
LIST_REPOSITORIES = (
    f"SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE project_id = ? ORDER BY name"
)
CLEAR_DEFAULT = (
    "UPDATE repositories SET set_as_default_at = NULL, updated_at = ?"
    " WHERE project_id = ? AND id <> ? AND set_as_default_at IS NOT NULL"
)
SET_DEFAULT = (
    "UPDATE repositories SET set_as_default_at = ?, updated_at = ?, row_version = row_version + 1"
    " WHERE id = ?"
)
DELETE_PROJECT = "DELETE FROM projects WHERE id = ?"
LAST_CHUNK = "SELECT coalesce(max(chunk_number), 0) FROM agent_log_chunks WHERE agent_id = ?"
INSERT_CHUNK = (
    "INSERT INTO agent_log_chunks (id, created_at, agent_id, agent_name, session_number,"
    " chunk_number, content) VALUES (?, ?, ?, ?, 1, ?, ?)"
)
COUNTS = """SELECT
    (SELECT count(*) FROM projects),
    (SELECT count(*) FROM repositories),
    (SELECT count(*) FROM worktrees),
    (SELECT count(*) FROM repositories WHERE set_as_default_at IS NOT NULL),
    (SELECT count(*) FROM projects WHERE name LIKE '%(renamed)'),
    (SELECT count(*) FROM agent_log_chunks),
    (SELECT count(*) FROM tasks),
    (SELECT count(*) FROM tasks WHERE status = 'in_progress' AND started_at IS NOT NULL),
    (SELECT count(*) FROM initiatives),
    (SELECT count(*) FROM phases),
    (SELECT count(*) FROM phases WHERE status = 'in_progress'),
    (SELECT count(*) FROM task_dependencies),
    (SELECT count(*) FROM agents),
    (SELECT count(*) FROM agents WHERE task_id IS NOT NULL)"""
INSERT_INITIATIVE = (
    "INSERT INTO initiatives (id, created_at, updated_at, row_version, project_id, name, status,"
    " branch, execution_mode) VALUES (?, ?, ?, 1, ?, 'bench', 'active', 'agentkeel/bench',"
    " 'review_per_phase')"
)
TASK_FIELDS = (*task_values(0, "", ""), "completed_at")
INSERT_TASK = (
    f"INSERT INTO tasks (id, created_at, updated_at, row_version, {', '.join(TASK_FIELDS)})"
    f" VALUES (?, ?, ?, 1, {', '.join('?' for _ in TASK_FIELDS)})"
)
INSERT_TASK_DEPENDENCY = (
    "INSERT INTO task_dependencies (id, task_id, depends_on_task_id, created_at, row_version)"
    " VALUES (?, ?, ?, ?, 1)"
)
READY_TASKS = (
    "SELECT * FROM tasks WHERE initiative_id = ? AND status = 'pending' AND NOT EXISTS ("
    "SELECT 1 FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_task_id"
    " WHERE d.task_id = tasks.id AND t.status <> 'completed')"
    " ORDER BY order_index, created_at, id"
)
GET_TASK_STATUS = "SELECT status, started_at FROM tasks WHERE id = ?"
START_TASK = (
    "UPDATE tasks SET status = 'in_progress', started_at = coalesce(started_at, ?),"
    " updated_at = ?, row_version = row_version + 1 WHERE id = ?"
)

# -- the workload's statements --------------------------------------------------------------
INSERT_WORKLOAD_INITIATIVE = (
    "INSERT INTO initiatives (id, created_at, updated_at, row_version, project_id, name, status,"
    " branch, execution_mode) VALUES (?, ?, ?, 1, ?, ?, 'active', ?, 'review_per_phase')"
)
INSERT_PHASE = (
    "INSERT INTO phases (id, created_at, updated_at, row_version, initiative_id, name, status)"
    " VALUES (?, ?, ?, 1, ?, ?, 'pending')"
)
WORKLOAD_TASK_FIELDS = (*TASK_FIELDS, "phase_id", "parent_task_id")
INSERT_WORKLOAD_TASK = (
    f"INSERT INTO tasks (id, created_at, updated_at, row_version,"
    f" {', '.join(WORKLOAD_TASK_FIELDS)})"
    f" VALUES (?, ?, ?, 1, {', '.join('?' for _ in WORKLOAD_TASK_FIELDS)})"
)
INSERT_AGENT = (
    "INSERT INTO agents (id, created_at, updated_at, row_version, name, session_number,"
    " provider, status, mode, tokens_used, tasks_completed, tasks_failed, spawned_at,"
    " last_activity_at, task_id)"
    " VALUES (?, ?, ?, 1, ?, 1, 'claude', 'idle', 'execute', 0, 0, 0, ?, ?, ?)"
)
_CLOSED = ", ".join(f"'{status}'" for status in CLOSED_PHASES)
_STARTABLE = ", ".join(f"'{status}'" for status in STARTABLE_PHASES)
WORKLOAD_READY_TASKS = (
    "SELECT * FROM tasks WHERE initiative_id = ? AND status = 'pending'"
    " AND NOT EXISTS (SELECT 1 FROM task_dependencies d"
    " JOIN tasks t ON t.id = d.depends_on_task_id"
    " WHERE d.task_id = tasks.id AND t.status <> 'completed')"
    " AND NOT EXISTS (SELECT 1 FROM phases p"
    f" WHERE p.id = tasks.phase_id AND p.status IN ({_CLOSED}))"
    " AND NOT EXISTS (SELECT 1 FROM phase_dependencies pd"
    " JOIN phases p ON p.id = pd.depends_on_phase_id"
    " WHERE pd.phase_id = tasks.phase_id AND p.status <> 'completed')"
    " ORDER BY order_index, created_at, id"
)
GET_TASK = "SELECT * FROM tasks WHERE id = ?"
GET_TASK_MOVE = "SELECT status, started_at, phase_id FROM tasks WHERE id = ?"
START_PHASE = (
    "UPDATE phases SET status = 'in_progress', updated_at = ?, row_version = row_version + 1"
    f" WHERE id = ? AND status IN ({_STARTABLE})"
)
# The initiative's tasks in the status, of the project: the project is checked through the
# initiative's row, as agentkeel does, so that the query walks the initiative's index (on
# `tasks.project_id` SQLite would walk the project's index, every initiative's tasks).
TASKS_BY_STATUS = (
    "SELECT * FROM tasks WHERE initiative_id = ? AND status = ? AND EXISTS ("
    "SELECT 1 FROM initiatives i WHERE i.id = tasks.initiative_id AND i.project_id = ?)"
    " ORDER BY order_index, created_at, id"
)


def stamp() -> str:
    """Now, as UTC text (the format SQLAlchemy writes to SQLite)."""
    return utc_now().strftime("%Y-%m-%d %H:%M:%S.%f")


class RawSqlite(Contender):
    connection: sqlite3.Connection

    def open(self) -> None:
        # isolation_level=None: no implicit transactions; we write BEGIN and COMMIT.
        self.connection = sqlite3.connect(self.location, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.connection.execute("PRAGMA busy_timeout=5000")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        self.connection.execute(begin)
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        row = self.connection.execute(COUNTS).fetchone()
        keys = (
            "projects",
            "repositories",
            "worktrees",
            "defaults",
            "renamed",
            "log_chunks",
            "tasks",
            "started",
            "initiatives",
            "phases",
            "phases_started",
            "task_dependencies",
            "agents",
            "linked",
        )
        return {**dict(zip(keys, row, strict=True)), "ready": self.ready_found, "found": self.found}

    # -- rows -------------------------------------------------------------------------------

    def insert_project(self, connection: sqlite3.Connection, i: int) -> str:
        key, now, values = new_id(), stamp(), project_values(i)
        connection.execute(INSERT_PROJECT, (key, now, now, values["name"], values["description"]))
        return key

    def insert_repository(self, connection: sqlite3.Connection, i: int, project_id: str) -> str:
        key, now, values = new_id(), stamp(), repository_values(i, project_id)
        row = (key, now, now, project_id, values["name"], values["path"])
        connection.execute(INSERT_REPOSITORY, row)
        return key

    def insert_worktree(self, connection: sqlite3.Connection, i: int, repository_id: str) -> None:
        now, values = stamp(), worktree_values(i, repository_id)
        row = (new_id(), now, now, repository_id, values["path"], values["branch_name"])
        connection.execute(INSERT_WORKTREE, row)

    def add_projects(self, count: int) -> list[str]:
        with self.transaction() as connection:
            return [self.insert_project(connection, i) for i in range(count)]

    def add_repositories(self, n: int, project_id: str) -> list[str]:
        with self.transaction() as connection:
            return [self.insert_repository(connection, i, project_id) for i in range(n)]

    # -- the operations ---------------------------------------------------------------------

    def insert_each(self, n: int) -> Work:
        def work() -> None:
            for i in range(n):
                with self.transaction() as connection:
                    self.insert_project(connection, i)

        return work

    def insert_repositories(self, n: int) -> Work:
        project_ids = self.add_projects(REPOSITORY_PROJECTS)

        def work() -> None:
            with self.transaction() as connection:
                for i in range(n):
                    self.insert_repository(connection, i, project_ids[i % len(project_ids)])

        return work

    def get_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with self.transaction("BEGIN") as connection:
                    connection.execute(GET_PROJECT, (key,)).fetchone()

        return work

    def get_in_one(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            with self.transaction("BEGIN") as connection:
                for key in keys:
                    connection.execute(GET_PROJECT, (key,)).fetchone()

        return work

    def update_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with self.transaction() as connection:
                    row = connection.execute(GET_PROJECT, (key,)).fetchone()
                    connection.execute(RENAME_PROJECT, (renamed(row[4]), stamp(), key))

        return work

    def list_repositories(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        self.add_repositories(n, project_id)

        def work() -> None:
            for _ in range(LIST_CALLS):
                with self.transaction("BEGIN") as connection:
                    rows = connection.execute(LIST_REPOSITORIES, (project_id,)).fetchall()
            assert len(rows) == n

        return work

    def switch_default(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(DEFAULT_CANDIDATES, project_id)

        def work() -> None:
            for i in range(n):
                key = keys[i % len(keys)]
                with self.transaction() as connection:
                    now = stamp()
                    connection.execute(CLEAR_DEFAULT, (now, project_id, key))
                    connection.execute(SET_DEFAULT, (now, now, key))

        return work

    def delete_project(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(n, project_id)
        with self.transaction() as connection:
            for i, key in enumerate(keys):
                self.insert_worktree(connection, i, key)

        def work() -> None:
            with self.transaction() as connection:
                connection.execute(DELETE_PROJECT, (project_id,))

        return work

    def append_log_chunks(self, n: int) -> Work:
        return self.appending(log_batches(n))

    def appending(self, batches: list[list[str]]) -> Work:
        """O9 and W1: append the batches to LOG_AGENTS agents in turn, a transaction each."""
        agents = [new_id() for _ in range(LOG_AGENTS)]

        def work() -> None:
            for i, contents in enumerate(batches):
                agent = agents[i % LOG_AGENTS]
                with self.transaction() as connection:
                    (last,) = connection.execute(LAST_CHUNK, (agent,)).fetchone()
                    now = stamp()
                    connection.executemany(
                        INSERT_CHUNK,
                        [
                            (new_id(), now, agent, LOG_AGENT_NAME, last + number, content)
                            for number, content in enumerate(contents, 1)
                        ],
                    )

        return work

    def insert_tasks(
        self, project_id: str, initiative_id: str | None, plan: list[tuple[str, list[int]]]
    ) -> list[str]:
        keys: list[str] = []
        with self.transaction() as connection:
            for i, (status, depends_on) in enumerate(plan):
                key, now = new_id(), stamp()
                values = task_values(i, project_id, initiative_id, status)
                values["completed_at"] = now if status == "completed" else None
                connection.execute(INSERT_TASK, (key, now, now, *values.values()))
                for d in depends_on:
                    connection.execute(INSERT_TASK_DEPENDENCY, (new_id(), key, keys[d], now))
                keys.append(key)
        return keys

    def ready_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        initiative_id = new_id()
        with self.transaction() as connection:
            now = stamp()
            connection.execute(INSERT_INITIATIVE, (initiative_id, now, now, project_id))
        self.insert_tasks(project_id, initiative_id, task_plan(task_count(n)))

        def work() -> None:
            for _ in range(LIST_CALLS):
                with self.transaction("BEGIN") as connection:
                    rows = connection.execute(READY_TASKS, (initiative_id,)).fetchall()
            self.ready_found = len(rows)

        return work

    def start_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.insert_tasks(project_id, None, [("pending", [])] * n)

        def work() -> None:
            for key in keys:
                with self.transaction() as connection:
                    (status, _started) = connection.execute(GET_TASK_STATUS, (key,)).fetchone()
                    if status != "pending":
                        raise ValueError(f"task {key} is {status}, not pending")
                    now = stamp()
                    connection.execute(START_TASK, (now, now, key))

        return work

    # -- the orchestrator workload ----------------------------------------------------------

    def append_workload_log(self, n: int) -> Work:
        return self.appending(workload_log_batches(n))

    def build(self, plan: ProjectPlan) -> Built:
        """The plan's project, in one transaction, an `executemany` per table."""
        project_id = new_id()
        initiatives = [new_id() for _ in range(plan.initiatives)]
        phases = [new_id() for _ in plan.phases]
        tasks = [new_id() for _ in plan.tasks]
        with self.transaction() as connection:
            now = stamp()
            values = project_values(0)
            connection.execute(
                INSERT_PROJECT, (project_id, now, now, values["name"], values["description"])
            )
            repositories = [repository_values(i, project_id) for i in range(REPOSITORIES)]
            connection.executemany(
                INSERT_REPOSITORY,
                [(new_id(), now, now, project_id, r["name"], r["path"]) for r in repositories],
            )
            connection.executemany(
                INSERT_WORKLOAD_INITIATIVE,
                [
                    (key, now, now, project_id, v["name"], v["branch"])
                    for k, key in enumerate(initiatives)
                    for v in [initiative_values(k, project_id)]
                ],
            )
            connection.executemany(
                INSERT_PHASE,
                [
                    (key, now, now, initiatives[initiative], f"phase {p}")
                    for p, (key, initiative) in enumerate(zip(phases, plan.phases, strict=True))
                ],
            )
            rows = []
            for i, (key, task) in enumerate(zip(tasks, plan.tasks, strict=True)):
                values = workload_task_values(
                    i, task, project_id, initiatives[task.initiative], phases[task.phase]
                )
                values["completed_at"] = now if task.status == "completed" else None
                parent = None if task.parent is None else tasks[task.parent]
                row = (values[field] for field in WORKLOAD_TASK_FIELDS[:-1])
                rows.append((key, now, now, *row, parent))
            connection.executemany(INSERT_WORKLOAD_TASK, rows)
            connection.executemany(
                INSERT_TASK_DEPENDENCY,
                [
                    (new_id(), key, tasks[d], now)
                    for key, task in zip(tasks, plan.tasks, strict=True)
                    for d in task.depends_on
                ],
            )
            connection.executemany(
                INSERT_AGENT,
                [
                    (new_id(), now, now, agent_name(a), now, now, None if t is None else tasks[t])
                    for a, t in enumerate(plan.agent_tasks)
                ],
            )
        return Built(project_id, initiatives, phases, tasks)

    def workload_ready(self, n: int) -> Work:
        plan = workload_plan(n)
        built = self.build(plan)
        asked = [built.initiatives[ready_call(i, plan)] for i in range(ready_calls(n))]

        def work() -> None:
            found = 0
            for initiative_id in asked:
                with self.transaction("BEGIN") as connection:
                    found += len(
                        connection.execute(WORKLOAD_READY_TASKS, (initiative_id,)).fetchall()
                    )
            self.found = found

        return work

    def get_tasks(self, n: int) -> Work:
        built = self.build(workload_plan(n))
        keys = [built.tasks[i % len(built.tasks)] for i in range(task_calls(n))]

        def work() -> None:
            found = 0
            for key in keys:
                with self.transaction("BEGIN") as connection:
                    found += connection.execute(GET_TASK, (key,)).fetchone()[0] == key
            self.found = found

        return work

    def move_tasks(self, n: int) -> Work:
        built = self.build(update_plan(n))
        keys = [built.tasks[i] for i in moved(n)]

        def work() -> None:
            for key in keys:
                with self.transaction() as connection:
                    status, _started, phase_id = connection.execute(
                        GET_TASK_MOVE, (key,)
                    ).fetchone()
                    if status != "pending":
                        raise ValueError(f"task {key} is {status}, not pending")
                    now = stamp()
                    connection.execute(START_TASK, (now, now, key))
                    connection.execute(START_PHASE, (now, phase_id))

        return work

    def delete_workload_project(self, n: int) -> Work:
        built = self.build(workload_plan(n))

        def work() -> None:
            # The foreign keys' ON DELETE CASCADE removes the tree, their SET NULL unlinks
            # the agents.
            with self.transaction() as connection:
                connection.execute(DELETE_PROJECT, (built.project_id,))

        return work

    def tasks_by_status(self, n: int) -> Work:
        plan = workload_plan(n)
        built = self.build(plan)
        asked = []
        for i in range(task_calls(n)):
            initiative, status = status_call(i, plan)
            asked.append((built.initiatives[initiative], status, built.project_id))

        def work() -> None:
            found = 0
            for parameters in asked:
                with self.transaction("BEGIN") as connection:
                    found += len(connection.execute(TASKS_BY_STATUS, parameters).fetchall())
            self.found = found

        return work
