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
from agentkeel.domain.agents import Agent
from agentkeel.domain.planning import (
    Initiative,
    Phase,
    PhaseStatus,
    Task,
    TaskDependency,
    TaskStatus,
)
from agentkeel.domain.workspace import Project, Repository, Worktree
from agentkeel.ports.unit_of_work import UnitOfWork
from bench.contenders.base import (
    LOG_AGENT_NAME,
    RENAMED,
    REPOSITORIES,
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
                "found": self.found,
                "initiatives": uow.initiatives.count(),
                "phases": uow.phases.count(),
                "phases_started": sum(
                    phase.status is PhaseStatus.IN_PROGRESS
                    for project in projects
                    for initiative in uow.initiatives.list(
                        project_id=project.id, include_archived=True
                    )
                    for phase in uow.phases.find_by_initiative(initiative.id)
                ),
                "task_dependencies": uow.task_dependencies.count(),
                "agents": len(agents := uow.agents.list(include_dismissed=True)),
                "linked": sum(agent.task_id is not None for agent in agents),
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
        return self.appending(log_batches(n))

    def appending(self, batches: list[list[str]]) -> Work:
        """O9 and W1: append the batches to LOG_AGENTS agents in turn, a unit of work each."""
        agents = [new_id() for _ in range(LOG_AGENTS)]

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

    # -- the orchestrator workload ----------------------------------------------------------

    def append_workload_log(self, n: int) -> Work:
        return self.appending(workload_log_batches(n))

    @staticmethod
    def build_in(uow: UnitOfWork, plan: ProjectPlan) -> Built:
        """The plan's project, through the repositories' `add_many` (one bulk insert per
        table, every entity validated and checked as `add` checks it)."""
        project = uow.projects.add(Project(**project_values(0)))
        uow.repositories.add_many(
            [Repository(**repository_values(i, project.id)) for i in range(REPOSITORIES)],
        )
        initiatives = uow.initiatives.add_many(
            [Initiative(**initiative_values(k, project.id)) for k in range(plan.initiatives)],
        )
        phases = uow.phases.add_many(
            [
                Phase(**phase_values(p, initiatives[initiative].id))
                for p, initiative in enumerate(plan.phases)
            ],
        )
        tasks: list[Task] = []
        for i, planned in enumerate(plan.tasks):
            values = workload_task_values(
                i, planned, project.id, initiatives[planned.initiative].id, phases[planned.phase].id
            )
            parent = None if planned.parent is None else tasks[planned.parent].id
            tasks.append(Task(**values, parent_task_id=parent))
        tasks = uow.tasks.add_many(tasks)
        uow.task_dependencies.add_many(
            [
                TaskDependency(task_id=task.id, depends_on_task_id=tasks[d].id)
                for task, planned in zip(tasks, plan.tasks, strict=True)
                for d in planned.depends_on
            ],
        )
        uow.agents.add_many(
            [
                Agent(name=agent_name(a), task_id=None if t is None else tasks[t].id)
                for a, t in enumerate(plan.agent_tasks)
            ],
        )
        return Built(
            project.id,
            [initiative.id for initiative in initiatives],
            [phase.id for phase in phases],
            [task.id for task in tasks],
        )

    def build(self, plan: ProjectPlan) -> Built:
        with self.db.unit_of_work() as uow:
            built = self.build_in(uow, plan)
            uow.commit()
        return built

    def workload_ready(self, n: int) -> Work:
        plan = workload_plan(n)
        built = self.build(plan)
        asked = [built.initiatives[ready_call(i, plan)] for i in range(ready_calls(n))]

        def work() -> None:
            found = 0
            for initiative_id in asked:
                with self.db.unit_of_work() as uow:
                    found += len(uow.tasks.ready_tasks(initiative_id=initiative_id))
            self.found = found

        return work

    def get_tasks(self, n: int) -> Work:
        built = self.build(workload_plan(n))
        keys = [built.tasks[i % len(built.tasks)] for i in range(task_calls(n))]

        def work() -> None:
            found = 0
            for key in keys:
                with self.db.unit_of_work() as uow:
                    found += uow.tasks.get(key).id == key
            self.found = found

        return work

    def move_tasks(self, n: int) -> Work:
        built = self.build(update_plan(n))
        keys = [built.tasks[i] for i in moved(n)]

        def work() -> None:
            for key in keys:
                with self.db.unit_of_work() as uow:
                    uow.tasks.move_to(key, TaskStatus.IN_PROGRESS)
                    uow.commit()

        return work

    def delete_workload_project(self, n: int) -> Work:
        built = self.build(workload_plan(n))

        def work() -> None:
            with self.db.unit_of_work() as uow:
                uow.projects.delete(built.project_id)
                uow.commit()

        return work

    def tasks_by_status(self, n: int) -> Work:
        plan = workload_plan(n)
        built = self.build(plan)
        asked = []
        for i in range(task_calls(n)):
            initiative, status = status_call(i, plan)
            asked.append((built.initiatives[initiative], TaskStatus(status)))

        def work() -> None:
            found = 0
            for initiative_id, status in asked:
                with self.db.unit_of_work() as uow:
                    found += len(
                        uow.tasks.list(
                            project_id=built.project_id, initiative_id=initiative_id, status=status
                        )
                    )
            self.found = found

        return work
