"""Workflow rules that span aggregates or that an application reads: an approved plan
becoming an implementation workflow; where a workflow's worktree goes and what is done with
its branch, from the `worktree.*` settings."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workflows import (
    ImplementationPlanStep,
    StepType,
    Workflow,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.ports.unit_of_work import UnitOfWork

LOCATION_PATTERN = "worktree.locationPattern"
AUTO_CREATE_BRANCH = "worktree.autoCreateBranch"
AUTO_CLEANUP = "worktree.autoCleanup"
PUSH_ON_COMPLETION = "worktree.pushOnCompletion"
FEATURE_SLUG = "{feature-slug}"
# What a feature name that keeps no ASCII letter or digit becomes.
FALLBACK_FEATURE_SLUG = "feature"
FEATURE_SLUG_MAX_LENGTH = 100


def feature_slug(feature_name: str) -> str:
    """`feature_name` as a path component: accents dropped, lowercase ASCII letters and
    digits, every other run of characters one hyphen, no hyphen at either end, at most 100
    characters; "feature" if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", feature_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug[:FEATURE_SLUG_MAX_LENGTH].rstrip("-")
    return slug or FALLBACK_FEATURE_SLUG


def worktree_path(pattern: str, feature_name: str) -> str:
    """The worktree location `pattern` with every `{feature-slug}` replaced by the slug of
    `feature_name`. A pattern without the placeholder is refused (InvalidValue): every
    workflow would get the same path, and worktree paths are unique."""
    if FEATURE_SLUG not in pattern:
        raise InvalidValue("setting", LOCATION_PATTERN, pattern, f"must contain {FEATURE_SLUG}")
    return pattern.replace(FEATURE_SLUG, feature_slug(feature_name))


@dataclass(frozen=True)
class WorktreePlan:
    """What to do about a workflow's worktree, as the settings say now: where to create it
    (`path`), whether to create its feature branch (`auto_create_branch`), whether to push
    the branch when the workflow completes (`push_on_completion`), and whether the worktree
    is moved to cleaning when the workflow completes (`auto_cleanup`, which the workflow
    repository applies by itself)."""

    path: str
    auto_create_branch: bool
    push_on_completion: bool
    auto_cleanup: bool


def worktree_plan(uow: UnitOfWork, workflow_id: str) -> WorktreePlan:
    """The worktree decisions for a workflow, from its feature name and the `worktree.*`
    settings. Only reads. Raises NotFound, InvalidValue (a location pattern without
    `{feature-slug}`)."""
    workflow = uow.workflows.get(workflow_id)
    settings = uow.settings
    return WorktreePlan(
        path=worktree_path(settings.value_as(LOCATION_PATTERN, str), workflow.feature_name),
        auto_create_branch=settings.value_as(AUTO_CREATE_BRANCH, bool),
        push_on_completion=settings.value_as(PUSH_ON_COMPLETION, bool),
        auto_cleanup=settings.value_as(AUTO_CLEANUP, bool),
    )


def step_type_of(step: ImplementationPlanStep) -> StepType:
    """The workflow step type a plan step becomes: a quality gate, a review, or an
    implementation step."""
    if step.has_quality_gate:
        return StepType.QUALITY_GATE
    if step.has_gemini_review:
        return StepType.GEMINI_REVIEW
    return StepType.IMPLEMENTATION


def start_implementation(
    uow: UnitOfWork, plan_id: str, *, idempotency_key: str | None = None
) -> Workflow:
    """Make an approved plan the steps of a new implementation workflow, in one call.

    The workflow is of the planning workflow's project, its child (`parent_workflow_id`),
    with its feature name, feature request and pause behaviour, in status `created`. It gets
    one step per plan step, in plan order, numbered alike: type `quality_gate`,
    `gemini_review` or `implementation` (`step_type_of`), the step's title and description,
    the agent profile the plan step is assigned (`assigned_agent_id`), and as input the
    description followed by the step's files, one `- <action> <path>: <description>` line
    each.

    With an `idempotency_key`, a repeated call (a retry, also a racing one) returns the
    workflow the first call started, as it is now, and does nothing else.

    Raises NotFound (the plan); Protected if the plan is not approved, or an implementation
    workflow started from it is not cancelled (two units of work starting one plan take
    turns: the second gets the Protected, which a retry would get too); the workflow's and
    steps' own rules' errors. Every
    check of the plan comes before the first write; if a later write is refused, roll the
    unit of work back.
    """
    if idempotency_key is not None:
        first = uow.workflows.created_under(idempotency_key)
        if first is not None:
            return first
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
        ),
        idempotency_key=idempotency_key,
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
