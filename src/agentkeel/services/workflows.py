"""Workflow rules that span aggregates: an approved plan becoming an implementation
workflow."""

from __future__ import annotations

from agentkeel.domain.workflows import (
    ImplementationPlanStep,
    StepType,
    Workflow,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.ports.unit_of_work import UnitOfWork


def step_type_of(step: ImplementationPlanStep) -> StepType:
    """The workflow step type a plan step becomes: a quality gate, a review, or an
    implementation step."""
    if step.has_quality_gate:
        return StepType.QUALITY_GATE
    if step.has_gemini_review:
        return StepType.GEMINI_REVIEW
    return StepType.IMPLEMENTATION


def start_implementation(uow: UnitOfWork, plan_id: str) -> Workflow:
    """Make an approved plan the steps of a new implementation workflow, in one call.

    The workflow is of the planning workflow's project, its child (`parent_workflow_id`),
    with its feature name, feature request and pause behaviour, in status `created`. It gets
    one step per plan step, in plan order, numbered alike: type `quality_gate`,
    `gemini_review` or `implementation` (`step_type_of`), the step's title and description,
    the agent profile the plan step is assigned (`assigned_agent_id`), and as input the
    description followed by the step's files, one `- <action> <path>: <description>` line
    each.

    Raises NotFound (the plan); Conflict if the plan is not approved, or an implementation
    workflow started from it is not cancelled (two units of work starting one plan take
    turns: the second gets the Conflict); the workflow's and steps' own rules' errors. Every
    check of the plan comes before the first write; if a later write is refused, roll the
    unit of work back.
    """
    plan = uow.implementation_plans.claim_for_implementation(plan_id)
    planning = uow.workflows.get(plan.workflow_id)
    plan_steps = uow.implementation_plan_steps.find_by_plan(plan.id)
    workflow = uow.workflows.add(
        Workflow(
            project_id=planning.project_id,
            parent_workflow_id=planning.id,
            type=WorkflowType.IMPLEMENTATION,
            feature_name=planning.feature_name,
            feature_request=planning.feature_request,
            pause_behavior=planning.pause_behavior,
        )
    )
    for plan_step in plan_steps:
        uow.workflow_steps.add(
            WorkflowStep(
                workflow_id=workflow.id,
                agent_id=plan_step.assigned_agent_id,
                step_type=step_type_of(plan_step),
                step_number=plan_step.step_number,
                title=plan_step.title,
                description=plan_step.description,
                input_text=_input_of(uow, plan_step),
            )
        )
    return uow.workflows.get(workflow.id)


def _input_of(uow: UnitOfWork, step: ImplementationPlanStep) -> str | None:
    lines = [step.description] if step.description else []
    for file in uow.implementation_plan_step_files.find_by_plan_step(step.id):
        described = f": {file.description}" if file.description else ""
        lines.append(f"- {file.action.value} {file.file_path}{described}")
    return "\n".join(lines) or None
