"""Tasks: finders in task order, the status machine and its stamps, consistency rules,
summaries as context, ready tasks, crash retries, QA iterations, cascades."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.agents import Conversation
from agentkeel.domain.errors import InvalidTransition, InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.planning import PhaseStatus, Task, TaskStatus
from agentkeel.domain.planning.events import (
    TaskCompleted,
    TaskCrashed,
    TaskFailed,
    TaskNeedsAttention,
    TaskReopened,
    TaskStarted,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.planning import assign_task
from tests import factories

S = TaskStatus


def _ids(tasks: list[Task]) -> list[str]:
    return [task.name for task in tasks]


def _tick(uow: UnitOfWork) -> None:
    uow.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]


# -- finders ----------------------------------------------------------------------------------


def test_list_filters_and_orders_by_order_index_then_creation(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    factories.task(uow, project, "late", order_index=2)
    _tick(uow)
    factories.task(uow, project, "first", order_index=1, phase_id=phase.id)
    _tick(uow)
    factories.task(uow, project, "second", order_index=1, initiative_id=initiative.id)
    factories.task(uow, factories.project(uow, "Other"), "elsewhere")
    assert _ids(uow.tasks.list(project_id=project.id)) == ["first", "second", "late"]
    assert _ids(uow.tasks.list(project_id=project.id, initiative_id=initiative.id)) == [
        "first",
        "second",
    ]
    assert _ids(uow.tasks.list(project_id=project.id, phase_id=phase.id)) == ["first"]
    assert _ids(uow.tasks.list(project_id=project.id, status=S.COMPLETED)) == []
    assert _ids(uow.tasks.list(project_id=project.id, limit=1, offset=1)) == ["second"]
    assert _ids(uow.tasks.find_by_phase(phase.id)) == ["first"]


def test_find_by_parent_task_lists_the_subtasks(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    parent = factories.task(uow, project, "parent")
    factories.task(uow, project, "b", parent_task_id=parent.id, order_index=2)
    factories.task(uow, project, "a", parent_task_id=parent.id, order_index=1)
    assert _ids(uow.tasks.find_by_parent_task(parent.id)) == ["a", "b"]
    assert uow.tasks.find_by_parent_task("nobody") == []


def test_defaults_of_the_merged_table(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    assert (task.type, task.category, task.priority, task.status) == (
        "auto",
        "execute",
        "medium",
        "pending",
    )
    assert (task.size, task.retry_count, task.qa_iterations, task.max_iterations) == (
        "small",
        0,
        0,
        50,
    )
    assert (task.estimated_minutes, task.actual_minutes) == (15, None)
    task.actual_minutes = 42
    assert uow.tasks.update(task).actual_minutes == 42
    with pytest.raises(InvalidValue) as caught:
        Task(project_id="p", name="n", estimated_minutes=-1)
    assert caught.value.field == "estimated_minutes"


# -- status -----------------------------------------------------------------------------------


def test_status_moves_stamp_started_and_completed(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    assert task.started_at is None and task.completed_at is None
    _tick(uow)
    before = uow.clock.now()
    started = uow.tasks.move_to(task.id, S.IN_PROGRESS)
    assert started.started_at is not None and before < started.started_at <= started.updated_at
    _tick(uow)
    before = uow.clock.now()
    done = uow.tasks.complete(task.id, "Wrote it; see commit abc")
    assert done.summary == "Wrote it; see commit abc"
    assert done.completed_at is not None and before < done.completed_at <= done.updated_at
    _tick(uow)
    reopened = uow.tasks.move_to(task.id, S.PENDING)
    assert reopened.completed_at is None
    assert reopened.summary == "Wrote it; see commit abc"
    _tick(uow)
    again = uow.tasks.move_to(task.id, S.IN_PROGRESS)
    assert again.started_at == started.started_at  # stamped when it first started


def test_the_generic_update_stamps_alike(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow), status=S.IN_PROGRESS)
    assert task.started_at is not None and task.completed_at is None
    task.status = S.COMPLETED
    assert uow.tasks.update(task).completed_at is not None
    added = factories.task(uow, factories.project(uow, "P2"), status=S.COMPLETED)
    assert added.completed_at is not None and added.started_at is None


def test_blocking_keeps_a_reason_that_goes_when_unblocked(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    blocked = uow.tasks.move_to(task.id, S.BLOCKED, blocked_by="waiting for the API keys")
    assert blocked.blocked_by == "waiting for the API keys"
    assert uow.tasks.move_to(task.id, S.PENDING).blocked_by is None


def test_transitions_outside_the_machine_are_refused(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    with pytest.raises(InvalidTransition) as caught:
        uow.tasks.complete(task.id, "too soon")
    assert str(caught.value) == "task.status cannot change from 'pending' to 'completed'"
    assert uow.tasks.get(task.id).summary is None
    uow.tasks.move_to(task.id, S.BLOCKED)
    with pytest.raises(InvalidTransition):
        uow.tasks.move_to(task.id, S.IN_PROGRESS)
    with pytest.raises(NotFound):
        uow.tasks.move_to("nope", S.IN_PROGRESS)


def test_status_changes_record_events(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    uow.tasks.complete(task.id, "done")
    uow.tasks.move_to(task.id, S.PENDING)
    assert [e for e in factories.recorded(uow) if "Task" in type(e).__name__] == [
        TaskStarted(task.id, project.id),
        TaskCompleted(task.id, project.id, None, None),
        TaskReopened(task.id, project.id),
    ]


# -- consistency ------------------------------------------------------------------------------


def test_the_initiative_must_be_of_the_tasks_project(uow: UnitOfWork) -> None:
    mine, theirs = factories.project(uow), factories.project(uow, "Theirs")
    foreign = factories.initiative(uow, theirs)
    with pytest.raises(InvalidValue) as caught:
        factories.task(uow, mine, initiative_id=foreign.id)
    assert caught.value.field == "initiative_id"
    assert "not of the task's project" in str(caught.value)
    task = factories.task(uow, mine)
    task.initiative_id = foreign.id
    with pytest.raises(InvalidValue):
        uow.tasks.update(task)


def test_the_phase_must_be_of_the_tasks_initiative(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    one, two = factories.initiative(uow, project), factories.initiative(uow, project, "Two")
    phase = factories.phase(uow, two)
    with pytest.raises(InvalidValue) as caught:
        factories.task(uow, project, initiative_id=one.id, phase_id=phase.id)
    assert caught.value.field == "phase_id"
    # Given only a phase, a task takes the phase's initiative.
    assert factories.task(uow, project, phase_id=phase.id).initiative_id == two.id
    # ... whose project must be the task's.
    with pytest.raises(InvalidValue) as caught:
        factories.task(uow, factories.project(uow, "Other"), phase_id=phase.id)
    assert caught.value.field == "initiative_id"


def test_the_parent_must_be_of_the_same_project_and_no_descendant(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    parent = factories.task(uow, project, "parent")
    child = factories.task(uow, project, "child", parent_task_id=parent.id)
    grandchild = factories.task(uow, project, "grandchild", parent_task_id=child.id)
    with pytest.raises(InvalidValue) as caught:
        factories.task(uow, factories.project(uow, "Other"), parent_task_id=parent.id)
    assert caught.value.field == "parent_task_id"
    parent.parent_task_id = grandchild.id
    with pytest.raises(InvalidValue) as caught:
        uow.tasks.update(parent)
    assert "its own ancestor" in str(caught.value)
    parent = uow.tasks.get(parent.id)
    parent.parent_task_id = parent.id
    with pytest.raises(InvalidValue):
        uow.tasks.update(parent)


def test_the_project_of_a_task_never_changes(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    task.project_id = factories.project(uow, "Other").id
    with pytest.raises(InvalidValue) as caught:
        uow.tasks.update(task)
    assert caught.value.field == "project_id"


# -- summaries and ready tasks ----------------------------------------------------------------


def _done(uow: UnitOfWork, task: Task, summary: str) -> Task:
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    return uow.tasks.complete(task.id, summary)


def test_dependency_context_returns_the_summaries_of_all_dependencies(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    schema = factories.task(uow, project, "schema", order_index=1)
    api = factories.task(uow, project, "api", order_index=2)
    ui = factories.task(uow, project, "ui", order_index=3)
    _done(uow, schema, "tables users and sessions")
    uow.task_dependencies.create(ui.id, api.id)
    uow.task_dependencies.create(ui.id, schema.id)
    context = uow.tasks.dependency_context(ui.id)
    assert [(t.name, t.summary) for t in context] == [
        ("schema", "tables users and sessions"),
        ("api", None),
    ]
    assert uow.tasks.dependency_context(schema.id) == []
    with pytest.raises(NotFound):
        uow.tasks.dependency_context("nope")


def test_ready_tasks_are_pending_with_every_dependency_completed(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    a = factories.task(uow, project, "a", order_index=1, phase_id=phase.id)
    b = factories.task(uow, project, "b", order_index=2, phase_id=phase.id)
    c = factories.task(uow, project, "c", order_index=3, initiative_id=initiative.id)
    factories.task(uow, project, "loose", order_index=4)
    uow.task_dependencies.create(b.id, a.id)
    uow.task_dependencies.create(c.id, a.id)
    uow.task_dependencies.create(c.id, b.id)
    assert _ids(uow.tasks.ready_tasks(project_id=project.id)) == ["a", "loose"]
    assert _ids(uow.tasks.ready_tasks(initiative_id=initiative.id)) == ["a"]
    _done(uow, a, "a done")
    assert _ids(uow.tasks.ready_tasks(initiative_id=initiative.id)) == ["b"]
    assert _ids(uow.tasks.ready_tasks(phase_id=phase.id)) == ["b"]
    _done(uow, b, "b done")
    assert _ids(uow.tasks.ready_tasks(initiative_id=initiative.id)) == ["c"]
    assert _ids(uow.tasks.ready_tasks(project_id=project.id, phase_id=phase.id)) == []
    uow.tasks.move_to(a.id, S.PENDING)  # reopened: c waits again, a is ready again
    assert _ids(uow.tasks.ready_tasks(initiative_id=initiative.id)) == ["a"]
    with pytest.raises(InvalidValue) as caught:
        uow.tasks.ready_tasks()
    assert "needs a project, an initiative or a phase" in str(caught.value)


def test_a_task_is_ready_only_when_its_phase_is_open_and_its_phase_dependencies_done(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    design, build = factories.phase(uow, initiative, "Design"), factories.phase(uow, initiative)
    uow.phase_dependencies.create(build.id, design.id)
    sketch = factories.task(uow, project, "sketch", order_index=1, phase_id=design.id)
    code = factories.task(uow, project, "code", order_index=2, phase_id=build.id)
    assert _ids(uow.tasks.ready_tasks(initiative_id=initiative.id)) == ["sketch"]
    uow.phases.move_to(design.id, PhaseStatus.BLOCKED)
    assert uow.tasks.ready_tasks(initiative_id=initiative.id) == []
    agent = factories.agent(uow)
    assert uow.tasks.claim_next_ready(agent.id, timedelta(minutes=1), phase_id=design.id) is None
    uow.phases.move_to(design.id, PhaseStatus.IN_PROGRESS)
    _done(uow, sketch, "sketched")
    # Design waits for its review: Build still waits for Design.
    assert uow.phases.get(design.id).status is PhaseStatus.PENDING_REVIEW
    assert uow.tasks.ready_tasks(initiative_id=initiative.id) == []
    uow.phases.move_to(design.id, PhaseStatus.COMPLETED)
    assert _ids(uow.tasks.ready_tasks(initiative_id=initiative.id)) == ["code"]
    # A pending task left in a completed phase is not ready: the phase's work is done.
    uow.tasks.move_to(code.id, S.IN_PROGRESS)
    uow.tasks.complete(code.id)
    uow.phases.move_to(build.id, PhaseStatus.COMPLETED)
    late = factories.task(uow, project, "late", phase_id=build.id)
    assert uow.phases.get(build.id).status is PhaseStatus.IN_PROGRESS  # reopened by it
    assert _ids(uow.tasks.ready_tasks(phase_id=build.id)) == ["late"]
    uow.tasks.move_to(late.id, S.BLOCKED, blocked_by="waiting")
    uow.tasks.move_to(late.id, S.PENDING)
    uow.phases.update(uow.phases.get(build.id).model_copy(update={"status": "pending_review"}))
    uow.phases.move_to(build.id, PhaseStatus.COMPLETED)
    assert uow.tasks.ready_tasks(phase_id=build.id) == []


def test_tasks_needing_attention_are_the_blocked_ones_and_all_that_wait_for_them(
    uow: UnitOfWork,
) -> None:
    project, other = factories.project(uow), factories.project(uow, "Other")
    initiative = factories.initiative(uow, project)
    names = ["root", "child", "grandchild", "sibling", "done", "after-done", "free"]
    t = {name: factories.task(uow, project, name, order_index=i) for i, name in enumerate(names)}
    t["child"] = uow.tasks.update(
        uow.tasks.get(t["child"].id).model_copy(update={"initiative_id": initiative.id})
    )
    for waiting, awaited in [
        ("child", "root"),
        ("grandchild", "child"),
        ("sibling", "root"),
        ("done", "root"),
        ("after-done", "done"),
    ]:
        uow.task_dependencies.create(t[waiting].id, t[awaited].id)
    outside = factories.task(uow, other, "outside", status=S.BLOCKED)
    assert uow.tasks.needing_attention(project_id=project.id) == []
    # "done" completed while root was still pending; then root is blocked.
    uow.tasks.move_to(t["done"].id, S.IN_PROGRESS)
    uow.tasks.complete(t["done"].id)
    uow.tasks.move_to(t["root"].id, S.BLOCKED, blocked_by="needs the API keys")
    assert _ids(uow.tasks.needing_attention(project_id=project.id)) == [
        "root",
        "child",
        "grandchild",
        "sibling",
    ]
    assert _ids(uow.tasks.needing_attention(initiative_id=initiative.id)) == ["child"]
    assert _ids(uow.tasks.needing_attention(project_id=other.id)) == ["outside"]
    assert outside.status is S.BLOCKED
    uow.tasks.move_to(t["root"].id, S.PENDING)
    assert uow.tasks.needing_attention(project_id=project.id) == []
    with pytest.raises(InvalidValue, match="needs a project, an initiative or a phase"):
        uow.tasks.needing_attention()


# -- crashes, retries, QA iterations ----------------------------------------------------------


def test_a_crash_sends_the_task_back_until_the_limit_then_blocks_it(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    agent = factories.agent(uow)
    for count in (1, 2, 3):
        assign_task(uow, task.id, agent.id)
        uow.tasks.move_to(task.id, S.IN_PROGRESS)
        crashed = uow.tasks.record_crash(task.id)
        assert (crashed.status, crashed.retry_count) == (S.PENDING, count)
        assert crashed.assigned_agent_id is None and uow.agents.get(agent.id).task_id is None
    assign_task(uow, task.id, agent.id)
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    blocked = uow.tasks.record_crash(task.id)
    assert (blocked.status, blocked.retry_count) == (S.BLOCKED, 4)
    assert blocked.blocked_by == "crashed 4 times (tasks.maxCrashRetries is 3)"
    assert blocked.assigned_agent_id is None and blocked.claimed_until is None
    assert uow.agents.get(agent.id).task_id is None
    events = [e for e in factories.recorded(uow) if isinstance(e, TaskCrashed)]
    assert [(e.retry_count, e.retried, e.agent_id) for e in events] == [
        (1, True, agent.id),
        (2, True, agent.id),
        (3, True, agent.id),
        (4, False, agent.id),
    ]
    [attention] = [e for e in factories.recorded(uow) if isinstance(e, TaskNeedsAttention)]
    assert attention == TaskNeedsAttention(task.id, project.id, 4, blocked.blocked_by)
    assert [t.id for t in uow.tasks.needing_attention(project_id=project.id)] == [task.id]
    retried = uow.tasks.retry(task.id)
    assert (retried.status, retried.retry_count, retried.blocked_by) == (S.PENDING, 0, None)
    assert uow.tasks.needing_attention(project_id=project.id) == []


def test_a_task_blocked_by_hand_needs_attention_too(uow: UnitOfWork) -> None:
    """Every task that becomes blocked records TaskNeedsAttention, with its reason."""
    project = factories.project(uow)
    task = factories.task(uow, project)
    uow.tasks.move_to(task.id, S.BLOCKED, blocked_by="waiting for the API key")
    other = factories.task(uow, project, "other")
    uow.tasks.move_to(other.id, S.BLOCKED)
    attention = [e for e in factories.recorded(uow) if isinstance(e, TaskNeedsAttention)]
    assert attention == [
        TaskNeedsAttention(task.id, project.id, 0, "waiting for the API key"),
        TaskNeedsAttention(other.id, project.id, 0, "blocked"),
    ]


def test_the_crash_limit_is_the_setting(uow: UnitOfWork) -> None:
    uow.settings.set_value("tasks.maxCrashRetries", 0)
    task = factories.task(uow, factories.project(uow), status=S.IN_PROGRESS)
    blocked = uow.tasks.record_crash(task.id)
    assert blocked.status is S.BLOCKED
    assert blocked.blocked_by == "crashed once (tasks.maxCrashRetries is 0)"
    uow.settings.set_value("tasks.maxCrashRetries", 1)
    uow.tasks.retry(task.id)
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    assert uow.tasks.record_crash(task.id).status is S.PENDING


def test_a_failure_counts_as_a_crash_does(uow: UnitOfWork) -> None:
    uow.settings.set_value("tasks.maxCrashRetries", 1)
    project = factories.project(uow)
    task = factories.task(uow, project)
    agent = factories.agent(uow)
    uow.tasks.claim_next_ready(agent.id, timedelta(minutes=5), project_id=project.id)
    failed = uow.tasks.record_failure(task.id, "tests keep failing", agent_id=agent.id)
    assert (failed.status, failed.retry_count, failed.assigned_agent_id) == (S.PENDING, 1, None)
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    uow.tasks.record_crash(task.id)
    blocked = uow.tasks.get(task.id)
    assert (blocked.status, blocked.retry_count) == (S.BLOCKED, 2)
    uow.tasks.retry(task.id)
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    uow.tasks.record_crash(task.id)
    uow.tasks.move_to(task.id, S.IN_PROGRESS)
    blocked = uow.tasks.record_failure(task.id, "it's the \x27; DROP TABLE tasks;-- 🚢 again")
    assert blocked.blocked_by == (
        "failed: it's the \x27; DROP TABLE tasks;-- 🚢 again "
        "(after 2 crashes and failures; tasks.maxCrashRetries is 1)"
    )
    failures = [e for e in factories.recorded(uow) if isinstance(e, TaskFailed)]
    assert [(e.agent_id, e.retry_count, e.retried) for e in failures] == [
        (agent.id, 1, True),
        (None, 2, False),
    ]
    for reason in ("", "   ", None, 7):
        with pytest.raises(InvalidValue) as caught:
            uow.tasks.record_failure(task.id, reason)  # type: ignore[arg-type]
        assert caught.value.field == "reason"


def test_only_a_task_in_progress_can_crash(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    with pytest.raises(InvalidValue) as caught:
        uow.tasks.record_crash(task.id)
    assert caught.value.field == "status"
    with pytest.raises(NotFound):
        uow.tasks.record_crash("nope")
    with pytest.raises(NotFound):
        uow.tasks.retry("nope")


def test_qa_iterations_count_up_to_the_maximum(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow), max_iterations=2)
    assert uow.tasks.record_qa_iteration(task.id).qa_iterations == 1
    assert uow.tasks.record_qa_iteration(task.id).qa_iterations == 2
    with pytest.raises(InvalidValue) as caught:
        uow.tasks.record_qa_iteration(task.id)
    assert str(caught.value) == "task.qa_iterations must not exceed max_iterations (2) (got 3)"
    assert uow.tasks.get(task.id).qa_iterations == 2
    with pytest.raises(NotFound):
        uow.tasks.record_qa_iteration("nope")
    lowered = uow.tasks.get(task.id)
    lowered.max_iterations = 1
    with pytest.raises(InvalidValue):
        uow.tasks.update(lowered)


# -- assignment and cascades ------------------------------------------------------------------


def test_deleting_a_task_removes_subtasks_and_dependencies_and_frees_agents(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    parent = factories.task(uow, project, "parent")
    child = factories.task(uow, project, "child", parent_task_id=parent.id)
    other = factories.task(uow, project, "other")
    uow.task_dependencies.create(other.id, parent.id)
    uow.task_dependencies.create(child.id, other.id)
    agent = factories.agent(uow)
    assign_task(uow, parent.id, agent.id)
    asker = factories.agent(uow, "calm-heron")
    talk = uow.conversations.add(
        Conversation(from_agent_id=asker.id, to_agent_id=agent.id, question="?", task_id=parent.id)
    )
    removed = uow.tasks.delete(parent.id)
    assert removed == {"tasks": 2, "task_dependencies": 2}
    assert uow.agents.get(agent.id).task_id is None
    assert uow.conversations.get(talk.id).task_id is None
    assert [t.id for t in uow.tasks.list(project_id=project.id)] == [other.id]


def test_deleting_an_agent_clears_the_tasks_it_held(uow: UnitOfWork) -> None:
    task = factories.task(uow, factories.project(uow))
    agent = factories.agent(uow)
    assign_task(uow, task.id, agent.id)
    uow.agents.delete(agent.id)
    assert uow.tasks.get(task.id).assigned_agent_id is None


def test_deleting_a_project_removes_its_tasks(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    a, b = factories.task(uow, project, "a"), factories.task(uow, project, "b")
    uow.task_dependencies.create(b.id, a.id)
    removed = uow.projects.delete(project.id)
    assert removed["tasks"] == 2 and removed["task_dependencies"] == 1


def test_tasks_belong_to_an_existing_project(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing):
        uow.tasks.add(Task(project_id="missing", name="n"))
