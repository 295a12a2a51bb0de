"""Tasks (Codewalkers + Nexus, one table) and the dependencies between them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, RowVersion, Timestamped
from agentkeel.domain.fields import (
    BranchName,
    Count,
    Description,
    FilePath,
    Id,
    Integer,
    IntRule,
    LongText,
    Name,
    UtcDateTime,
)

Minutes = Annotated[int, Strict(), IntRule(minimum=0, maximum=10_000_000)]


class TaskType(StrEnum):
    """003 stands: `auto` only (001's `checkpoint:*` types went with task approval)."""

    AUTO = "auto"


class TaskCategory(StrEnum):
    EXECUTE = "execute"
    RESEARCH = "research"
    DISCUSS = "discuss"
    PLAN = "plan"
    DETAIL = "detail"
    REFINE = "refine"
    VERIFY = "verify"
    MERGE = "merge"
    REVIEW = "review"


class TaskPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TaskStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"


class TaskSize(StrEnum):
    """Nexus: an atomic task is not decomposed further."""

    ATOMIC = "atomic"
    SMALL = "small"


_S = TaskStatus


class Task(Timestamped):
    """A task of a project, optionally in an initiative, a phase and under a parent task.

    Status (docs/lifecycle.md): pending -> in_progress -> completed; in_progress -> pending
    or blocked (an attempt that ended without completing it: a crash, a lease taken over, a
    failure; blocked past `tasks.maxCrashRetries`); pending -> blocked (`blocked_by` says
    why) -> pending; completed -> pending (reopened). `started_at` is stamped when it first
    starts, `completed_at` when it completes (and cleared when it is reopened); leaving
    blocked clears `blocked_by`. `summary` is what its agent reported; dependents read it as
    context. `retry_count` counts the attempts that ended without completing it since the
    last manual retry; `qa_iterations` never exceeds `max_iterations`. `claimed_until` is
    the claiming agent's lease, cleared when the task leaves in_progress or its agent.
    """

    transitions = {
        "status": {
            _S.PENDING: frozenset({_S.IN_PROGRESS, _S.BLOCKED}),
            _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.PENDING, _S.BLOCKED}),
            _S.BLOCKED: frozenset({_S.PENDING}),
            _S.COMPLETED: frozenset({_S.PENDING}),
        }
    }

    project_id: Id
    initiative_id: Id | None = None
    phase_id: Id | None = None
    parent_task_id: Id | None = None
    assigned_agent_id: Id | None = None
    name: Name
    description: LongText | None = None
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    status: TaskStatus = TaskStatus.PENDING
    order_index: Integer = 0
    summary: LongText | None = None
    retry_count: Count = 0
    size: TaskSize = TaskSize.SMALL
    worktree_path: FilePath | None = None
    branch_name: BranchName | None = None
    blocked_by: Description | None = None
    qa_iterations: Count = 0
    max_iterations: Count = 50
    estimated_minutes: Minutes | None = 15
    actual_minutes: Minutes | None = None
    started_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    # The lease of the agent that claimed it (`claim_next_ready`): past it, the task is
    # claimable again. Only an in-progress task held by an agent has one.
    claimed_until: UtcDateTime | None = None
    # The backlog feature and sub-feature it implements (Nexus).
    feature_id: Id | None = None
    sub_feature_id: Id | None = None


class TaskDependency(Entity):
    """`task_id` waits for `depends_on_task_id`. Both are tasks of one project, the pair is
    unique, and the dependencies form a DAG."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"

    task_id: Id
    depends_on_task_id: Id
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1
