"""What every contender implements: the twelve operations, each as setup -> timed work.

A contender is made for one fresh, empty database (`location`: a SQLite file path that does
not exist yet, a PostgreSQL URL whose schema is empty, or `memory://`). The harness opens
it, calls one operation method, which does its setup (not timed) and returns the work to
time, times the work, checks `counts()` and closes it. O8 (`open_new`) is the exception:
opening and closing the database is the work.

This module imports nothing of agentkeel's, SQLAlchemy's or SQLModel's, so that each
contender's process loads only what that contender uses. The rows are the same for every
contender: `project_values`, `repository_values`, `worktree_values`, 21-character random
ids (nanoid, as agentkeel makes them) and timezone-aware UTC timestamps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from nanoid import generate

Work = Callable[[], None]
Backend = Literal["sqlite", "postgres", "memory"]

ID_LENGTH = 21
RENAMED = " (renamed)"


def new_id() -> str:
    """A fresh 21-character URL-safe random id, like agentkeel's."""
    return str(generate(size=ID_LENGTH))


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

    def open_new(self, n: int) -> Work:
        """O8: open the new database (creating its tables) and close it."""

        def work() -> None:
            self.open()
            self.close()

        return work
