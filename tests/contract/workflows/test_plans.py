"""Implementation plans: one per planning workflow, approval, an approved plan is final,
the plan becoming an implementation workflow, and the cascades of the plan tables."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.audit import EventCategory, EventSource
from agentkeel.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.workflows import (
    FileAction,
    ImplementationPlan,
    StepType,
    WorkflowStatus,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from agentkeel.services.workflows import start_implementation
from tests import factories
from tests.contract.workflows import plan_data as data


def test_a_plan_of_a_planning_workflow(uow: UnitOfWork) -> None:
    workflow = data.workflow(uow)
    plan = data.plan(uow, workflow, summary="Two steps", estimated_duration_ms=60_000)
    assert plan.approved_at is None and not plan.is_approved
    assert uow.implementation_plans.get(plan.id) == plan
    assert uow.implementation_plans.find_by_workflow(workflow.id) == plan
    assert uow.implementation_plans.find_by_workflow("other") is None


def test_one_plan_per_workflow(uow: UnitOfWork) -> None:
    workflow = data.workflow(uow)
    data.plan(uow, workflow)
    with pytest.raises(AlreadyExists):
        data.plan(uow, workflow, title="Second")
    assert uow.implementation_plans.count() == 1


def test_no_plan_for_an_implementation_workflow(uow: UnitOfWork) -> None:
    workflow = data.workflow(uow, type=WorkflowType.IMPLEMENTATION)
    with pytest.raises(InvalidValue) as caught:
        data.plan(uow, workflow)
    assert caught.value.field == "workflow_id"
    with pytest.raises(ReferenceMissing):
        uow.implementation_plans.add(
            ImplementationPlan(workflow_id="gone", title="t", raw_plan_text="x")
        )
    assert uow.implementation_plans.count() == 0


def test_a_plan_stays_with_its_workflow(uow: UnitOfWork) -> None:
    plan = data.plan(uow)
    plan.workflow_id = data.workflow(uow, uow.projects.list()[0]).id
    with pytest.raises(InvalidValue) as caught:
        uow.implementation_plans.update(plan)
    assert caught.value.field == "workflow_id"


def test_approve(db: Database) -> None:
    with db.unit_of_work() as uow:
        plan = data.plan(uow)
        with pytest.raises(InvalidValue, match="no steps") as caught:
            uow.implementation_plans.approve(plan.id)
        assert caught.value.field == "approved_at"
        # A new plan has no steps: it cannot be added approved either.
        with pytest.raises(InvalidValue, match="no steps"):
            uow.implementation_plans.add(
                ImplementationPlan(
                    workflow_id=data.workflow(uow).id,
                    title="Approved at once",
                    raw_plan_text="1. do it",
                    approved_at=uow.clock.now(),
                )
            )
        data.plan_step(uow, plan)
        uow.commit()
    with db.unit_of_work(source=EventSource.USER) as uow:
        approved = uow.implementation_plans.approve(plan.id)
        assert approved.approved_at is not None and approved.approved_at <= approved.updated_at
        assert uow.implementation_plans.approve(plan.id) == approved  # kept
        uow.commit()
    with db.unit_of_work() as uow:
        [entry] = uow.audit_logs.list(event_type="implementation_plan.approved")
        assert entry.event_category is EventCategory.USER_ACTION
        assert entry.source is EventSource.USER and entry.workflow_id == plan.workflow_id
        assert data.state(entry.before_state)["approved_at"] is None
        with pytest.raises(NotFound):
            uow.implementation_plans.approve("gone")


def test_an_approved_plan_is_final(uow: UnitOfWork) -> None:
    plan = data.plan(uow)
    step = data.plan_step(uow, plan)
    file = data.step_file(uow, step)
    approved = uow.implementation_plans.approve(plan.id)
    approved.title = "Changed"
    with pytest.raises(Protected):
        uow.implementation_plans.update(approved)
    unapproved = uow.implementation_plans.get(plan.id)
    unapproved.approved_at = None
    with pytest.raises(Protected):
        uow.implementation_plans.update(unapproved)
    with pytest.raises(Protected):
        data.plan_step(uow, plan, "More")
    step.title = "Changed"
    with pytest.raises(Protected):
        uow.implementation_plan_steps.update(step)
    with pytest.raises(Protected):
        uow.implementation_plan_steps.delete(step.id)
    with pytest.raises(Protected):
        uow.implementation_plan_steps.reorder(plan.id, [step.id])
    with pytest.raises(Protected):
        data.step_file(uow, step, "other.py")
    with pytest.raises(Protected):
        uow.implementation_plan_step_files.delete(file.id)
    assert data.numbers(uow, plan) == [("Do", 1, 0)]
    # An unchanged write is no change, and the plan can still be deleted.
    assert uow.implementation_plans.update(uow.implementation_plans.get(plan.id)).is_approved
    removed = uow.implementation_plans.delete(plan.id)
    assert removed == {
        "implementation_plans": 1,
        "implementation_plan_steps": 1,
        "implementation_plan_step_files": 1,
    }


def test_step_files(uow: UnitOfWork) -> None:
    plan = data.plan(uow)
    step = data.plan_step(uow, plan)
    other = data.plan_step(uow, plan, "Other")
    b = data.step_file(uow, step, "b.py", order_index=1)
    a = data.step_file(uow, step, "a.py", order_index=1, action=FileAction.CREATE)
    z = data.step_file(uow, step, "z.py")
    data.step_file(uow, other, "else.py")
    assert a.action is FileAction.CREATE and z.action is FileAction.MODIFY
    assert uow.implementation_plan_step_files.find_by_plan_step(step.id) == [z, a, b]
    assert uow.implementation_plan_step_files.find_by_plan_step("gone") == []
    z.plan_step_id = other.id
    with pytest.raises(InvalidValue) as caught:
        uow.implementation_plan_step_files.update(z)
    assert caught.value.field == "plan_step_id"


def _approved_plan(uow: UnitOfWork) -> tuple[ImplementationPlan, list[str]]:
    owner = data.project(uow)
    planning = data.workflow(uow, owner, feature_name="Search", feature_request="Find things")
    plan = data.plan(uow, planning)
    coder = factories.profile(uow, "coder")
    other = factories.profile(uow, "other")
    first = data.plan_step(uow, plan, "Model", description="Add the model", agent_id=coder.id)
    data.step_file(uow, first, "models.py", action=FileAction.CREATE, description="new")
    data.step_file(uow, first, "db.py", order_index=1)
    gate = data.plan_step(uow, plan, "Gate", quality_gate_at=uow.clock.now())
    review = data.plan_step(uow, plan, "Review", gemini_review_at=uow.clock.now())
    uow.implementation_plan_steps.override_agent(review.id, other.id)
    uow.implementation_plan_steps.move(gate.id, 3)
    uow.implementation_plans.approve(plan.id)
    return plan, [coder.id, other.id]


def test_start_implementation(uow: UnitOfWork) -> None:
    plan, (coder, other) = _approved_plan(uow)
    planning = uow.workflows.get(plan.workflow_id)
    workflow = start_implementation(uow, plan.id)
    assert workflow.type is WorkflowType.IMPLEMENTATION
    assert workflow.status is WorkflowStatus.CREATED
    assert workflow.parent_workflow_id == planning.id
    assert workflow.project_id == planning.project_id
    assert (workflow.feature_name, workflow.feature_request) == ("Search", "Find things")
    assert workflow.pause_behavior is planning.pause_behavior
    steps = sorted(
        (s for s in _steps(uow) if s.workflow_id == workflow.id), key=lambda s: s.step_number
    )
    assert [(s.step_number, s.title, s.step_type, s.agent_id) for s in steps] == [
        (1, "Model", StepType.IMPLEMENTATION, coder),
        (2, "Review", StepType.GEMINI_REVIEW, other),
        (3, "Gate", StepType.QUALITY_GATE, None),
    ]
    assert steps[0].input_text == "Add the model\n- create models.py: new\n- modify db.py"
    assert steps[1].input_text is None
    assert {s.status.value for s in steps} == {"pending"}


def _steps(uow: UnitOfWork) -> list[WorkflowStep]:
    """Every workflow step, read below the ports (their finders belong to another issue)."""
    rows = data.below_ports(uow).store.select(table_of(WorkflowStep))
    return [WorkflowStep.from_row(row) for row in rows]


def test_start_implementation_refusals(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound):
        start_implementation(uow, "gone")
    pending = data.plan(uow)
    data.plan_step(uow, pending)
    # Refusals a retry cannot lift: not Conflicts.
    with pytest.raises(Protected, match="not approved"):
        start_implementation(uow, pending.id)
    plan, _ = _approved_plan(uow)
    first = start_implementation(uow, plan.id)
    workflows = uow.workflows.count()
    with pytest.raises(Protected, match="implemented already") as caught:
        start_implementation(uow, plan.id)
    assert not isinstance(caught.value, Conflict)
    assert uow.workflows.count() == workflows
    first.status = WorkflowStatus.CANCELLED
    uow.workflows.update(first)
    second = start_implementation(uow, plan.id)
    assert second.id != first.id and second.parent_workflow_id == plan.workflow_id


def test_cascades(uow: UnitOfWork) -> None:
    """workflows -> implementation_plans -> steps -> files CASCADE; agent profiles -> plan
    steps' agent_id and agent_override_id SET NULL; the implementation workflow's parent
    SET NULL."""
    plan, (coder, other) = _approved_plan(uow)
    child = start_implementation(uow, plan.id)
    uow.agent_profiles.delete(coder)
    uow.agent_profiles.delete(other)
    steps = uow.implementation_plan_steps.find_by_plan(plan.id)
    assert [(s.agent_id, s.agent_override_id) for s in steps] == [(None, None)] * 3
    removed = uow.workflows.delete(plan.workflow_id)
    assert removed["implementation_plans"] == 1
    assert removed["implementation_plan_steps"] == 3
    assert removed["implementation_plan_step_files"] == 2
    assert uow.implementation_plans.count() == 0
    assert uow.implementation_plan_steps.count() == 0
    assert uow.implementation_plan_step_files.count() == 0
    assert uow.workflows.get(child.id).parent_workflow_id is None


def test_plan_step_delete_removes_its_files(uow: UnitOfWork) -> None:
    plan = data.plan(uow)
    step = data.plan_step(uow, plan)
    data.step_file(uow, step, "a.py")
    data.step_file(uow, step, "b.py")
    assert uow.implementation_plan_steps.delete(step.id) == {
        "implementation_plan_steps": 1,
        "implementation_plan_step_files": 2,
    }
    assert uow.implementation_plan_step_files.count() == 0
