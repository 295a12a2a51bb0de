"""What every contender implements: the twelve operations, each as setup -> timed work.

A contender is made for one fresh, empty database (`location`: a SQLite file path that does
not exist yet, a PostgreSQL URL whose schema is empty, or `memory://`). The harness opens
it, calls one operation method, which does its setup (not timed) and returns the work to
time, times the work, checks `counts()` and closes it. O8 (`open_new`) is the exception:
opening and closing the database is the work.

This module imports nothing of agentkeel's, SQLAlchemy's or SQLModel's, so that each
contender's process loads only what that contender uses. The rows are the same for every
contender: `project_values`, `repository_values`, `worktree_values`, 21-character random
ids (nanoids, made as agentkeel makes them) and timezone-aware UTC timestamps.
"""

from __future__ import annotations

import os
import random
from abc import ABC, abstractmethod
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Work = Callable[[], None]
Backend = Literal["sqlite", "postgres", "memory"]

ID_LENGTH = 21
RENAMED = " (renamed)"


def new_id() -> str:
    """A fresh nanoid: 21 URL-safe characters, 126 random bits (the first 21 characters of
    the base64 of 16 random bytes), made as agentkeel makes its ids, so that no contender
    pays for ids more than another (the `nanoid` package takes about 10 µs an id)."""
    return urlsafe_b64encode(os.urandom(16))[:ID_LENGTH].decode("ascii")


def utc_now() -> datetime:
    return datetime.now(UTC)


def project_values(i: int) -> dict[str, Any]:
    return {"name": f"project {i}", "description": f"benchmark project number {i}"}


def repository_values(i: int, project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "name": f"repository {i}", "path": f"/src/repo-{i}"}


def worktree_values(i: int, repository_id: str) -> dict[str, Any]:
    return {
        "repository_id": repository_id,
        "path": f"/worktrees/wt-{i}",
        "branch_name": f"bench/branch-{i}",
    }


def log_batches(n: int) -> list[list[str]]:
    """O9's chunks, in batches: JSONL lines of agent output, about 90 characters each."""
    from bench.operations import LOG_BATCH, LOG_CHUNKS_PER_N

    lines = [
        f'{{"type":"assistant","seq":{i},"text":"benchmark output line {i} of the agent\'s log"}}'
        for i in range(LOG_CHUNKS_PER_N * n)
    ]
    return [lines[start : start + LOG_BATCH] for start in range(0, len(lines), LOG_BATCH)]


LOG_AGENT_NAME = "brave-otter"


def task_plan(count: int) -> list[tuple[str, list[int]]]:
    """O10's task graph: (status, the earlier tasks it depends on) of each of `count` tasks.
    Every other task is completed; task i depends on task i - 1 and on task i // 2."""
    plan = []
    for i in range(count):
        depends_on = sorted({d for d in (i - 1, i // 2) if 0 <= d < i})
        plan.append(("completed" if i % 2 == 0 else "pending", depends_on))
    return plan


def ready_count(count: int) -> int:
    """How many of O10's tasks are ready: pending, with every dependency completed."""
    plan = task_plan(count)
    return sum(
        status == "pending" and all(plan[d][0] == "completed" for d in depends_on)
        for status, depends_on in plan
    )


def task_values(
    i: int, project_id: str, initiative_id: str | None, status: str = "pending"
) -> dict[str, Any]:
    """A task's columns beyond id and timestamps, with agentkeel's defaults spelled out."""
    return {
        "project_id": project_id,
        "initiative_id": initiative_id,
        "name": f"task {i}",
        "type": "auto",
        "category": "execute",
        "priority": "medium",
        "status": status,
        "order_index": i % 7,
        "retry_count": 0,
        "size": "small",
        "qa_iterations": 0,
        "max_iterations": 50,
        "estimated_minutes": 15,
    }


def renamed(name: str) -> str:
    """O4's change: the name it read, with a suffix."""
    return name + RENAMED


class Contender(ABC):
    """One way of doing the twelve operations (see bench/operations.py), on one new database."""

    def __init__(self, location: str, backend: Backend) -> None:
        self.location = location
        self.backend = backend
        self.ready_found = 0  # O10: how many ready tasks its last call found
        self.found = 0  # W3, W4, W6: the rows all the calls found, added up

    @abstractmethod
    def open(self) -> None:
        """Open the database and create its tables (agentkeel: migrate and seed)."""

    @abstractmethod
    def close(self) -> None:
        """Release every connection."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Rows now stored: `projects`, `repositories`, `worktrees`, `defaults` (repositories
        that are their project's default), `renamed` (projects O4 renamed) and
        `log_chunks`, `tasks`, `ready` (the ready tasks O10's last call found, `ready_found`)
        and `started` (tasks in progress with `started_at` set)."""

    # -- the operations: setup (not timed), then the work to time ------------------------

    @abstractmethod
    def insert_each(self, n: int) -> Work:
        """O1: N times, insert a project in a transaction of its own and commit."""

    @abstractmethod
    def insert_repositories(self, n: int) -> Work:
        """O2: insert N repositories, spread over REPOSITORY_PROJECTS projects, in one
        transaction (one statement, or one `add`, per repository)."""

    @abstractmethod
    def get_each(self, n: int) -> Work:
        """O3: get each of N projects by id, a transaction (unit of work) each."""

    @abstractmethod
    def get_in_one(self, n: int) -> Work:
        """O3b: get each of N projects by id, all in one transaction."""

    @abstractmethod
    def update_each(self, n: int) -> Work:
        """O4: for each of N projects, in a transaction of its own: read it, rename it
        (`renamed` of the name read), write it, commit."""

    @abstractmethod
    def list_repositories(self, n: int) -> Work:
        """O5: LIST_CALLS times, in a transaction each, list the N repositories of a
        project, by name."""

    @abstractmethod
    def switch_default(self, n: int) -> Work:
        """O6: N times, make the next of the project's DEFAULT_CANDIDATES repositories its
        default (clearing the flag on the others), a transaction each."""

    @abstractmethod
    def delete_project(self, n: int) -> Work:
        """O7: hard-delete a project holding N repositories with a worktree each."""

    @abstractmethod
    def append_log_chunks(self, n: int) -> Work:
        """O9: append LOG_CHUNKS_PER_N * N log chunks (`log_batches`) to LOG_AGENTS agents in
        turn, a batch at a time, a transaction each: read the agent's last chunk number,
        then insert the batch numbered after it (one bulk insert)."""

    @abstractmethod
    def ready_tasks(self, n: int) -> Work:
        """O10: an initiative holding `task_count(n)` tasks (`task_plan`: up to 2
        dependencies each, half of them completed); LIST_CALLS times, in a transaction each,
        read its ready tasks (pending, every dependency completed) in task order
        (`order_index`, `created_at`, id), as one query. Sets `ready_found`."""

    @abstractmethod
    def start_tasks(self, n: int) -> Work:
        """O11: N pending tasks of a project; for each, in a transaction of its own: read
        it, check that it is pending, move it to in_progress (stamping `started_at`,
        `updated_at`, the row version), commit."""

    # -- the orchestrator workload (W1 … W6); a contender that does not take part (its
    # `Spec.workload` is False) keeps these ------------------------------------------------

    def append_workload_log(self, n: int) -> Work:
        """W1: as O9, with `workload_log_batches(n)`: chunks of CHUNK_BYTES."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def build(self, plan: ProjectPlan) -> object:
        """Build `plan` in one transaction: the project, its REPOSITORIES repositories,
        initiatives, phases (pending), tasks (with their parents), the tasks' dependencies,
        and the agents (those of `agent_tasks` linked to their task). W2's work, and the
        setup of W3 … W6."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def build_project(self, n: int) -> Work:
        """W2: `build(workload_plan(n))`, timed."""
        from bench.operations import workload_plan  # (operations imports this module)

        plan = workload_plan(n)

        def work() -> None:
            self.build(plan)

        return work

    def workload_ready(self, n: int) -> Work:
        """W3: W2's project (set up the fastest way the contender has); `ready_calls(n)`
        times, a transaction each, the ready tasks of initiative `ready_call(i)`, in task
        order, as one query: pending, every dependency completed, the task's phase (if any)
        neither blocked nor completed and waiting for no unfinished phase. Adds the rows
        found to `found`."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def get_tasks(self, n: int) -> Work:
        """W4 get: W2's project; `task_calls(n)` times, a transaction each, get task
        i mod T by id. Adds 1 to `found` for each task read back."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def move_tasks(self, n: int) -> Work:
        """W4 update: `update_plan(n)`'s project; for each of the `moved(n)` pending tasks,
        in a transaction of its own: read it, check that pending -> in_progress is a move
        it may make, make it (stamping `started_at`, `updated_at`, the row version), move its
        phase to in_progress if it is pending (the phase follows its tasks), commit."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def delete_workload_project(self, n: int) -> Work:
        """W5: W2's project; hard-delete it and everything under it (repositories,
        initiatives, phases, tasks, their dependencies) in one transaction; the agents stay,
        their `task_id` cleared."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def tasks_by_status(self, n: int) -> Work:
        """W6: W2's project; `task_calls(n)` times, a transaction each, the tasks of
        (initiative, status) `status_call(i)`, in task order. Adds the rows found to
        `found`."""
        raise NotImplementedError(f"{type(self).__name__} does not take part in the workload")

    def open_new(self, n: int) -> Work:
        """O8: open the new database (creating its tables) and close it."""

        def work() -> None:
            self.open()
            self.close()

        return work


# -- the orchestrator workload (W1 … W6) ----------------------------------------------------
#
# Every contender builds the same project from the same plan: `project_plan` draws it from
# `random.Random(SEED)`, so the statuses, parents, dependencies and agent links are the same
# for all of them (the ids are each contender's own: random, as agentkeel makes them).

SEED = 19  # the issue that asked for the workload
REPOSITORIES = 5
PHASES_PER_INITIATIVE = 4
TASKS_PER_PHASE = 25
TASKS_PER_INITIATIVE = PHASES_PER_INITIATIVE * TASKS_PER_PHASE
PARENT_EVERY = 5  # every 5th task of a phase parents the next 4
LINKED_SHARE = (4, 5)  # 80% of the agents are linked to a task (agent.task_id)
STATUSES = ("pending", "completed")  # half of every initiative's tasks are completed
CHUNK_BYTES = 200
WORDS = (
    "read",
    "write",
    "edit",
    "file",
    "test",
    "passed",
    "failed",
    "diff",
    "commit",
    "branch",
    "tool",
    "call",
    "result",
    "agent",
    "phase",
    "task",
)


@dataclass(frozen=True)
class PlannedTask:
    """One task of the plan: its initiative and phase (indexes into the plan), its position
    in the initiative (its `order_index`), its parent and the earlier tasks of its
    initiative it depends on (indexes into `ProjectPlan.tasks`) and its status."""

    initiative: int
    phase: int
    position: int
    parent: int | None
    depends_on: tuple[int, ...]
    status: str


@dataclass(frozen=True)
class ProjectPlan:
    """W2's project: REPOSITORIES repositories, `initiatives` initiatives of
    PHASES_PER_INITIATIVE phases of TASKS_PER_PHASE tasks, and agents, LINKED_SHARE of them
    linked to a task (`agent_tasks`: the task each agent holds, or None)."""

    initiatives: int
    phases: tuple[int, ...]  # phase -> its initiative
    tasks: tuple[PlannedTask, ...]
    agent_tasks: tuple[int | None, ...]

    @property
    def dependencies(self) -> int:
        return sum(len(task.depends_on) for task in self.tasks)

    @property
    def linked(self) -> int:
        return sum(task is not None for task in self.agent_tasks)

    def of_initiative(self, initiative: int) -> list[int]:
        start = initiative * TASKS_PER_INITIATIVE
        return list(range(start, start + TASKS_PER_INITIATIVE))

    def ready(self, initiative: int) -> int:
        """How many of the initiative's tasks are ready: pending, every dependency completed
        (its phases are pending and wait for no other phase, so they hold nothing back)."""
        return sum(
            self.tasks[i].status == "pending"
            and all(self.tasks[d].status == "completed" for d in self.tasks[i].depends_on)
            for i in self.of_initiative(initiative)
        )

    def with_status(self, initiative: int, status: str) -> int:
        return sum(self.tasks[i].status == status for i in self.of_initiative(initiative))

    def pending(self) -> list[int]:
        return [i for i, task in enumerate(self.tasks) if task.status == "pending"]


def project_plan(initiatives: int, agents: int, seed: int = SEED) -> ProjectPlan:
    """The project W2 builds (and W3 … W6 start from), drawn from `random.Random(seed)`."""
    rng = random.Random(seed)
    phases: list[int] = []
    tasks: list[PlannedTask] = []
    for initiative in range(initiatives):
        first = len(tasks)
        completed = set(rng.sample(range(TASKS_PER_INITIATIVE), TASKS_PER_INITIATIVE // 2))
        for phase_of in range(PHASES_PER_INITIATIVE):
            phase = len(phases)
            phases.append(initiative)
            for in_phase in range(TASKS_PER_PHASE):
                position = phase_of * TASKS_PER_PHASE + in_phase
                index = first + position
                lead = in_phase - in_phase % PARENT_EVERY
                parent = None if in_phase == lead else index - (in_phase - lead)
                earlier = range(first, index)
                depends_on = sorted(rng.sample(earlier, min(rng.randint(0, 2), len(earlier))))
                status = STATUSES[position in completed]
                tasks.append(
                    PlannedTask(initiative, phase, position, parent, tuple(depends_on), status)
                )
    linked = agents * LINKED_SHARE[0] // LINKED_SHARE[1]
    held = rng.sample(range(len(tasks)), min(linked, len(tasks)))
    agent_tasks = tuple(held[a] if a < len(held) else None for a in range(agents))
    return ProjectPlan(initiatives, tuple(phases), tuple(tasks), agent_tasks)


def workload_task_values(
    i: int, task: PlannedTask, project_id: str, initiative_id: str, phase_id: str
) -> dict[str, Any]:
    """W2's task i: `task_values` in its initiative and phase, ordered by its position."""
    values = task_values(i, project_id, initiative_id, task.status)
    values["phase_id"] = phase_id
    values["order_index"] = task.position
    return values


def agent_name(i: int) -> str:
    return f"bench-agent-{i}"


def workload_log_batches(n: int, seed: int = SEED) -> list[list[str]]:
    """W1's chunks, in batches of LOG_BATCH: LOG_CHUNKS_PER_N * N lines of CHUNK_BYTES
    (ASCII) of agent output, their words drawn from `random.Random(seed)`."""
    from bench.operations import LOG_BATCH, LOG_CHUNKS_PER_N

    rng = random.Random(seed)
    lines = []
    for i in range(LOG_CHUNKS_PER_N * n):
        head = f'{{"type":"assistant","seq":{i},"text":"'
        words = []
        size = len(head) + 2
        while size < CHUNK_BYTES:
            word = rng.choice(WORDS)
            words.append(word)
            size += len(word) + 1
        lines.append((head + " ".join(words))[: CHUNK_BYTES - 2] + '"}')
    return [lines[start : start + LOG_BATCH] for start in range(0, len(lines), LOG_BATCH)]


@dataclass(frozen=True)
class Built:
    """The ids of a project a contender built from a `ProjectPlan`, in the plan's order."""

    project_id: str
    initiatives: list[str]
    phases: list[str]
    tasks: list[str]


def initiative_values(k: int, project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "name": f"initiative {k}", "branch": f"bench/initiative-{k}"}


def phase_values(p: int, initiative_id: str) -> dict[str, Any]:
    return {"initiative_id": initiative_id, "name": f"phase {p}"}


# W3: the phase statuses that hold a phase's tasks back, and those a starting task moves on.
CLOSED_PHASES = ("blocked", "completed")
STARTABLE_PHASES = ("pending", "approved", "pending_review", "completed")
