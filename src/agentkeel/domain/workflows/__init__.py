"""The workflows context: planning and implementation pipelines, their repositories, steps,
discovered files and implementation plans.

One module per aggregate; everything is importable from this package."""

from __future__ import annotations

from agentkeel.domain.workflows.plans import (
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
)
from agentkeel.domain.workflows.steps import (
    ENDED_STEP_STATUSES,
    GATE_STEP_TYPES,
    STEP_TIMEOUT_SETTINGS,
    DiscoveredFile,
    FileAction,
    FilePriority,
    ProcessId,
    StepStatus,
    StepType,
    WorkflowStep,
    pauses_after_step,
    pauses_on_failure,
)
from agentkeel.domain.workflows.workflows import (
    ACTIVE_WORKFLOW_STATUSES,
    ENDED_WORKFLOW_STATUSES,
    PauseBehavior,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStatus,
    WorkflowType,
)

__all__ = [
    "ACTIVE_WORKFLOW_STATUSES",
    "ENDED_STEP_STATUSES",
    "ENDED_WORKFLOW_STATUSES",
    "GATE_STEP_TYPES",
    "STEP_TIMEOUT_SETTINGS",
    "DiscoveredFile",
    "FileAction",
    "FilePriority",
    "ImplementationPlan",
    "ImplementationPlanStep",
    "ImplementationPlanStepFile",
    "PauseBehavior",
    "ProcessId",
    "StepStatus",
    "StepType",
    "Workflow",
    "WorkflowRepositoryLink",
    "WorkflowStatus",
    "WorkflowStep",
    "WorkflowType",
    "pauses_after_step",
    "pauses_on_failure",
]
