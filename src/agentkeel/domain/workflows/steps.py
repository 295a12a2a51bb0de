"""Steps of a workflow (Claude Orchestrator) and the files a step discovered."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import (
    Count,
    Description,
    Id,
    IndexedPath,
    Integer,
    Json,
    LongText,
    Name,
    UtcDateTime,
)
from agentkeel.domain.workflows.workflows import Milliseconds


class StepType(StrEnum):
    CLARIFICATION = "clarification"
    REFINEMENT = "refinement"
    DISCOVERY = "discovery"
    PLANNING = "planning"
    ROUTING = "routing"
    IMPLEMENTATION = "implementation"
    QUALITY_GATE = "quality_gate"
    GEMINI_REVIEW = "gemini_review"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    EDITING = "editing"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


_S = StepStatus


class WorkflowStep(Timestamped):
    """A step of a workflow, run by an agent profile (`agent_id`). Status (DESIGN.md):
    pending -> running | skipped; running -> paused | editing | completed | failed; paused ->
    running; editing -> running | completed; failed -> running (a retry, `retry_count` + 1).
    Editing the output keeps the first `original_output_text` and stamps
    `output_edited_at`. `step_number` is unique within the workflow."""

    transitions = {
        "status": {
            _S.PENDING: frozenset({_S.RUNNING, _S.SKIPPED}),
            _S.RUNNING: frozenset({_S.PAUSED, _S.EDITING, _S.COMPLETED, _S.FAILED}),
            _S.PAUSED: frozenset({_S.RUNNING}),
            _S.EDITING: frozenset({_S.RUNNING, _S.COMPLETED}),
            _S.FAILED: frozenset({_S.RUNNING}),
            _S.COMPLETED: frozenset(),
            _S.SKIPPED: frozenset(),
        }
    }

    workflow_id: Id
    agent_id: Id | None = None
    step_type: StepType
    step_number: Count
    title: Name
    description: Description | None = None
    status: StepStatus = StepStatus.PENDING
    input_text: LongText | None = None
    output_text: LongText | None = None
    output_structured: Json | None = None
    original_output_text: LongText | None = None
    output_edited_at: UtcDateTime | None = None
    cli_output: LongText | None = None
    cli_exit_code: Integer | None = None
    error_message: Description | None = None
    retry_count: Count = 0
    started_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    duration_ms: Milliseconds | None = None

    is_output_edited: ClassVar[Flag] = Flag("output_edited_at")


class FilePriority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class FileAction(StrEnum):
    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"


class DiscoveredFile(Timestamped):
    """A file a discovery step found, unique by path within the step. Included on discovery
    unless excluded (`included_at` null = excluded); the user's first priority change keeps
    the discovered one in `original_priority`."""

    workflow_step_id: Id
    file_path: IndexedPath
    priority: FilePriority = FilePriority.MEDIUM
    original_priority: FilePriority | None = None
    description: Description | None = None
    action: FileAction = FileAction.MODIFY
    order_index: Integer = 0
    file_exists_at: UtcDateTime | None = None
    included_at: UtcDateTime | None = None
    user_added_at: UtcDateTime | None = None
    user_modified_at: UtcDateTime | None = None

    file_exists: ClassVar[Flag] = Flag("file_exists_at")
    is_included: ClassVar[Flag] = Flag("included_at")
    is_user_added: ClassVar[Flag] = Flag("user_added_at")
    is_user_modified: ClassVar[Flag] = Flag("user_modified_at")
