"""The twelve operations every contender performs, and the sizes they use.

N (`--n`, 2,000 by default) is the number of rows or calls an operation works through; an
operation's `ops(n)` says how many operations its time is divided by, and `expect(n)` the
rows the database must hold afterwards (checked after the clock stops, so that no contender
can get away with doing less).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.contenders.base import ready_count

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


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    method: str  # the Contender method that sets it up and returns the work
    ops: Callable[[int], int]
    expect: Callable[[int], dict[str, int]]
    opens: bool = False  # True: opening the database is the work, so it is not opened first


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

BY_KEY = {operation.key: operation for operation in OPERATIONS}
