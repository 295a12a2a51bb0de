"""`keel-sqlite`, `keel-memory`, `keel-postgres`: agentkeel through its public API.

`Database.open` (migrate to head, seed the default settings), units of work, the
repositories' `add` / `get` / `update` / `list`, `uow.repositories.set_default`
and `uow.projects.delete`: the code an application writes. Every unit of work
is the default one (`db.unit_of_work()`), reads included, as the README writes them.

Beyond the others' work, agentkeel validates every entity it is given and builds one for
every row it returns, stamps `updated_at` itself, checks the row version an update was read
at (and a stale one is a `Conflict`), records domain events, and writes an audit entry for
every hard delete (with the counts of the rows removed, which it counts first).
"""

from __future__ import annotations

from agentkeel.database import Database
from agentkeel.domain.planning import Initiative, Task, TaskStatus
from agentkeel.domain.workspace import Project, Repository, Worktree
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
    worktree_values,
)
from bench.operations import (
    DEFAULT_CANDIDATES,
    LIST_CALLS,
    LOG_AGENTS,
    REPOSITORY_PROJECTS,
    task_count,
)


class Keel(Contender):
    db: Database

    def open(self) -> None:
        self.db = Database.open(self.location)

    def close(self) -> None:
        self.db.close()

    def counts(self) -> dict[str, int]:
        with self.db.unit_of_work(read_only=True) as uow:
            repositories = uow.repositories.list()
            projects = uow.projects.list(include_archived=True)
            return {
                "projects": len(projects),
                "repositories": len(repositories),
                "worktrees": uow.worktrees.count(),
                "defaults": sum(repository.is_default for repository in repositories),
                "renamed": sum(project.name.endswith(RENAMED) for project in projects),
                "log_chunks": uow.agent_log_chunks.count(),
                "tasks": uow.tasks.count(),
                "started": sum(
                    task.started_at is not None
                    for project in projects
                    for task in uow.tasks.list(project_id=project.id, status=TaskStatus.IN_PROGRESS)
                ),
                "ready": self.ready_found,
            }

    def add_projects(self, count: int) -> list[str]:
        with self.db.unit_of_work() as uow:
            keys = [uow.projects.add(Project(**project_values(i))).id for i in range(count)]
            uow.commit()
        return keys

    def add_repositories(self, n: int, project_id: str) -> list[str]:
        with self.db.unit_of_work() as uow:
            keys = [
                uow.repositories.add(Repository(**repository_values(i, project_id))).id
                for i in range(n)
            ]
            uow.commit()
        return keys

    # -- the operations ---------------------------------------------------------------------

    def insert_each(self, n: int) -> Work:
        def work() -> None:
            for i in range(n):
                with self.db.unit_of_work() as uow:
                    uow.projects.add(Project(**project_values(i)))
                    uow.commit()

        return work

    def insert_repositories(self, n: int) -> Work:
        project_ids = self.add_projects(REPOSITORY_PROJECTS)

        def work() -> None:
            with self.db.unit_of_work() as uow:
                for i in range(n):
                    project_id = project_ids[i % len(project_ids)]
                    uow.repositories.add(Repository(**repository_values(i, project_id)))
                uow.commit()

        return work

    def get_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with self.db.unit_of_work() as uow:
                    uow.projects.get(key)

        return work

    def get_in_one(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            with self.db.unit_of_work() as uow:
                for key in keys:
                    uow.projects.get(key)

        return work

    def update_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with self.db.unit_of_work() as uow:
                    project = uow.projects.get(key)
                    project.name = renamed(project.name)
                    uow.projects.update(project)
                    uow.commit()

        return work

    def list_repositories(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        self.add_repositories(n, project_id)

        def work() -> None:
            for _ in range(LIST_CALLS):
                with self.db.unit_of_work() as uow:
                    rows = uow.repositories.list(project_id=project_id)
            assert len(rows) == n

        return work

    def switch_default(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(DEFAULT_CANDIDATES, project_id)

        def work() -> None:
            for i in range(n):
                with self.db.unit_of_work() as uow:
                    uow.repositories.set_default(keys[i % len(keys)])
                    uow.commit()

        return work

    def delete_project(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(n, project_id)
        with self.db.unit_of_work() as uow:
            for i, key in enumerate(keys):
                uow.worktrees.add(Worktree(**worktree_values(i, key)))
            uow.commit()

        def work() -> None:
            with self.db.unit_of_work() as uow:
                uow.projects.delete(project_id)
                uow.commit()

        return work

    def append_log_chunks(self, n: int) -> Work:
        agents = [new_id() for _ in range(LOG_AGENTS)]
        batches = log_batches(n)

        def work() -> None:
            for i, contents in enumerate(batches):
                with self.db.unit_of_work() as uow:
                    uow.agent_log_chunks.append(agents[i % LOG_AGENTS], LOG_AGENT_NAME, 1, contents)
                    uow.commit()

        return work

    def add_tasks(
        self, project_id: str, initiative_id: str | None, plan: list[tuple[str, list[int]]]
    ) -> list[str]:
        with self.db.unit_of_work() as uow:
            keys: list[str] = []
            for i, (status, depends_on) in enumerate(plan):
                values = task_values(i, project_id, initiative_id, status)
                key = uow.tasks.add(Task(**values)).id
                for d in depends_on:
                    uow.task_dependencies.create(key, keys[d])
                keys.append(key)
            uow.commit()
        return keys

    def ready_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        with self.db.unit_of_work() as uow:
            initiative = uow.initiatives.add(Initiative(project_id=project_id, name="bench"))
            uow.commit()
        self.add_tasks(project_id, initiative.id, task_plan(task_count(n)))

        def work() -> None:
            for _ in range(LIST_CALLS):
                with self.db.unit_of_work() as uow:
                    rows = uow.tasks.ready_tasks(initiative_id=initiative.id)
            self.ready_found = len(rows)

        return work

    def start_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_tasks(project_id, None, [("pending", [])] * n)

        def work() -> None:
            for key in keys:
                with self.db.unit_of_work() as uow:
                    uow.tasks.move_to(key, TaskStatus.IN_PROGRESS)
                    uow.commit()

        return work
