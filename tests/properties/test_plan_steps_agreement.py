"""Implementation plan steps agree on every backend and stay numbered 1..n.

A hypothesis state machine adds steps at random positions (inside, at the end, and out of
range), appends, deletes, moves (to valid and invalid numbers), reorders (with random
permutations, and with id lists that drop, repeat or borrow a step), edits titles, agent
overrides and gate/review flags, approves plans and starts their implementation workflows,
each in its own unit of work, on every backend. After each step: the same result or error
everywhere, the same contents everywhere, every plan's steps numbered 1..n without gaps or
repeats with `order_index` = `step_number` - 1, approved plans unchanged since approval and
never empty.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    invariant,
    multiple,
    rule,
)

from agentkeel.database import Database
from agentkeel.domain.agents import AgentProfile, ProfileType
from agentkeel.domain.workflows import (
    ImplementationPlan,
    ImplementationPlanStep,
    Workflow,
    WorkflowType,
)
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.workflows import start_implementation
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

Row = dict[str, Any]


PROFILES = ("profile-1", "profile-2")
FLAGGED = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = (
    "workflows",
    "workflow_steps",
    "implementation_plans",
    "implementation_plan_steps",
    "implementation_plan_step_files",
)


class PlanStepsAgreement(AgreementMachine):
    compared_tables = TABLES  # and audit_logs
    plans = Bundle("plans")
    steps = Bundle("steps")

    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__(open_backends)
        self.approved: dict[str, list[Row]] = {}

        def setup(uow: UnitOfWork) -> None:
            uow.projects.add(Project(id="project-1", name="Keel"))
            for profile in PROFILES:
                uow.agent_profiles.add(
                    AgentProfile(
                        id=profile,
                        name=profile,
                        display_name=profile,
                        type=ProfileType.SPECIALIST,
                        system_prompt="p",
                    )
                )

        self.run(setup)

    def memory_steps(self, plan: str) -> list[str]:
        with self.dbs["memory"].unit_of_work(read_only=True) as uow:
            return [s.id for s in uow.implementation_plan_steps.find_by_plan(plan)]

    # -- plans ------------------------------------------------------------------------------

    @rule(target=plans, implementation=st.booleans())
    def new_plan(self, implementation: bool) -> Any:
        kind = WorkflowType.IMPLEMENTATION if implementation else WorkflowType.PLANNING
        workflow = Workflow(
            project_id="project-1", type=kind, feature_name="f", feature_request="r"
        )
        plan = ImplementationPlan(workflow_id=workflow.id, title="plan", raw_plan_text="text")

        def add(uow: UnitOfWork) -> ImplementationPlan:
            uow.workflows.add(workflow)
            return uow.implementation_plans.add(plan)

        outcome = self.run(add)
        return outcome[1]["id"] if outcome[0] == "ok" else multiple()

    @rule(plan=plans)
    def approve(self, plan: str) -> None:
        self.run(lambda uow: uow.implementation_plans.approve(plan))

    @rule(plan=plans)
    def start(self, plan: str) -> None:
        self.run(lambda uow: start_implementation(uow, plan))

    # -- steps ------------------------------------------------------------------------------

    @rule(
        target=steps,
        plan=plans,
        number=st.integers(0, 8),
        agent=st.sampled_from([None, *PROFILES]),
        gate=st.sampled_from([None, "quality", "review", "both"]),
    )
    def add_step(self, plan: str, number: int, agent: str | None, gate: str | None) -> Any:
        def build() -> ImplementationPlanStep:
            at = FLAGGED
            return ImplementationPlanStep(
                plan_id=plan,
                step_number=number,
                title=f"step {number}",
                agent_id=agent,
                quality_gate_at=at if gate in ("quality", "both") else None,
                gemini_review_at=at if gate in ("review", "both") else None,
            )

        return self.created(build, lambda uow, step: uow.implementation_plan_steps.add(step))

    @rule(target=steps, plan=plans)
    def append_step(self, plan: str) -> Any:
        return self.created(
            lambda: ImplementationPlanStep(plan_id=plan, step_number=1, title="appended"),
            lambda uow, step: uow.implementation_plan_steps.append(step),
        )

    @rule(step=steps)
    def delete_step(self, step: str) -> None:
        outcome = self.run(lambda uow: uow.implementation_plan_steps.delete(step))
        assert outcome[0] == "ok" or outcome[1] in ("Protected", "NotFound"), outcome

    @rule(step=steps, number=st.integers(0, 8))
    def move_step(self, step: str, number: int) -> None:
        outcome = self.run(lambda uow: uow.implementation_plan_steps.move(step, number))
        if outcome[0] == "error" and outcome[1] == "InvalidValue":
            with self.dbs["memory"].unit_of_work(read_only=True) as uow:
                plan = uow.implementation_plan_steps.get(step).plan_id
            assert not 1 <= number <= len(self.memory_steps(plan)), outcome

    @rule(
        plan=plans,
        seed=st.integers(0, 2**16),
        spoil=st.sampled_from([None, None, "drop", "repeat", "borrow"]),
        other=steps,
    )
    def reorder(self, plan: str, seed: int, spoil: str | None, other: str) -> None:
        order = self.memory_steps(plan)
        random.Random(seed).shuffle(order)
        if spoil == "drop" and order:
            order.pop()
        elif spoil == "repeat" and order:
            order.append(order[0])
        elif spoil == "borrow" and other not in order:
            order = [*order[1:], other]
        outcome = self.run(lambda uow: uow.implementation_plan_steps.reorder(plan, order))
        if spoil is None:
            # A permutation of the plan's steps is refused only for an approved plan.
            assert outcome[0] == "ok" or outcome[1] == "Protected", outcome

    @rule(step=steps, title=st.sampled_from(["a", "b", "renamed"]))
    def edit_title(self, step: str, title: str) -> None:
        def edit(uow: UnitOfWork) -> ImplementationPlanStep:
            found = uow.implementation_plan_steps.get(step)
            found.title = title
            return uow.implementation_plan_steps.update(found)

        self.run(edit)

    @rule(step=steps, agent=st.sampled_from([None, "gone", *PROFILES]))
    def override_agent(self, step: str, agent: str | None) -> None:
        self.run(lambda uow: uow.implementation_plan_steps.override_agent(step, agent))

    @rule(step=steps, quality=st.booleans(), review=st.booleans())
    def set_flags(self, step: str, quality: bool, review: bool) -> None:
        def edit(uow: UnitOfWork) -> ImplementationPlanStep:
            found = uow.implementation_plan_steps.get(step)
            now = uow.clock.now()
            found.quality_gate_at = (found.quality_gate_at or now) if quality else None
            found.gemini_review_at = (found.gemini_review_at or now) if review else None
            return uow.implementation_plan_steps.update(found)

        self.run(edit)

    @rule(step=steps, path=st.sampled_from(["a.py", "b.py"]))
    def add_file(self, step: str, path: str) -> None:
        from agentkeel.domain.workflows import ImplementationPlanStepFile

        self.created(
            lambda: ImplementationPlanStepFile(plan_step_id=step, file_path=path),
            lambda uow, file: uow.implementation_plan_step_files.add(file),
        )

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def backends_agree_and_numbers_are_dense(self) -> None:
        contents = self.agreed_contents()
        by_plan: dict[str, list[Row]] = {p["id"]: [] for p in contents["implementation_plans"]}
        for step in contents["implementation_plan_steps"]:
            by_plan[step["plan_id"]].append(step)
        workflow_types = {w["id"]: w["type"] for w in contents["workflows"]}
        for plan in contents["implementation_plans"]:
            steps = sorted(by_plan[plan["id"]], key=lambda s: s["step_number"])
            assert [s["step_number"] for s in steps] == list(range(1, len(steps) + 1))
            assert all(s["order_index"] == s["step_number"] - 1 for s in steps)
            assert all(s["quality_gate_at"] is None or s["gemini_review_at"] is None for s in steps)
            assert workflow_types[plan["workflow_id"]] == "planning"
            if plan["approved_at"] is not None:
                assert steps
                frozen = self.approved.setdefault(plan["id"], steps)
                assert steps == frozen, "an approved plan's steps changed"
        for workflow in contents["workflows"]:
            if workflow["type"] == "implementation" and workflow["parent_workflow_id"]:
                [plan] = [
                    p
                    for p in contents["implementation_plans"]
                    if p["workflow_id"] == workflow["parent_workflow_id"]
                ]
                made = [s for s in contents["workflow_steps"] if s["workflow_id"] == workflow["id"]]
                assert sorted((s["step_number"], s["title"]) for s in made) == [
                    (s["step_number"], s["title"])
                    for s in sorted(by_plan[plan["id"]], key=lambda s: s["step_number"])
                ]
        started = [
            w["parent_workflow_id"]
            for w in contents["workflows"]
            if w["type"] == "implementation" and w["parent_workflow_id"]
        ]
        assert len(started) == len(set(started)), "a plan was started twice"


@on_every_backend
def test_plan_steps_agree_and_stay_dense(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    # Each example opens three databases: a quarter of the profile's examples keeps the CI
    # run near a minute.
    check_agreement(PlanStepsAgreement, sqlite_template, request, share=0.25)
