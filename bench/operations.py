"""The twelve operations (O1 … O11) and the orchestrator workload (W1 … W6) the contenders
perform, and the sizes they use.

N (`--n`, 2,000 by default) is the number of rows or calls an operation works through; an
operation's `ops(n)` says how many operations its time is divided by, and `expect(n)` the
rows the database must hold afterwards (checked after the clock stops, so that no contender
can get away with doing less).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from bench.contenders.base import (
    REPOSITORIES,
    TASKS_PER_INITIATIVE,
    ProjectPlan,
    project_plan,
    ready_count,
)

# O2: the N repositories are spread over this many projects.
REPOSITORY_PROJECTS = 10
# O5: how many times the N repositories of a project are listed.
LIST_CALLS = 10
# O6: the project's default moves round this many repositories, N times.
DEFAULT_CANDIDATES = 10
# O9: LOG_CHUNKS_PER_N * N log chunks (100,000 at the default N), appended in batches of
# LOG_BATCH, a transaction each, to LOG_AGENTS agents in turn.
LOG_CHUNKS_PER_N = 50
LOG_BATCH = 100
LOG_AGENTS = 10


def task_count(n: int) -> int:
    """O10: the initiative's tasks, 5,000 at the default N."""
    return n * 5 // 2


# -- the orchestrator workload (W1 … W6): sizes at N, 2,000 by default ------------------------


def initiatives(n: int) -> int:
    """W2: the project's initiatives, 50 at the default N (5,000 tasks)."""
    return max(1, n // 40)


def agents(n: int) -> int:
    """W2: the agents, 500 at the default N."""
    return max(1, n // 4)


def ready_calls(n: int) -> int:
    """W3: ready-task queries, 1,000 at the default N."""
    return max(1, n // 2)


def task_calls(n: int) -> int:
    """W4 get, W4 update and W6: calls, 10,000 at the default N."""
    return 5 * n


def update_initiatives(n: int) -> int:
    """W4 update: initiatives enough for `task_calls(n)` distinct pending tasks (half of an
    initiative's tasks are pending): 200 at the default N, 20,000 tasks."""
    pending = TASKS_PER_INITIATIVE // 2
    return max(1, -(-task_calls(n) // pending))


@cache
def workload_plan(n: int) -> ProjectPlan:
    """The project of W2, W3, W4 get, W5 and W6."""
    return project_plan(initiatives(n), agents(n))


@cache
def update_plan(n: int) -> ProjectPlan:
    """W4 update's project: W2's, with `update_initiatives(n)` initiatives."""
    return project_plan(update_initiatives(n), agents(n))


def ready_call(i: int, plan: ProjectPlan) -> int:
    """W3: the initiative the i-th call asks about."""
    return i % plan.initiatives


def status_call(i: int, plan: ProjectPlan) -> tuple[int, str]:
    """W6: the (initiative, status) the i-th call asks about: every initiative in turn, its
    pending tasks, then its completed ones."""
    return (i // 2) % plan.initiatives, ("pending", "completed")[i % 2]


def moved(n: int) -> list[int]:
    """W4 update: the tasks (indexes into `update_plan(n).tasks`) moved pending -> in_progress."""
    return update_plan(n).pending()[: task_calls(n)]


def _built(n: int) -> dict[str, int]:
    plan = workload_plan(n)
    return {
        "projects": 1,
        "repositories": REPOSITORIES,
        "initiatives": plan.initiatives,
        "phases": len(plan.phases),
        "tasks": len(plan.tasks),
        "task_dependencies": plan.dependencies,
        "agents": len(plan.agent_tasks),
        "linked": plan.linked,
    }


def _ready_found(n: int) -> dict[str, int]:
    plan = workload_plan(n)
    found = sum(plan.ready(ready_call(i, plan)) for i in range(ready_calls(n)))
    return {"tasks": len(plan.tasks), "found": found}


def _moved(n: int) -> dict[str, int]:
    plan = update_plan(n)
    phases = {plan.tasks[i].phase for i in moved(n)}
    return {"tasks": len(plan.tasks), "started": task_calls(n), "phases_started": len(phases)}


def _deleted(n: int) -> dict[str, int]:
    plan = workload_plan(n)
    gone = ("projects", "repositories", "initiatives", "phases", "tasks", "task_dependencies")
    return {**dict.fromkeys(gone, 0), "agents": len(plan.agent_tasks), "linked": 0}


def _status_found(n: int) -> dict[str, int]:
    plan = workload_plan(n)
    found = sum(plan.with_status(*status_call(i, plan)) for i in range(task_calls(n)))
    return {"tasks": len(plan.tasks), "found": found}


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    method: str  # the Contender method that sets it up and returns the work
    ops: Callable[[int], int]
    expect: Callable[[int], dict[str, int]]
    opens: bool = False  # True: opening the database is the work, so it is not opened first

    @property
    def workload(self) -> bool:
        """One of the orchestrator workload's (W1 … W6), which `--only W` selects and the
        total row adds up."""
        return self.key.startswith("W")


def _each(n: int) -> int:
    return n


def _once(n: int) -> int:
    return 1


OPERATIONS = (
    Operation(
        "O1",
        "insert a project, commit each",
        "insert_each",
        _each,
        lambda n: {"projects": n},
    ),
    Operation(
        "O2",
        "insert N repositories, one commit",
        "insert_repositories",
        _each,
        lambda n: {"projects": REPOSITORY_PROJECTS, "repositories": n},
    ),
    Operation(
        "O3",
        "get a project by id, a unit of work each",
        "get_each",
        _each,
        lambda n: {"projects": n},
    ),
    Operation(
        "O3b",
        "get by id, N in one unit of work",
        "get_in_one",
        _each,
        lambda n: {"projects": n},
    ),
    Operation(
        "O4",
        "update a project's name, commit each",
        "update_each",
        _each,
        lambda n: {"projects": n, "renamed": n},
    ),
    Operation(
        "O5",
        f"list a project's N repositories ({LIST_CALLS} times)",
        "list_repositories",
        lambda n: LIST_CALLS,
        lambda n: {"projects": 1, "repositories": n},
    ),
    Operation(
        "O6",
        "switch a project's default repository, commit each",
        "switch_default",
        _each,
        lambda n: {"projects": 1, "repositories": DEFAULT_CANDIDATES, "defaults": 1},
    ),
    Operation(
        "O7",
        "hard delete of a project with N repositories and N worktrees",
        "delete_project",
        _once,
        lambda n: {"projects": 0, "repositories": 0, "worktrees": 0},
    ),
    Operation(
        "O8",
        "open a new database and close it",
        "open_new",
        _once,
        lambda n: {},
        opens=True,
    ),
    Operation(
        "O9",
        f"append {LOG_CHUNKS_PER_N}·N log chunks in batches of {LOG_BATCH}, commit each",
        "append_log_chunks",
        lambda n: LOG_CHUNKS_PER_N * n,
        lambda n: {"log_chunks": LOG_CHUNKS_PER_N * n},
    ),
    Operation(
        "O10",
        f"ready tasks of an initiative of 5N/2 tasks, half completed ({LIST_CALLS} times)",
        "ready_tasks",
        lambda n: LIST_CALLS,
        lambda n: {"tasks": task_count(n), "ready": ready_count(task_count(n))},
    ),
    Operation(
        "O11",
        "start a task (pending -> in_progress), commit each",
        "start_tasks",
        _each,
        lambda n: {"tasks": n, "started": n},
    ),
)

WORKLOAD = (
    Operation(
        "W1",
        f"append {LOG_CHUNKS_PER_N}·N log chunks of ~200 bytes in batches of {LOG_BATCH}, "
        "commit each",
        "append_workload_log",
        lambda n: LOG_CHUNKS_PER_N * n,
        lambda n: {"log_chunks": LOG_CHUNKS_PER_N * n},
    ),
    Operation(
        "W2",
        "build a project (N/40 initiatives x 4 phases x 25 tasks, N/4 agents), one commit",
        "build_project",
        _once,
        _built,
    ),
    Operation(
        "W3",
        "ready tasks of an initiative, half its tasks completed (N/2 calls)",
        "workload_ready",
        ready_calls,
        _ready_found,
    ),
    Operation(
        "W4",
        "get a task by id, a unit of work each (5N calls)",
        "get_tasks",
        task_calls,
        lambda n: {"tasks": len(workload_plan(n).tasks), "found": task_calls(n)},
    ),
    Operation(
        "W4u",
        "move a task pending -> in_progress, commit each (5N calls)",
        "move_tasks",
        task_calls,
        _moved,
    ),
    Operation(
        "W5",
        "hard delete of W2's project and everything under it",
        "delete_workload_project",
        _once,
        _deleted,
    ),
    Operation(
        "W6",
        "tasks by (initiative, status) (5N calls)",
        "tasks_by_status",
        task_calls,
        _status_found,
    ),
)

EVERYTHING = OPERATIONS + WORKLOAD

BY_KEY = {operation.key: operation for operation in EVERYTHING}
