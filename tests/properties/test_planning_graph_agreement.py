"""The planning graphs agree on every backend and stay acyclic.

A hypothesis state machine builds random phases and tasks (in two initiatives of one
project and one of another), adds and removes dependencies at random (cycles, duplicates,
self-dependencies and cross-scope pairs included), moves statuses (starts, completions,
crashes, retries, reopenings, blocks) and deletes phases and tasks, each in its own unit of
work, on every backend. Agents claim tasks with leases, renew them, complete or fail them,
and let them run out (the clock jumps past the lease), so that later claims take them over
as crashes. After each step: the same result or error everywhere, the same contents
everywhere, every dependency graph acyclic and within its scope, every task consistent with
its initiative, phase and parent, leases only on held in-progress tasks, and
`ready_tasks` and `needing_attention` equal to brute-force references for every scope.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    invariant,
    rule,
)

from agentkeel.database import Database
from agentkeel.domain.agents import Agent
from agentkeel.domain.entity import Entity
from agentkeel.domain.planning import (
    Initiative,
    Phase,
    PhaseDependency,
    PhaseStatus,
    Task,
    TaskDependency,
    TaskStatus,
)
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import planning
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    dump,
    on_every_backend,
)

E = TypeVar("E", bound=Entity)
Row = dict[str, Any]

PROJECTS = ("project-1", "project-2")
INITIATIVES = {
    "initiative-1": "project-1",
    "initiative-2": "project-1",
    "initiative-3": "project-2",
}
SCOPES = [("project_id", p) for p in PROJECTS] + [("initiative_id", i) for i in INITIATIVES]


def acyclic(edges: list[tuple[str, str]]) -> bool:
    """Kahn's algorithm: every node can be removed once nothing waits on it."""
    nodes = {n for edge in edges for n in edge}
    waiting = dict.fromkeys(nodes, 0)
    for source, _ in edges:
        waiting[source] += 1
    free = [n for n, count in waiting.items() if count == 0]
    removed = 0
    while free:
        node = free.pop()
        removed += 1
        for source, target in edges:
            if target == node:
                waiting[source] -= 1
                if waiting[source] == 0:
                    free.append(source)
    return removed == len(nodes)


def _in_task_order(tasks: list[Row]) -> list[str]:
    tasks.sort(key=lambda t: (t["order_index"], t["created_at"], t["id"]))
    return [t["id"] for t in tasks]


def _edges(rows: list[Row], source: str, target: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for edge in rows:
        found.setdefault(edge[source], []).append(edge[target])
    return found


def ready_reference(contents: dict[str, list[Row]], column: str, value: str) -> list[str]:
    """Pending tasks of the scope whose every dependency is completed, whose phase is
    neither blocked nor completed and waits for no phase that is not completed."""
    status = {t["id"]: t["status"] for t in contents["tasks"]}
    phase_status = {p["id"]: p["status"] for p in contents["phases"]}
    waits = _edges(contents["task_dependencies"], "task_id", "depends_on_task_id")
    phase_waits = _edges(contents["phase_dependencies"], "phase_id", "depends_on_phase_id")

    def phase_open(phase: str | None) -> bool:
        return phase is None or (
            phase_status[phase] not in ("blocked", "completed")
            and all(phase_status[d] == "completed" for d in phase_waits.get(phase, []))
        )

    return _in_task_order(
        [
            t
            for t in contents["tasks"]
            if t[column] == value
            and t["status"] == "pending"
            and all(status[d] == "completed" for d in waits.get(t["id"], []))
            and phase_open(t["phase_id"])
        ]
    )


def attention_reference(contents: dict[str, list[Row]], column: str, value: str) -> list[str]:
    """Blocked tasks of the scope, and unfinished ones that wait for a blocked one through
    unfinished tasks, by a fixpoint over the dependency edges."""
    tasks = {t["id"]: t for t in contents["tasks"]}
    waits = _edges(contents["task_dependencies"], "task_id", "depends_on_task_id")
    held = {key for key, t in tasks.items() if t["status"] == "blocked"}
    grew = True
    while grew:
        grew = False
        for key, task in tasks.items():
            if key in held or task["status"] == "completed":
                continue
            if any(d in held for d in waits.get(key, [])):
                held.add(key)
                grew = True
    return _in_task_order([tasks[key] for key in held if tasks[key][column] == value])


def ready_in(column: str, value: str) -> Callable[[UnitOfWork], list[Task]]:
    return lambda uow: uow.tasks.ready_tasks(**{column: value})


def needing_attention_in(column: str, value: str) -> Callable[[UnitOfWork], list[Task]]:
    return lambda uow: uow.tasks.needing_attention(**{column: value})


AGENTS = ("agent-1", "agent-2", "agent-3")
LEASE = timedelta(minutes=5)


class PlanningGraphAgreement(AgreementMachine):
    phases = Bundle("phases")
    tasks = Bundle("tasks")

    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__(open_backends)

        def setup(uow: UnitOfWork) -> None:
            for project in PROJECTS:
                uow.projects.add(Project(id=project, name=project))
            for initiative, project in INITIATIVES.items():
                uow.initiatives.add(Initiative(id=initiative, project_id=project, name="i"))
            for agent in AGENTS:
                uow.agents.add(Agent(id=agent, name=agent))
            uow.settings.set_value("tasks.maxCrashRetries", 2)  # reached within a run

        self.run(setup)

    # -- phases -----------------------------------------------------------------------------

    @rule(target=phases, initiative=st.sampled_from(sorted(INITIATIVES)))
    def create_phase(self, initiative: str) -> Any:
        return self.created(
            lambda: Phase(initiative_id=initiative, name="p"),
            lambda uow, phase: uow.phases.add(phase),
        )

    # Dependencies are built once (the same id everywhere) and added through the generic
    # `add`, which runs the same checks as `create`.
    @rule(phase=phases, depends_on=phases)
    def add_phase_dependency(self, phase: str, depends_on: str) -> None:
        self.created(
            lambda: PhaseDependency(phase_id=phase, depends_on_phase_id=depends_on),
            lambda uow, edge: uow.phase_dependencies.add(edge),
        )

    @rule(phase=phases, depends_on=phases)
    def remove_phase_dependency(self, phase: str, depends_on: str) -> None:
        self.run(lambda uow: uow.phase_dependencies.remove(phase, depends_on))

    @rule(phase=phases, status=st.sampled_from(list(PhaseStatus)))
    def move_phase(self, phase: str, status: PhaseStatus) -> None:
        self.run(lambda uow: uow.phases.move_to(phase, status))

    @rule(phase=phases)
    def delete_phase(self, phase: str) -> None:
        self.run(lambda uow: uow.phases.delete(phase))

    # -- tasks ------------------------------------------------------------------------------

    @rule(
        target=tasks,
        project=st.sampled_from(PROJECTS),
        initiative=st.sampled_from([None, *sorted(INITIATIVES)]),
        phase=st.one_of(st.none(), phases),
        parent=st.one_of(st.none(), tasks),
        order_index=st.integers(0, 3),
    )
    def create_task(
        self,
        project: str,
        initiative: str | None,
        phase: str | None,
        parent: str | None,
        order_index: int,
    ) -> Any:
        return self.created(
            lambda: Task(
                project_id=project,
                initiative_id=initiative,
                phase_id=phase,
                parent_task_id=parent,
                name="t",
                order_index=order_index,
            ),
            lambda uow, task: uow.tasks.add(task),
        )

    @rule(task=tasks, depends_on=tasks)
    def add_task_dependency(self, task: str, depends_on: str) -> None:
        self.created(
            lambda: TaskDependency(task_id=task, depends_on_task_id=depends_on),
            lambda uow, edge: uow.task_dependencies.add(edge),
        )

    @rule(task=tasks, depends_on=tasks)
    def remove_task_dependency(self, task: str, depends_on: str) -> None:
        self.run(lambda uow: uow.task_dependencies.remove(task, depends_on))

    @rule(task=tasks, status=st.sampled_from(list(TaskStatus)))
    def move_task(self, task: str, status: TaskStatus) -> None:
        self.run(lambda uow: uow.tasks.move_to(task, status, blocked_by="why"))

    @rule(task=tasks, summary=st.sampled_from([None, "done", "did it"]))
    def complete_task(self, task: str, summary: str | None) -> None:
        self.run(lambda uow: planning.complete_task(uow, task, summary))

    @rule(task=tasks)
    def record_crash(self, task: str) -> None:
        self.run(lambda uow: uow.tasks.record_crash(task))

    @rule(task=tasks)
    def retry(self, task: str) -> None:
        self.run(lambda uow: uow.tasks.retry(task))

    # -- workers: claims with leases, takeovers, completions and failures ---------------------

    @rule(agent=st.sampled_from(AGENTS), scope=st.sampled_from(SCOPES))
    def claim(self, agent: str, scope: tuple[str, str]) -> None:
        column, value = scope
        self.run(
            lambda uow: planning.claim_next_ready_task(uow, agent, lease=LEASE, **{column: value})
        )

    @rule(task=tasks, agent=st.sampled_from(AGENTS))
    def renew_lease(self, task: str, agent: str) -> None:
        self.run(lambda uow: uow.tasks.renew_lease(task, agent, LEASE))

    @rule(task=tasks, agent=st.sampled_from(AGENTS))
    def complete_held_task(self, task: str, agent: str) -> None:
        self.run(lambda uow: planning.complete_task(uow, task, "done", agent_id=agent))

    @rule(task=tasks, agent=st.sampled_from([None, *AGENTS]))
    def fail_task(self, task: str, agent: str | None) -> None:
        self.run(lambda uow: planning.fail_task(uow, task, "gave up", agent_id=agent))

    @rule()
    def leases_run_out(self) -> None:
        for db in self.dbs.values():
            db.clock.advance(LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]

    @rule(task=tasks, parent=st.one_of(st.none(), tasks))
    def move_under(self, task: str, parent: str | None) -> None:
        def move(uow: UnitOfWork) -> Task:
            found = uow.tasks.get(task)
            found.parent_task_id = parent
            return uow.tasks.update(found)

        self.run(move)

    @rule(task=tasks)
    def delete_task(self, task: str) -> None:
        self.run(lambda uow: uow.tasks.delete(task))

    @rule(task=tasks)
    def dependency_context(self, task: str) -> None:
        self.run(lambda uow: uow.tasks.dependency_context(task))

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def backends_agree_and_graphs_hold(self) -> None:
        contents = self.agreed_contents()
        phases = {p["id"]: p for p in contents["phases"]}
        tasks = {t["id"]: t for t in contents["tasks"]}
        phase_edges = [
            (e["phase_id"], e["depends_on_phase_id"]) for e in contents["phase_dependencies"]
        ]
        task_edges = [
            (e["task_id"], e["depends_on_task_id"]) for e in contents["task_dependencies"]
        ]
        assert acyclic(phase_edges) and acyclic(task_edges)
        assert len(set(phase_edges)) == len(phase_edges)
        assert len(set(task_edges)) == len(task_edges)
        for a, b in phase_edges:
            assert phases[a]["initiative_id"] == phases[b]["initiative_id"]
        for a, b in task_edges:
            assert tasks[a]["project_id"] == tasks[b]["project_id"]
        for task in tasks.values():
            if task["initiative_id"] is not None:
                assert INITIATIVES[task["initiative_id"]] == task["project_id"]
            if task["phase_id"] is not None:
                assert phases[task["phase_id"]]["initiative_id"] == task["initiative_id"]
            if task["parent_task_id"] is not None:
                assert tasks[task["parent_task_id"]]["project_id"] == task["project_id"]
            assert (task["status"] == "completed") == (task["completed_at"] is not None)
            if task["status"] == "in_progress":
                assert task["started_at"] is not None
            if task["claimed_until"] is not None:  # a lease: a held task in progress
                assert task["status"] == "in_progress" and task["assigned_agent_id"]
            if task["status"] == "blocked":  # by a person or by the crash rule: says why
                assert task["blocked_by"]
        assert acyclic(
            [(t["id"], t["parent_task_id"]) for t in tasks.values() if t["parent_task_id"]]
        )

    @invariant()
    def ready_tasks_match_the_reference(self) -> None:
        with self.dbs["memory"].unit_of_work(read_only=True) as uow:
            contents = dump(uow)
        for column, value in SCOPES:
            outcome = self.run(ready_in(column, value))
            assert outcome[0] == "ok"
            assert [t["id"] for t in outcome[1]] == ready_reference(contents, column, value)
            outcome = self.run(needing_attention_in(column, value))
            assert outcome[0] == "ok"
            assert [t["id"] for t in outcome[1]] == attention_reference(contents, column, value)


@on_every_backend
def test_planning_graphs_agree_and_stay_acyclic(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    check_agreement(PlanningGraphAgreement, sqlite_template, request)
