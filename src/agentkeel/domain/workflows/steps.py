"""Steps of a workflow (Claude Orchestrator) and the files a step discovered."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, assert_never

from pydantic import Strict

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import (
    Count,
    Description,
    Id,
    IndexedPath,
    Integer,
    IntRule,
    Json,
    LongText,
    Name,
    UtcDateTime,
)
from agentkeel.domain.workflows.workflows import Milliseconds, PauseBehavior


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

# A process id as the operating system hands them out: a positive C `int` (`pid_t`). 0 and
# negative numbers name process groups to `kill`, never one process.
ProcessId = Annotated[int, Strict(), IntRule(minimum=1, maximum=2**31 - 1)]

# Steps that have run their course (`completed_at` is stamped on completion and failure).
ENDED_STEP_STATUSES = frozenset({_S.COMPLETED, _S.FAILED, _S.SKIPPED})
# The steps before which `gates_only` pauses.
GATE_STEP_TYPES = frozenset({StepType.QUALITY_GATE, StepType.GEMINI_REVIEW})

# The setting holding each step type's timeout, in seconds (CO's seven timeouts). CO names
# none for `routing`: routing picks the agents for the steps of the plan that the planning
# step just wrote, as the planning step's last act, so it runs under the planning timeout.
STEP_TIMEOUT_SETTINGS: dict[StepType, str] = {
    StepType.CLARIFICATION: "workflow.clarificationTimeout",
    StepType.REFINEMENT: "workflow.refinementTimeout",
    StepType.DISCOVERY: "workflow.discoveryTimeout",
    StepType.PLANNING: "workflow.planningTimeout",
    StepType.ROUTING: "workflow.planningTimeout",
    StepType.IMPLEMENTATION: "workflow.implementationTimeout",
    StepType.QUALITY_GATE: "workflow.qualityGateTimeout",
    StepType.GEMINI_REVIEW: "workflow.geminiReviewTimeout",
}


def pauses_after_step(behavior: PauseBehavior, next_step: StepType | None) -> bool:
    """Whether a running workflow pauses once a step completes, `next_step` being the type
    of its next pending step (None when none is left: nothing to pause before, the
    workflow is left running for its orchestrator to complete). `continuous` never pauses,
    `auto_pause` pauses after every step, `gates_only` only before a quality gate or a
    review."""
    if next_step is None:
        return False
    match behavior:
        case PauseBehavior.CONTINUOUS:
            return False
        case PauseBehavior.AUTO_PAUSE:
            return True
        case PauseBehavior.GATES_ONLY:
            return next_step in GATE_STEP_TYPES
        case _:
            assert_never(behavior)


def pauses_on_failure(behavior: PauseBehavior) -> bool:
    """Whether a running workflow pauses when one of its steps fails (for a person to retry
    the step or give up); otherwise (`continuous`, where no person is watching) the
    workflow fails with the step's error."""
    match behavior:
        case PauseBehavior.CONTINUOUS:
            return False
        case PauseBehavior.AUTO_PAUSE | PauseBehavior.GATES_ONLY:
            return True
        case _:
            assert_never(behavior)


class WorkflowStep(Timestamped):
    """A step of a workflow, done by an agent profile (`agent_id`: what kind of agent, not
    which process). Status: pending -> running | skipped; running -> paused |
    editing | completed | failed; paused -> running; editing -> running | completed; failed
    -> running (a retry, `retry_count` + 1). No step of an ended workflow (completed,
    failed, cancelled) changes status. Editing the output keeps the first
    `original_output_text` and stamps `output_edited_at`. `step_number` is unique within
    the workflow. `started_at` is stamped when it first runs; `completed_at` and
    `duration_ms` when it completes or fails (cleared by a retry); `cli_output` and
    `cli_exit_code` are kept only while the setting `logging.includeCliOutput` is true.

    The runner says who runs the step's current run: an agent (`runner_agent_id`, a row of
    `agents`), a process of the host (`runner_pid`), or both. Each run names its own when it
    starts; once the step has left running the runner stays, as the record of who ran the
    last run. Recovery fails a running step whose runner is gone and never touches one
    without a runner."""

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
    runner_agent_id: Id | None = None
    runner_pid: ProcessId | None = None

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
