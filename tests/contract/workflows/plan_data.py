"""Builders for the discovered-files and implementation-plan tests; each stores the entity
and returns it as stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Table

from agentkeel.domain.workflows import (
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    StepType,
    Workflow,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.repositories.unit_of_work import BaseUnitOfWork
from agentkeel.schema import table_of


def project(uow: UnitOfWork, name: str = "Keel") -> Project:
    return uow.projects.add(Project(name=name))


def workflow(
    uow: UnitOfWork,
    owner: Project | None = None,
    type: WorkflowType = WorkflowType.PLANNING,
    **fields: Any,
) -> Workflow:
    owner = owner or project(uow)
    fields.setdefault("feature_name", "Login page")
    fields.setdefault("feature_request", "Let users log in")
    return uow.workflows.add(Workflow(project_id=owner.id, type=type, **fields))


def step(
    uow: UnitOfWork,
    owner: Workflow | None = None,
    number: int = 1,
    step_type: StepType = StepType.DISCOVERY,
    **fields: Any,
) -> WorkflowStep:
    owner = owner or workflow(uow)
    fields.setdefault("title", f"Step {number}")
    return uow.workflow_steps.add(
        WorkflowStep(workflow_id=owner.id, step_type=step_type, step_number=number, **fields)
    )


def plan(uow: UnitOfWork, owner: Workflow | None = None, **fields: Any) -> ImplementationPlan:
    owner = owner or workflow(uow)
    fields.setdefault("title", "Plan")
    fields.setdefault("raw_plan_text", "1. do it")
    return uow.implementation_plans.add(ImplementationPlan(workflow_id=owner.id, **fields))


def plan_step(
    uow: UnitOfWork, owner: ImplementationPlan, title: str = "Do", **fields: Any
) -> ImplementationPlanStep:
    """A step appended to the plan."""
    return uow.implementation_plan_steps.append(
        ImplementationPlanStep(plan_id=owner.id, step_number=1, title=title, **fields)
    )


def step_file(
    uow: UnitOfWork, owner: ImplementationPlanStep, path: str = "src/app.py", **fields: Any
) -> ImplementationPlanStepFile:
    return uow.implementation_plan_step_files.add(
        ImplementationPlanStepFile(plan_step_id=owner.id, file_path=path, **fields)
    )


def numbers(uow: UnitOfWork, owner: ImplementationPlan) -> list[tuple[str, int, int]]:
    """(title, step_number, order_index) of the plan's steps in order."""
    return [
        (s.title, s.step_number, s.order_index)
        for s in uow.implementation_plan_steps.find_by_plan(owner.id)
    ]


SECOND = timedelta(seconds=1)


def below_ports(uow: UnitOfWork) -> BaseUnitOfWork:
    """The unit of work's adapter, for what is below the ports (`add_many`, raw rows)."""
    assert isinstance(uow, BaseUnitOfWork)
    return uow


def state(value: object) -> dict[str, Any]:
    """An audit entry's before or after state, which must be there."""
    assert isinstance(value, dict)
    return value


def workflows_table() -> Table:
    return table_of(Workflow)
