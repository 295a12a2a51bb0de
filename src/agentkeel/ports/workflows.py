"""Ports of the workflows context."""

from __future__ import annotations

from typing import Protocol

from agentkeel.domain.workflows import (
    DiscoveredFile,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStep,
)
from agentkeel.ports.base import EntityRepository


class Workflows(EntityRepository[Workflow], Protocol):
    """Planning and implementation workflows of projects."""


class WorkflowRepositories(EntityRepository[WorkflowRepositoryLink], Protocol):
    """The git repositories workflows work in (one primary)."""


class WorkflowSteps(EntityRepository[WorkflowStep], Protocol):
    """Steps of workflows."""


class DiscoveredFiles(EntityRepository[DiscoveredFile], Protocol):
    """Files discovery steps found."""


class ImplementationPlans(EntityRepository[ImplementationPlan], Protocol):
    """Plans of planning workflows."""


class ImplementationPlanSteps(EntityRepository[ImplementationPlanStep], Protocol):
    """Steps of implementation plans."""


class ImplementationPlanStepFiles(EntityRepository[ImplementationPlanStepFile], Protocol):
    """Files of implementation plan steps."""
