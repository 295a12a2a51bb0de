"""Events the planning context records."""

from __future__ import annotations

from dataclasses import dataclass

from agentkeel.domain.events import DomainEvent


@dataclass(frozen=True)
class PhaseStatusChanged(DomainEvent):
    """A phase moved from one status to another."""

    phase_id: str
    initiative_id: str
    previous: str
    status: str


@dataclass(frozen=True)
class TaskStarted(DomainEvent):
    """A task went in progress (its first start, a restart after a crash, a retry)."""

    task_id: str
    project_id: str


@dataclass(frozen=True)
class TaskCompleted(DomainEvent):
    """A task completed; its summary is what its dependents will read as context."""

    task_id: str
    project_id: str
    initiative_id: str | None
    phase_id: str | None


@dataclass(frozen=True)
class TaskReopened(DomainEvent):
    """A completed task went back to pending."""

    task_id: str
    project_id: str


@dataclass(frozen=True)
class TaskCrashed(DomainEvent):
    """The agent working on a task crashed, as far as the task is concerned: recovery found
    its process gone, a coordinator said so (`tasks.record_crash`), or its lease ran out
    and a claim took the task over. `retry_count` is the task's new count; `retried`: the
    task went back to pending, otherwise it was past `tasks.maxCrashRetries` and is now
    blocked (a `TaskNeedsAttention` follows). `agent_id`: the agent that held it."""

    task_id: str
    retry_count: int
    retried: bool
    agent_id: str | None = None


@dataclass(frozen=True)
class TaskFailed(DomainEvent):
    """The agent working on a task gave up (`services.planning.fail_task`): `reason` is
    its own. It counts against `tasks.maxCrashRetries` as a crash does; `retried` as for
    `TaskCrashed`."""

    task_id: str
    project_id: str
    agent_id: str | None
    reason: str
    retry_count: int
    retried: bool


@dataclass(frozen=True)
class TaskNeedsAttention(DomainEvent):
    """A task became `blocked`: moved there by a caller, or by the crash rule when it
    crashed or failed once more than `tasks.maxCrashRetries` allows. `reason` is its
    `blocked_by` ("blocked" when none was given). It stays so until a person retries it
    (`tasks.retry`) or changes it. Its dependents wait with it (`tasks.needing_attention`
    lists them all)."""

    task_id: str
    project_id: str
    retry_count: int
    reason: str


@dataclass(frozen=True)
class TaskAssigned(DomainEvent):
    """An agent took a task (`agent_id` None: the task was released)."""

    task_id: str
    agent_id: str | None
