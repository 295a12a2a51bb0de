"""Planning rules that span aggregates: who holds a task, completing a task (its phase and
initiative follow it in the repositories), and accepting a proposal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, assert_never

from agentkeel.domain.errors import InvalidTransition, InvalidValue, LeaseLost
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    Page,
    Phase,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Task,
    TaskStatus,
)
from agentkeel.domain.planning.events import TaskAssigned
from agentkeel.ports.unit_of_work import UnitOfWork

T = TypeVar("T", Page, Phase, Task)

# What of a proposal's `details` (CW `metadata`) reaches each kind of target; other keys are
# the agent's own notes and are left alone.
DETAIL_FIELDS: dict[ProposalTarget, tuple[str, ...]] = {
    ProposalTarget.PAGE: ("parent_page_id", "sort_order"),
    ProposalTarget.PHASE: (),
    ProposalTarget.TASK: ("phase_id", "parent_task_id", "category", "priority", "order_index"),
}


@dataclass(frozen=True)
class AcceptedProposal:
    """What `accept_proposal` did: the proposal (now accepted), its target as stored (the
    page, phase or task created or updated) and the change set that records the change."""

    proposal: Proposal
    target: Page | Phase | Task
    change_set: ChangeSet


def tiptap_document(markdown: str | None) -> dict[str, Any] | None:
    """A proposal's markdown body as the Tiptap document pages and phases hold: one
    paragraph per blank-line-separated block, its text kept as written."""
    if markdown is None:
        return None
    blocks = [block for block in markdown.split("\n\n") if block.strip()]
    return {
        "type": "doc",
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": block}]} for block in blocks
        ],
    }


def accept_proposal(uow: UnitOfWork, proposal_id: str) -> AcceptedProposal:
    """Apply a pending proposal to its target and record what changed, in one unit of work.

    With `target_id` null a new page, phase or task is created in the proposal's initiative
    (and the proposal's `target_id` set to it); otherwise the target is updated. Mapping:
    `title` -> the page's `title`, the phase's or task's `name`; `content` (markdown) -> the
    page's or phase's `content` as a Tiptap document (`tiptap_document`), the task's
    `description` as written; the `details` keys of `DETAIL_FIELDS` -> the fields of the
    same name; a new task's `project_id` is its initiative's. `summary` stays on the
    proposal. A change set (description "Accepted proposal: <title>") with one entry (the
    target's state before and after) is recorded and the proposal becomes `accepted`.

    Raises NotFound; InvalidTransition if the proposal is not pending; InvalidValue if the
    target is gone or in another initiative, or the proposal gives a target field a value
    it cannot take; the target's own rules' errors. The target is written first, and every
    check comes before it, so a refusal writes nothing.
    """
    proposal = uow.proposals.get(proposal_id)
    if proposal.status is not ProposalStatus.PENDING:
        raise InvalidTransition(
            "proposal", "status", proposal.status.value, ProposalStatus.ACCEPTED.value
        )
    before, after = _apply(uow, proposal)
    if proposal.target_id is None:
        proposal.target_id = after.id
    proposal.status = ProposalStatus.ACCEPTED
    proposal = uow.proposals.update(proposal)
    change_set = ChangeSet(
        initiative_id=proposal.initiative_id,
        description=f"Accepted proposal: {proposal.title}",
    )
    entry = ChangeSetEntry(
        change_set_id=change_set.id,
        entity_type=ChangedEntity(proposal.target_type.value),
        entity_id=after.id,
        action=ChangeAction.CREATE if before is None else ChangeAction.UPDATE,
        before_state=before,
        after_state=after.audit_state(),
    )
    return AcceptedProposal(proposal, after, uow.change_sets.record(change_set, [entry]))


def _apply(
    uow: UnitOfWork, proposal: Proposal
) -> tuple[dict[str, Any] | None, Page | Phase | Task]:
    """Write the proposal to its target: (its state before, or None if created; as stored)."""
    kind = proposal.target_type
    fields = _fields(proposal)
    match kind:
        case ProposalTarget.PAGE:
            if proposal.target_id is None:
                page = _built(
                    proposal, lambda: Page(initiative_id=proposal.initiative_id, **fields)
                )
                return None, uow.pages.add(page)
            page = _target(proposal, uow.pages.get(proposal.target_id))
            state = page.audit_state()
            _assign(proposal, page, fields)
            return state, uow.pages.update(page)
        case ProposalTarget.PHASE:
            if proposal.target_id is None:
                phase = _built(
                    proposal, lambda: Phase(initiative_id=proposal.initiative_id, **fields)
                )
                return None, uow.phases.add(phase)
            phase = _target(proposal, uow.phases.get(proposal.target_id))
            state = phase.audit_state()
            _assign(proposal, phase, fields)
            return state, uow.phases.update(phase)
        case ProposalTarget.TASK:
            if proposal.target_id is None:
                project_id = uow.initiatives.get(proposal.initiative_id).project_id
                task = _built(
                    proposal,
                    lambda: Task(
                        project_id=project_id, initiative_id=proposal.initiative_id, **fields
                    ),
                )
                return None, uow.tasks.add(task)
            task = _target(proposal, uow.tasks.get(proposal.target_id))
            state = task.audit_state()
            _assign(proposal, task, fields)
            return state, uow.tasks.update(task)
        case _:
            assert_never(kind)


def _fields(proposal: Proposal) -> dict[str, Any]:
    kind = proposal.target_type
    fields: dict[str, Any]
    match kind:
        case ProposalTarget.PAGE:
            fields = {"title": proposal.title, "content": tiptap_document(proposal.content)}
        case ProposalTarget.PHASE:
            fields = {"name": proposal.title, "content": tiptap_document(proposal.content)}
        case ProposalTarget.TASK:
            fields = {"name": proposal.title, "description": proposal.content}
        case _:
            assert_never(kind)
    details = proposal.details if isinstance(proposal.details, dict) else {}
    fields.update({name: details[name] for name in DETAIL_FIELDS[kind] if name in details})
    return fields


def _target(proposal: Proposal, target: T) -> T:
    if target.initiative_id != proposal.initiative_id:
        raise InvalidValue(
            "proposal",
            "target_id",
            target.id,
            f"is a {proposal.target_type.value} of another initiative",
        )
    return target


def _assign(proposal: Proposal, target: Page | Phase | Task, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        try:
            setattr(target, name, value)
        except InvalidValue as error:
            raise _blamed(proposal, error) from None


def _built(proposal: Proposal, build: Callable[[], T]) -> T:
    try:
        return build()
    except InvalidValue as error:
        raise _blamed(proposal, error) from None


def _blamed(proposal: Proposal, error: InvalidValue) -> InvalidValue:
    """The target's refusal of a value, said of the proposal that carried it."""
    field = error.field
    if field in DETAIL_FIELDS[proposal.target_type]:
        field = f"details.{field}"
    return InvalidValue("proposal", field, error.value, f"cannot be applied: {error}")


def assign_task(uow: UnitOfWork, task_id: str, agent_id: str) -> Task:
    """The agent takes the task: `tasks.assigned_agent_id` and `agents.task_id` are written
    together, in the unit of work's transaction (one truth, written in one place).
    The task's previous agent lets go of it, and the task the agent held before is
    released, so an agent holds at most one task and a task one agent. Records
    `TaskAssigned`. Raises NotFound; InvalidValue for a completed task; Conflict when
    another unit of work changed the task or agent meanwhile (retry the unit of work).
    Every check comes before the first write."""
    task = uow.tasks.get(task_id)
    agent = uow.agents.get(agent_id)
    if task.status is TaskStatus.COMPLETED:
        raise InvalidValue(
            "task", "status", task.status.value, "is completed: it cannot be assigned"
        )
    if task.assigned_agent_id not in (None, agent.id):
        previous = uow.agents.find(task.assigned_agent_id)
        if previous is not None and previous.task_id == task.id:
            previous.task_id = None
            uow.agents.update(previous)
    if agent.task_id not in (None, task.id):
        held = uow.tasks.find(agent.task_id)
        if held is not None and held.assigned_agent_id == agent.id:
            held.assigned_agent_id = None
            uow.tasks.update(held)
    agent.task_id = task.id
    uow.agents.update(agent)
    task.assigned_agent_id = agent.id
    assigned = uow.tasks.update(task)
    uow.record(TaskAssigned(task.id, agent.id))
    return assigned


DEFAULT_LEASE = timedelta(minutes=5)
_IN_PROGRESS = TaskStatus.IN_PROGRESS


def claim_next_ready_task(
    uow: UnitOfWork,
    agent_id: str,
    *,
    project_id: str | None = None,
    initiative_id: str | None = None,
    phase_id: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> Task | None:
    """A worker's first call: hand the agent the next ready task of the scope
    (`tasks.claim_next_ready`), or None. Atomic: no two agents get one task. The task goes
    in progress, held by the agent until `claimed_until`: renew the lease with
    `uow.tasks.renew_lease` well before it runs out. Tasks of the scope whose lease ran out
    are taken over first: their holders crashed as far as those tasks go (the crash rule:
    `retry_count` + 1, `TaskCrashed`, blocked past `tasks.maxCrashRetries`). The agent's
    `task_id` is written in the same transaction. Records `TaskAssigned`. Raises NotFound
    (no such agent), InvalidValue (no scope; a lease that is not a positive timedelta; the
    agent already holds an in-progress task: complete, fail or release it first). Every
    check comes before the first write."""
    agent = uow.agents.get(agent_id)
    held = None if agent.task_id is None else uow.tasks.find(agent.task_id)
    if held is not None and held.assigned_agent_id == agent.id and held.status is _IN_PROGRESS:
        problem = f"already holds task {held.id!r}: complete, fail or release it first"
        raise InvalidValue("agent", "task_id", held.id, problem)
    scope = {"project_id": project_id, "initiative_id": initiative_id, "phase_id": phase_id}
    task = uow.tasks.claim_next_ready(agent.id, lease, **scope)
    if task is None:
        return None
    agent = uow.agents.get(agent.id)  # a takeover may have cleared its old link
    agent.task_id = task.id
    uow.agents.update(agent)
    uow.record(TaskAssigned(task.id, agent.id))
    return task


def release_task(uow: UnitOfWork, task_id: str, *, agent_id: str | None = None) -> Task:
    """Nobody holds the task any more: its `assigned_agent_id` and its agent's `task_id`
    (if it still points at the task) are cleared together, and so is its lease. The task
    keeps its status (an in-progress task released by its worker waits for a person or a
    `tasks.move_to`; a worker that cannot go on should `fail_task` instead). With
    `agent_id`, only the agent holding the task may release it. Records `TaskAssigned` with
    no agent. Raises NotFound, LeaseLost."""
    task = uow.tasks.get(task_id)
    if agent_id is not None and (
        task.assigned_agent_id != agent_id or task.status is not _IN_PROGRESS
    ):
        raise LeaseLost(task.id, agent_id, task.assigned_agent_id, task.status.value)
    if task.assigned_agent_id is not None:
        agent = uow.agents.find(task.assigned_agent_id)
        if agent is not None and agent.task_id == task.id:
            agent.task_id = None
            uow.agents.update(agent)
        task.assigned_agent_id = None
        task = uow.tasks.update(task)
    uow.record(TaskAssigned(task.id, None))
    return task


def complete_task(
    uow: UnitOfWork, task_id: str, summary: str | None = None, *, agent_id: str | None = None
) -> Task:
    """A worker's call when its agent succeeded: complete the task with its summary
    (`tasks.complete`), which its dependents read as context. With `agent_id` (the worker's
    agent), the agent must still hold the task (LeaseLost otherwise: another claim took it
    over), lets go of it (`agents.task_id` cleared) and counts it (`tasks_completed` + 1).
    The phase and initiative follow the task in the repositories (001's review flow: the
    last open task of an in-progress phase moves the phase to `pending_review` if its
    initiative reviews each phase, else to `completed`; the last phase of an active
    initiative moves the initiative the same way). Raises NotFound, InvalidTransition,
    LeaseLost."""
    task = uow.tasks.complete(task_id, summary, agent_id=agent_id)
    if agent_id is not None:
        _let_go(uow, agent_id, task.id)
        uow.agents.record_task_completed(agent_id)
    return task


def fail_task(uow: UnitOfWork, task_id: str, reason: str, *, agent_id: str | None = None) -> Task:
    """A worker's call when its agent gave up on the task (an error it cannot get past; a
    crash is not reported this way: the worker is gone, and its lease running out or
    recovery says it). The attempt counts against `tasks.maxCrashRetries` as a crash does
    (`tasks.record_failure`): the task goes back to pending with `retry_count` + 1, or is
    blocked past the limit, `blocked_by` giving `reason`; nobody holds it any more (both
    agent links and the lease cleared). Records `TaskFailed` (and `TaskNeedsAttention`
    when blocked). With `agent_id`, the agent must still hold the task (LeaseLost) and its
    `tasks_failed` counts one more. Raises NotFound, InvalidValue (not in progress, a
    blank reason), LeaseLost."""
    task = uow.tasks.record_failure(task_id, reason, agent_id=agent_id)
    if agent_id is not None:
        uow.agents.record_task_failed(agent_id)
    return task


def _let_go(uow: UnitOfWork, agent_id: str, task_id: str) -> None:
    agent = uow.agents.get(agent_id)
    if agent.task_id == task_id:
        agent.task_id = None
        uow.agents.update(agent)
