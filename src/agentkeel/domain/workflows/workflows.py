"""Workflows (Claude Orchestrator): a planning or implementation pipeline of steps, and the
git repositories it works in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, Strict

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, Flag, RowVersion, Timestamped
from agentkeel.domain.fields import Count, Description, Id, IntRule, LongText, Name, UtcDateTime

Milliseconds = Annotated[int, Strict(), IntRule(minimum=0)]


class WorkflowType(StrEnum):
    PLANNING = "planning"
    IMPLEMENTATION = "implementation"


class WorkflowStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    EDITING = "editing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PauseBehavior(StrEnum):
    """`continuous` never pauses between steps, `auto_pause` pauses after every step,
    `gates_only` pauses only before quality-gate and review steps and on failure."""

    CONTINUOUS = "continuous"
    AUTO_PAUSE = "auto_pause"
    GATES_ONLY = "gates_only"


_S = WorkflowStatus

# The statuses in which a workflow holds one of the `workflow.maxConcurrentImplementations`
# slots (when it is an implementation workflow).
ACTIVE_WORKFLOW_STATUSES = frozenset({_S.RUNNING, _S.PAUSED, _S.EDITING})
# The statuses that end a run: `completed_at` and `duration_ms` are stamped on entering one.
ENDED_WORKFLOW_STATUSES = frozenset({_S.COMPLETED, _S.FAILED, _S.CANCELLED})


class Workflow(Timestamped):
    """A pipeline run for a feature request. Status: created -> running |
    cancelled; running -> paused | editing | completed | failed | cancelled; paused ->
    running | editing | cancelled; editing -> running | paused | cancelled; failed -> running
    (a retry) | cancelled; completed and cancelled are final. Its worktree is found through
    `worktrees.workflow_id` (one truth, no foreign-key cycle).

    `started_at` is stamped when it first runs; `completed_at` and `duration_ms` (from
    `started_at`) when it completes, fails or is cancelled, and cleared by a retry.
    `current_step_number` and `total_steps` are kept by its steps' repository."""

    transitions = {
        "status": {
            _S.CREATED: frozenset({_S.RUNNING, _S.CANCELLED}),
            _S.RUNNING: frozenset({_S.PAUSED, _S.EDITING, _S.COMPLETED, _S.FAILED, _S.CANCELLED}),
            _S.PAUSED: frozenset({_S.RUNNING, _S.EDITING, _S.CANCELLED}),
            _S.EDITING: frozenset({_S.RUNNING, _S.PAUSED, _S.CANCELLED}),
            _S.FAILED: frozenset({_S.RUNNING, _S.CANCELLED}),
            _S.COMPLETED: frozenset(),
            _S.CANCELLED: frozenset(),
        }
    }

    project_id: Id
    parent_workflow_id: Id | None = None
    type: WorkflowType
    status: WorkflowStatus = WorkflowStatus.CREATED
    feature_name: Name
    feature_request: LongText
    pause_behavior: PauseBehavior = PauseBehavior.AUTO_PAUSE
    current_step_number: Count | None = 0
    total_steps: Count | None = None
    error_message: Description | None = None
    started_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    duration_ms: Milliseconds | None = None
    archived_at: UtcDateTime | None = None

    is_archived: ClassVar[Flag] = Flag("archived_at")

    def archive(self, at: datetime) -> None:
        self._raise_flag("archived_at", at)

    def unarchive(self) -> None:
        self._lower_flag("archived_at")

    @property
    def is_active(self) -> bool:
        """Running, paused or editing: it holds a slot if it is an implementation."""
        return self.status in ACTIVE_WORKFLOW_STATUSES


class WorkflowRepositoryLink(Entity):
    """A git repository a workflow works in; exactly one of a workflow's repositories is
    its primary (`set_primary_at`) whenever any is linked."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"

    workflow_id: Id
    repository_id: Id
    set_primary_at: UtcDateTime | None = None
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1

    is_primary: ClassVar[Flag] = Flag("set_primary_at")
