"""The workflows context agrees on every backend, and its invariants hold.

A hypothesis state machine creates planning and implementation workflows (with parents and
pause behaviours), moves them at random (start, pause, edit, resume, complete, fail,
cancel, retry, archive), adds, moves, renumbers and deletes their steps (start, pause,
edit, resume, complete, fail, skip, retry, with or without a runner pid, output edits,
status changes by `update`), links, unlinks and promotes repositories, turns the
CLI-output setting on and off and runs recovery with some pids alive, each in its own unit
of work, on every backend. After each step: the same result or error everywhere, the same
contents everywhere, `total_steps` / `current_step_number` equal to a recount, exactly one
primary repository per workflow with repositories, never more implementation workflows
running, paused or editing than the cap, the stamps consistent with the statuses, no step
of a completed, failed or cancelled workflow moved since the workflow ended (a move of one
is refused with InvalidTransition), and after recovery no step of a workflow still going
runs for a pid that is not alive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    initialize,
    invariant,
    multiple,
    rule,
)

from agentkeel.database import Database
from agentkeel.domain.workflows import (
    PauseBehavior,
    StepStatus,
    StepType,
    Workflow,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import recovery
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

CAP = 1
PROJECTS = ("project-1", "project-2")
REPOSITORIES = {
    "repo-a": "project-1",
    "repo-b": "project-1",
    "repo-c": "project-1",
    "repo-x": "project-2",
}
# Deleting is one action among many, so that most runs keep their workflows and steps.
WORKFLOW_ACTIONS = [
    "start",
    "start",
    "start",
    "pause",
    "edit",
    "resume",
    "resume",
    "complete",
    "fail",
    "cancel",
    "retry",
    "archive",
    "unarchive",
    "continuous",
    "auto_pause",
    "gates_only",
    "delete",
]
STEP_ACTIONS = [
    "start",
    "start",
    "start",
    "pause",
    "edit",
    "resume",
    "resume",
    "complete",
    "complete",
    "complete_with_cli",
    "fail",
    "skip",
    "retry",
    "start_by_pid",
    "resume_by_pid",
    "retry_by_pid",
    "to_running",
    "to_completed",
    "edit_output",
    "edit_output",
    "renumber",
    "delete",
    "cli_on",
    "cli_off",
]
ACTIVE = {"running", "paused", "editing"}
ENDED = {"completed", "failed", "cancelled"}
# The step actions that ask for a change of status.
MOVES = {
    "start",
    "pause",
    "edit",
    "resume",
    "complete",
    "complete_with_cli",
    "fail",
    "skip",
    "retry",
    "start_by_pid",
    "resume_by_pid",
    "retry_by_pid",
    "to_running",
    "to_completed",
}
# The tables these operations write (comparing only them keeps each step quick).
TABLES = ("workflows", "workflow_repositories", "workflow_steps", "audit_logs", "settings")


class WorkflowsAgreement(AgreementMachine):
    compared_tables = TABLES
    workflows = Bundle("workflows")
    steps = Bundle("steps")

    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__(open_backends)
        # The status each step of an ended workflow had when the workflow was first seen
        # ended.
        self.frozen: dict[str, str] = {}

        def setup(uow: UnitOfWork) -> None:
            uow.settings.set_value("workflow.maxConcurrentImplementations", CAP)
            for project in PROJECTS:
                uow.projects.add(Project(id=project, name=project))
            for repo, project in REPOSITORIES.items():
                uow.repositories.add(
                    Repository(id=repo, project_id=project, name=repo, path=f"/src/{repo}")
                )

        outcome = self.run(setup)
        assert outcome[0] == "ok", outcome

    @initialize(target=steps)
    def a_workflow_with_steps(self) -> Any:
        """Every run starts with a planning workflow of two steps, so that steps are moved
        in most runs."""
        workflow = self.created(
            lambda: Workflow(
                project_id=PROJECTS[0],
                type=WorkflowType.PLANNING,
                feature_name="Steps",
                feature_request="Build it",
            ),
            lambda uow, workflow: uow.workflows.add(workflow),
        )
        assert isinstance(workflow, str)
        return multiple(*(self._add_step(workflow, n) for n in (1, 2)))

    def _add_step(self, workflow: str, number: int) -> Any:
        step = WorkflowStep(
            workflow_id=workflow, step_type=StepType.DISCOVERY, step_number=number, title="s"
        )
        return self.made(lambda uow: uow.workflow_steps.add(step))

    # -- workflows --------------------------------------------------------------------------

    @rule(
        target=workflows,
        project=st.sampled_from(PROJECTS),
        kind=st.sampled_from(list(WorkflowType)),
        behavior=st.one_of(st.none(), st.sampled_from(list(PauseBehavior))),
        parent=st.one_of(st.none(), workflows),
    )
    def create_workflow(
        self,
        project: str,
        kind: WorkflowType,
        behavior: PauseBehavior | None,
        parent: str | None,
    ) -> Any:
        fields: dict[str, Any] = {} if behavior is None else {"pause_behavior": behavior}
        return self.created(
            lambda: Workflow(
                project_id=project,
                type=kind,
                feature_name="Feature",
                feature_request="Build it",
                parent_workflow_id=parent,
                **fields,
            ),
            lambda uow, workflow: uow.workflows.add(workflow),
        )

    @rule(workflow=workflows, action=st.sampled_from(WORKFLOW_ACTIONS))
    def act_on_workflow(self, workflow: str, action: str) -> None:
        def act(uow: UnitOfWork) -> Any:
            match action:
                case "fail":
                    return uow.workflows.fail(workflow, "it broke")
                case "delete":
                    return uow.workflows.delete(workflow)
                case "continuous" | "auto_pause" | "gates_only":
                    found = uow.workflows.get(workflow)
                    found.pause_behavior = PauseBehavior(action)
                    return uow.workflows.update(found)
                case _:
                    return getattr(uow.workflows, action)(workflow)

        self.run(act)

    # -- repositories -----------------------------------------------------------------------

    @rule(
        workflow=workflows,
        repo=st.sampled_from(sorted(REPOSITORIES)),
        action=st.sampled_from(["link", "link", "link_primary", "unlink", "set_primary"]),
    )
    def act_on_repositories(self, workflow: str, repo: str, action: str) -> None:
        def act(uow: UnitOfWork) -> Any:
            links = uow.workflow_repositories
            match action:
                case "link" | "link_primary":
                    return links.link(workflow, repo, primary=action == "link_primary")
                case "unlink":
                    return links.unlink(workflow, repo)
                case _:
                    return links.set_primary(workflow, repo)

        self.run(act)

    # -- steps ------------------------------------------------------------------------------

    @rule(
        target=steps,
        workflow=workflows,
        number=st.integers(1, 4),
        step_type=st.sampled_from(list(StepType)),
    )
    def add_step(self, workflow: str, number: int, step_type: StepType) -> Any:
        return self.created(
            lambda: WorkflowStep(
                workflow_id=workflow, step_type=step_type, step_number=number, title="s"
            ),
            lambda uow, step: uow.workflow_steps.add(step),
        )

    @rule(step=steps, action=st.sampled_from(STEP_ACTIONS), number=st.integers(1, 5))
    def act_on_step(self, step: str, action: str, number: int) -> None:
        self._act_on_step(step, action, number)

    @rule(
        step=steps,
        end=st.sampled_from(["complete", "fail", "cancel"]),
        action=st.sampled_from(sorted(MOVES)),
        number=st.integers(1, 5),
    )
    def end_the_workflow_then_act_on_its_step(
        self, step: str, end: str, action: str, number: int
    ) -> None:
        """Steps are few and workflows end rarely at random: this makes the case."""

        def end_it(uow: UnitOfWork) -> Any:
            workflow = uow.workflows.get(uow.workflow_steps.get(step).workflow_id)
            match workflow.status.value:
                case "created":
                    uow.workflows.start(workflow.id)
                case "paused" | "editing":
                    uow.workflows.resume(workflow.id)
            if end == "fail":
                return uow.workflows.fail(workflow.id, "over")
            return getattr(uow.workflows, end)(workflow.id)

        self.run(end_it)
        self._act_on_step(step, action, number)

    def _act_on_step(self, step: str, action: str, number: int) -> None:
        with self.dbs["memory"].unit_of_work() as uow:
            found = uow.workflow_steps.find(step)
            ended = found is not None and uow.workflows.get(found.workflow_id).status in ENDED
            # An update to the status the step has already is no move.
            moves = action in MOVES and (found is None or f"to_{found.status.value}" != action)

        def act(uow: UnitOfWork) -> Any:
            steps = uow.workflow_steps
            match action:
                case "start_by_pid":
                    return steps.start(step, pid=number)
                case "resume_by_pid":
                    return steps.resume(step, pid=number)
                case "retry_by_pid":
                    return steps.retry(step, pid=number)
                case "to_running" | "to_completed":
                    found = steps.get(step)
                    found.status = StepStatus(action.removeprefix("to_"))
                    return steps.update(found)
                case "complete":
                    return steps.complete(step, output_text="out", output_structured={"n": 1})
                case "complete_with_cli":
                    return steps.complete(step, cli_output="raw", cli_exit_code=0)
                case "fail":
                    return steps.fail(step, "no", cli_output="e", cli_exit_code=1)
                case "edit_output":
                    return steps.edit_output(step, f"edited {number}")
                case "renumber":
                    found = steps.get(step)
                    found.step_number = number
                    return steps.update(found)
                case "delete":
                    return steps.delete(step)
                case "cli_on" | "cli_off":
                    return uow.settings.set_value("logging.includeCliOutput", action == "cli_on")
                case _:
                    return getattr(steps, action)(step)

        outcome = self.run(act)
        if ended and moves:
            assert outcome[:2] == ("error", "InvalidTransition"), outcome

    @rule(live=st.frozensets(st.integers(1, 5), max_size=3))
    def recover(self, live: frozenset[int]) -> None:
        self.run(lambda uow: recovery.recover(uow, live))
        with self.dbs["memory"].unit_of_work() as uow:
            for step in uow.workflow_steps.list(status=StepStatus.RUNNING):
                if uow.workflows.get(step.workflow_id).status not in ENDED:
                    assert step.runner_pid is None or step.runner_pid in live

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def backends_agree_and_invariants_hold(self) -> None:
        contents = self.agreed_contents()
        workflows = {w["id"]: w for w in contents["workflows"]}
        by_workflow: dict[str, list[dict[str, Any]]] = {w: [] for w in workflows}
        for step in contents["workflow_steps"]:
            by_workflow[step["workflow_id"]].append(step)
            assert (step["status"] in {"completed", "failed"}) == (step["completed_at"] is not None)
            if step["status"] != "pending" and step["status"] != "skipped":
                assert step["started_at"] is not None
            if step["original_output_text"] is not None:
                assert step["output_edited_at"] is not None
        for workflow_id, workflow in workflows.items():
            steps = by_workflow[workflow_id]
            assert workflow["total_steps"] == len(steps)
            assert workflow["current_step_number"] == max(
                (s["step_number"] for s in steps if s["status"] != "pending"), default=0
            )
            assert (workflow["status"] in {"completed", "failed", "cancelled"}) == (
                workflow["completed_at"] is not None
            )
            if workflow["status"] in ACTIVE | {"completed", "failed"}:
                assert workflow["started_at"] is not None
            if workflow["parent_workflow_id"] is not None:
                parent = workflows[workflow["parent_workflow_id"]]
                assert parent["type"] == "planning" and workflow["type"] == "implementation"
                assert parent["project_id"] == workflow["project_id"]
        for step in contents["workflow_steps"]:
            if workflows[step["workflow_id"]]["status"] in ENDED:
                was = self.frozen.setdefault(step["id"], step["status"])
                assert step["status"] == was, f"a step of an ended workflow moved: {step}"
            else:
                self.frozen.pop(step["id"], None)  # a retried workflow reopens its steps
        numbers = Counter((s["workflow_id"], s["step_number"]) for s in contents["workflow_steps"])
        assert all(n == 1 for n in numbers.values())
        links: dict[str, list[dict[str, Any]]] = {}
        for link in contents["workflow_repositories"]:
            links.setdefault(link["workflow_id"], []).append(link)
            project = workflows[link["workflow_id"]]["project_id"]
            assert REPOSITORIES[link["repository_id"]] == project
        for linked in links.values():
            assert sum(link["set_primary_at"] is not None for link in linked) == 1
        active = [
            w for w in workflows.values() if w["type"] == "implementation" and w["status"] in ACTIVE
        ]
        assert len(active) <= CAP


@on_every_backend
def test_workflows_agree_and_their_invariants_hold(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    # At most 15 steps a run (the profiles say 30): each step writes through the whole
    # pipeline on three backends; the `ci` profile's 200 runs then take about 60-80 s.
    check_agreement(WorkflowsAgreement, sqlite_template, request, steps=15)
