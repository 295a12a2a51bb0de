"""Proposals: finders by agent and status, set-based moves, the status machine, targets in
the initiative, accepting (apply + change set), and what deleting a target does."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import InvalidTransition, InvalidValue, NotFound
from agentkeel.domain.planning import (
    ChangeAction,
    ChatStatus,
    ChatTarget,
    ProposalStatus,
    ProposalTarget,
    TaskPriority,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.planning import accept_proposal, tiptap_document
from tests.contract.planning import review_data as data

_P = ProposalStatus


def test_find_and_count_by_agent_and_status(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    other = data.plan(uow, "Billing")
    b = data.proposal(uow, owner, title="b", sort_order=2)
    a = data.proposal(uow, owner, title="a", sort_order=1)
    dismissed = data.proposal(uow, owner, title="c", status=_P.DISMISSED)
    data.proposal(uow, other, title="elsewhere")
    found = uow.proposals.find_by_agent_and_status(owner.agent.id, _P.PENDING)
    assert [p.id for p in found] == [a.id, b.id]
    everything = uow.proposals.find_by_agent_and_status(owner.agent.id)
    assert {p.id for p in everything} == {a.id, b.id, dismissed.id}
    assert uow.proposals.count_by_agent_and_status(owner.agent.id, _P.PENDING) == 2
    assert uow.proposals.count_by_agent_and_status(owner.agent.id, _P.DISMISSED) == 1
    assert uow.proposals.count_by_agent_and_status(owner.agent.id) == 3
    assert uow.proposals.count_by_agent_and_status("nobody") == 0


def test_update_many_by_agent_moves_only_what_may_move(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    other = data.plan(uow, "Billing")
    pending = [data.proposal(uow, owner, title=f"p{i}") for i in range(3)]
    accepted = data.proposal(uow, owner, title="done")
    accepted.status = _P.ACCEPTED
    accepted = uow.proposals.update(accepted)
    theirs = data.proposal(uow, other)
    moved = uow.proposals.update_many_by_agent(
        owner.agent.id, status=_P.DISMISSED, from_status=_P.PENDING
    )
    assert moved == 3
    for before in pending:
        after = uow.proposals.get(before.id)
        assert after.status is _P.DISMISSED
        assert after.row_version == before.row_version + 1
        assert after.updated_at > before.updated_at
        # Read again after the set-based move, it can be written as usual.
        after.title = "again"
        assert uow.proposals.update(after).row_version == before.row_version + 2
    assert uow.proposals.get(accepted.id).status is _P.ACCEPTED
    assert uow.proposals.get(accepted.id).row_version == accepted.row_version
    assert uow.proposals.get(theirs.id).status is _P.PENDING
    # Without from_status: every proposal that may move there (dismissed -> pending).
    assert uow.proposals.update_many_by_agent(owner.agent.id, status=_P.PENDING) == 3
    assert uow.proposals.count_by_agent_and_status(owner.agent.id, _P.PENDING) == 3


def test_update_many_by_agent_refuses_an_impossible_move(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    data.proposal(uow, owner)
    with pytest.raises(InvalidTransition) as caught:
        uow.proposals.update_many_by_agent(
            owner.agent.id, status=_P.PENDING, from_status=_P.ACCEPTED
        )
    assert str(caught.value) == "proposal.status cannot change from 'accepted' to 'pending'"
    with pytest.raises(InvalidValue, match=r"proposal\.status must be one of"):
        uow.proposals.update_many_by_agent(owner.agent.id, status="gone")  # type: ignore[arg-type]
    assert uow.proposals.count_by_agent_and_status(owner.agent.id, _P.PENDING) == 1


def test_status_machine(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    proposal = data.proposal(uow, owner)
    proposal.status = _P.DISMISSED
    proposal = uow.proposals.update(proposal)
    proposal.status = _P.PENDING
    proposal = uow.proposals.update(proposal)
    proposal.status = _P.ACCEPTED
    proposal = uow.proposals.update(proposal)
    proposal.status = _P.DISMISSED
    with pytest.raises(InvalidTransition, match="from 'accepted' to 'dismissed'"):
        uow.proposals.update(proposal)


def test_target_must_be_in_the_initiative(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    other = data.plan(uow, "Billing")
    theirs = data.phase(uow, other)
    with pytest.raises(InvalidValue) as caught:
        data.proposal(uow, owner, ProposalTarget.PHASE, theirs.id)
    assert caught.value.field == "target_id"
    assert "is a phase of another initiative" in str(caught.value)
    with pytest.raises(InvalidValue, match=r"proposal\.target_id names no task"):
        data.proposal(uow, owner, ProposalTarget.TASK, "missing")
    ours = data.phase(uow, owner)
    # A phase id named as a task is no task.
    with pytest.raises(InvalidValue, match="names no task"):
        data.proposal(uow, owner, ProposalTarget.TASK, ours.id)
    proposal = data.proposal(uow, owner, ProposalTarget.PHASE, ours.id)
    proposal.target_id = theirs.id
    with pytest.raises(InvalidValue, match="another initiative"):
        uow.proposals.update(proposal)
    assert uow.proposals.count() == 1


def test_accept_creates_each_kind_of_target(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    root = data.page(uow, owner)
    phase = data.phase(uow, owner)
    content = "First block.\n\nSecond block."
    page_p = data.proposal(
        uow,
        owner,
        ProposalTarget.PAGE,
        title="Notes",
        content=content,
        details={"parent_page_id": root.id, "sort_order": 3, "agent_note": "kept aside"},
    )
    phase_p = data.proposal(uow, owner, ProposalTarget.PHASE, title="Build", content=content)
    task_p = data.proposal(
        uow,
        owner,
        ProposalTarget.TASK,
        title="Write code",
        content=content,
        summary="why",
        details={"phase_id": phase.id, "priority": "high", "order_index": 4},
    )
    page = uow.pages.get(accept_proposal(uow, page_p.id).target.id)
    assert page.title == "Notes"
    assert page.content == tiptap_document(content)
    assert page.parent_page_id == root.id and page.sort_order == 3
    built = uow.phases.get(accept_proposal(uow, phase_p.id).target.id)
    assert built.name == "Build" and built.initiative_id == owner.initiative.id
    accepted = accept_proposal(uow, task_p.id)
    task = uow.tasks.get(accepted.target.id)
    assert (task.name, task.description, task.phase_id) == ("Write code", content, phase.id)
    assert (task.priority, task.order_index) == (TaskPriority.HIGH, 4)
    assert task.project_id == owner.initiative.project_id
    assert accepted.proposal.status is _P.ACCEPTED
    assert accepted.proposal.target_id == task.id
    assert uow.proposals.get(task_p.id).target_id == task.id
    [entry] = uow.change_sets.entries(accepted.change_set.id)
    assert entry.action is ChangeAction.CREATE and entry.before_state is None
    assert entry.after_state == task.audit_state()
    assert accepted.change_set.initiative_id == owner.initiative.id
    assert accepted.change_set.description == "Accepted proposal: Write code"


def test_accept_updates_an_existing_target(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    task = data.task(uow, owner, "Old name", description="old")
    proposal = data.proposal(
        uow, owner, ProposalTarget.TASK, task.id, title="New name", content="new"
    )
    accepted = accept_proposal(uow, proposal.id)
    now = uow.tasks.get(task.id)
    assert (now.name, now.description) == ("New name", "new")
    [entry] = uow.change_sets.entries(accepted.change_set.id)
    assert entry.action is ChangeAction.UPDATE
    assert entry.before_state == task.audit_state()
    assert entry.after_state == now.audit_state()
    uow.change_sets.revert(accepted.change_set.id)
    again = uow.tasks.get(task.id)
    assert (again.name, again.description) == ("Old name", "old")


def test_accept_refusals_write_nothing(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    with pytest.raises(NotFound):
        accept_proposal(uow, "missing")
    bad = data.proposal(uow, owner, ProposalTarget.TASK, details={"priority": "urgent"})
    with pytest.raises(InvalidValue) as caught:
        accept_proposal(uow, bad.id)
    assert caught.value.field == "details.priority"
    done = data.proposal(uow, owner, ProposalTarget.PHASE)
    accept_proposal(uow, done.id)
    with pytest.raises(InvalidTransition, match="from 'accepted' to 'accepted'"):
        accept_proposal(uow, done.id)
    # The target went after the proposal was made: the proposal was dismissed with it.
    task = data.task(uow, owner)
    gone = data.proposal(uow, owner, ProposalTarget.TASK, task.id)
    uow.tasks.delete(task.id)
    with pytest.raises(InvalidTransition, match="from 'dismissed' to 'accepted'"):
        accept_proposal(uow, gone.id)
    assert uow.tasks.count() == 0
    assert uow.proposals.get(bad.id).status is _P.PENDING
    assert len(uow.change_sets.find_by_initiative(owner.initiative.id)) == 1


def test_deleting_a_target_dismisses_its_pending_proposals_and_closes_its_sessions(
    uow: UnitOfWork,
) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    task = data.task(uow, owner, phase_id=phase.id)
    sub = data.task(uow, owner, "Sub", parent_task_id=task.id)
    other = data.task(uow, owner, "Other")
    on_phase = data.proposal(uow, owner, ProposalTarget.PHASE, phase.id)
    on_sub = data.proposal(uow, owner, ProposalTarget.TASK, sub.id)
    on_other = data.proposal(uow, owner, ProposalTarget.TASK, other.id)
    accepted = data.proposal(uow, owner, ProposalTarget.TASK, task.id, status=_P.ACCEPTED)
    chat_phase = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    chat_sub = data.session(uow, owner, ChatTarget.TASK, sub.id)
    chat_other = data.session(uow, owner, ChatTarget.TASK, other.id)
    # Deleting the phase cascades to its task and the task's subtask.
    uow.phases.delete(phase.id)
    assert uow.proposals.get(on_phase.id).status is _P.DISMISSED
    assert uow.proposals.get(on_sub.id).status is _P.DISMISSED
    assert uow.proposals.get(accepted.id).status is _P.ACCEPTED
    assert uow.proposals.get(on_other.id).status is _P.PENDING
    assert uow.chat_sessions.get(chat_phase.id).status is ChatStatus.CLOSED
    assert uow.chat_sessions.get(chat_sub.id).status is ChatStatus.CLOSED
    assert uow.chat_sessions.get(chat_other.id).status is ChatStatus.ACTIVE
    uow.tasks.delete(other.id)
    assert uow.proposals.get(on_other.id).status is _P.DISMISSED
    assert uow.chat_sessions.get(chat_other.id).status is ChatStatus.CLOSED
    root = data.page(uow, owner)
    on_page = data.proposal(uow, owner, ProposalTarget.PAGE, root.id)
    uow.pages.delete(root.id)
    assert uow.proposals.get(on_page.id).status is _P.DISMISSED


def test_proposals_go_with_their_agent_and_initiative(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    data.proposal(uow, owner)
    uow.agents.delete(owner.agent.id)
    assert uow.proposals.count() == 0
    other = data.plan(uow, "Billing")
    data.proposal(uow, other)
    uow.initiatives.delete(other.initiative.id)
    assert uow.proposals.count() == 0
