"""Repositories of the workflows context: only what is particular to each aggregate."""

from __future__ import annotations

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.domain.workflows import (
    DiscoveredFile,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStep,
)


class WorkflowRepository(TableRepository[Workflow]):
    entity = Workflow


class WorkflowRepositoryLinkRepository(TableRepository[WorkflowRepositoryLink]):
    entity = WorkflowRepositoryLink


class WorkflowStepRepository(TableRepository[WorkflowStep]):
    entity = WorkflowStep


class DiscoveredFileRepository(TableRepository[DiscoveredFile]):
    entity = DiscoveredFile


class ImplementationPlanRepository(TableRepository[ImplementationPlan]):
    entity = ImplementationPlan


class ImplementationPlanStepRepository(TableRepository[ImplementationPlanStep]):
    entity = ImplementationPlanStep


class ImplementationPlanStepFileRepository(TableRepository[ImplementationPlanStepFile]):
    entity = ImplementationPlanStepFile
