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
    """The agent working on a task crashed. `retried`: the task went back to pending
    (`retry_count` is the new count); otherwise the limit was reached and it stays in
    progress, and a `TaskNeedsAttention` follows."""

    task_id: str
    retry_count: int
    retried: bool


@dataclass(frozen=True)
class TaskNeedsAttention(DomainEvent):
    """A task's agent crashed once more than `tasks.maxCrashRetries` allows: the task is
    left in progress for a person, who retries it (`tasks.retry`) or changes it."""

    task_id: str
    project_id: str
    retry_count: int
    reason: str


@dataclass(frozen=True)
class TaskAssigned(DomainEvent):
    """An agent took a task (`agent_id` None: the task was released)."""

    task_id: str
    agent_id: str | None
