"""Repositories of the workflows context: workflows, the repositories they work on, their
steps, the files they discover and the implementation plans they make.
"""

from agentkeel.repositories.workflows.files import DiscoveredFilesTable
from agentkeel.repositories.workflows.plans import (
    ImplementationPlansTable,
    ImplementationPlanStepFilesTable,
    ImplementationPlanStepsTable,
)
from agentkeel.repositories.workflows.repositories import WorkflowRepositoriesTable
from agentkeel.repositories.workflows.steps import WorkflowStepsTable
from agentkeel.repositories.workflows.workflows import WorkflowsTable

__all__ = [
    "DiscoveredFilesTable",
    "ImplementationPlanStepFilesTable",
    "ImplementationPlanStepsTable",
    "ImplementationPlansTable",
    "WorkflowRepositoriesTable",
    "WorkflowStepsTable",
    "WorkflowsTable",
]
