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
    DiscoveredFile,
    FileAction,
    FilePriority,
    StepStatus,
    StepType,
    WorkflowStep,
)
from agentkeel.domain.workflows.workflows import (
    PauseBehavior,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStatus,
    WorkflowType,
)

__all__ = [
    "DiscoveredFile",
    "FileAction",
    "FilePriority",
    "ImplementationPlan",
    "ImplementationPlanStep",
    "ImplementationPlanStepFile",
    "PauseBehavior",
    "StepStatus",
    "StepType",
    "Workflow",
    "WorkflowRepositoryLink",
    "WorkflowStatus",
    "WorkflowStep",
    "WorkflowType",
]
