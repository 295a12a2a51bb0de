"""Proposals, chat and change sets: the fakes and the databases agree, step by step, and a
revert restores exactly what was there.

A hypothesis state machine drives every backend with the same random operations on one
initiative (pages, phases and tasks created, edited and deleted, each change recorded as a
change set; proposals made, accepted and dismissed in bulk; chat sessions opened, closed
and written to; change sets reverted) and asserts after each step that all backends gave the
same result or error and hold the same rows, ids included: each step runs under the same
id numbering on every backend (`AgreementMachine`), so the ids the library draws (an
accepted proposal's new page, phase or task and its change set, chat messages, audit
entries) are the same everywhere. Proposals to create a page, phase or task are accepted
too, and what they create joins the plan. A revert is checked against the change set's own
before-states right after it runs. Invariants: no pending proposal and no active chat
session names a page, phase or task that is gone; at most one active session per target.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    multiple,
    rule,
)

from agentkeel.database import Database
from agentkeel.domain.agents import Agent
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import DomainError
from agentkeel.domain.ids import new_id
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    ChatRole,
    ChatSession,
    ChatTarget,
    Initiative,
    Page,
    Phase,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Task,
)
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.planning import accept_proposal
from tests.properties.harness import (
    AgreementMachine,
    Outcome,
    check_agreement,
    on_every_backend,
)

PROJECT, INITIATIVE, AGENT = "project-1", "initiative-1", "agent-1"
SPAWNED = datetime(2025, 6, 1, tzinfo=UTC)
TITLES = st.sampled_from(["Plan", "Build", "Ship", "x" * 300, "", "a\x00b"])
KINDS = st.sampled_from(list(ChangedEntity))
BOOKKEEPING = {"created_at", "updated_at", "row_version"}


def _repository(uow: UnitOfWork, kind: ChangedEntity) -> Any:
    return {"page": uow.pages, "phase": uow.phases, "task": uow.tasks}[kind.value]


def _content(state: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if state is None else {k: v for k, v in state.items() if k not in BOOKKEEPING}


class PlanningReviewAgreement(AgreementMachine):
    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__(open_backends)
        for db in self.dbs.values():
            with db.unit_of_work() as uow:
                uow.projects.add(Project(id=PROJECT, name="Keel"))
                uow.initiatives.add(Initiative(id=INITIATIVE, project_id=PROJECT, name="Auth"))
                # Fixed times: the agent's own stamps are not this machine's concern.
                uow.agents.add(
                    Agent(id=AGENT, name="planner", spawned_at=SPAWNED, last_activity_at=SPAWNED)
                )
                uow.commit()

    pages = Bundle("pages")
    phases = Bundle("phases")
    tasks = Bundle("tasks")
    proposals = Bundle("proposals")
    # Proposals to create a page, a phase or a task (`target_id` null).
    page_creates = Bundle("page_creates")
    phase_creates = Bundle("phase_creates")
    task_creates = Bundle("task_creates")
    sessions = Bundle("sessions")

    def recorded(self, build: Callable[[], Entity], kind: ChangedEntity) -> Any:
        """Create an entity everywhere and record it as a change set of its own."""
        try:
            entity = build()
        except DomainError:
            return multiple()
        change_set_id, entry_id = new_id(), new_id()

        def create(uow: UnitOfWork) -> Any:
            stored = _repository(uow, kind).add(entity)
            uow.change_sets.record(
                ChangeSet(id=change_set_id, initiative_id=INITIATIVE),
                [
                    ChangeSetEntry(
                        id=entry_id,
                        change_set_id=change_set_id,
                        entity_type=kind,
                        entity_id=stored.id,
                        action=ChangeAction.CREATE,
                        after_state=stored.audit_state(),
                    )
                ],
            )
            return stored

        outcome = self.run(create)
        return outcome[1]["id"] if outcome[0] == "ok" else multiple()

    # -- the plan, each change recorded ------------------------------------------------------

    @rule(target=pages, title=TITLES, parent=st.one_of(st.none(), pages))
    def create_page(self, title: str, parent: str | None) -> Any:
        return self.recorded(
            lambda: Page(initiative_id=INITIATIVE, parent_page_id=parent, title=title),
            ChangedEntity.PAGE,
        )

    @rule(target=phases, name=TITLES)
    def create_phase(self, name: str) -> Any:
        return self.recorded(
            lambda: Phase(initiative_id=INITIATIVE, name=name), ChangedEntity.PHASE
        )

    @rule(target=tasks, name=TITLES, phase=st.one_of(st.none(), phases))
    def create_task(self, name: str, phase: str | None) -> Any:
        return self.recorded(
            lambda: Task(project_id=PROJECT, initiative_id=INITIATIVE, phase_id=phase, name=name),
            ChangedEntity.TASK,
        )

    def _change(self, kind: ChangedEntity, key: str, title: str | None) -> None:
        """Rename (title given) or delete an entity, recording the change."""
        change_set_id, entry_id = new_id(), new_id()

        def change(uow: UnitOfWork) -> Any:
            repository = _repository(uow, kind)
            entity = repository.get(key)
            before = entity.audit_state()
            if title is None:
                repository.delete(key)
                after, action = None, ChangeAction.DELETE
            else:
                setattr(entity, "title" if kind is ChangedEntity.PAGE else "name", title)
                after, action = repository.update(entity).audit_state(), ChangeAction.UPDATE
            entry = ChangeSetEntry(
                id=entry_id,
                change_set_id=change_set_id,
                entity_type=kind,
                entity_id=key,
                action=action,
                before_state=before,
                after_state=after,
            )
            uow.change_sets.record(ChangeSet(id=change_set_id, initiative_id=INITIATIVE), [entry])
            return after

        self.run(change)

    @rule(page=pages, title=TITLES)
    def rename_page(self, page: str, title: str) -> None:
        self._change(ChangedEntity.PAGE, page, title)

    @rule(phase=phases, name=TITLES)
    def rename_phase(self, phase: str, name: str) -> None:
        self._change(ChangedEntity.PHASE, phase, name)

    @rule(task=tasks, name=TITLES)
    def rename_task(self, task: str, name: str) -> None:
        self._change(ChangedEntity.TASK, task, name)

    @rule(page=pages)
    def delete_page(self, page: str) -> None:
        self._change(ChangedEntity.PAGE, page, None)

    @rule(phase=phases)
    def delete_phase(self, phase: str) -> None:
        self._change(ChangedEntity.PHASE, phase, None)

    @rule(task=tasks)
    def delete_task(self, task: str) -> None:
        self._change(ChangedEntity.TASK, task, None)

    @rule(pick=st.integers(0, 50))
    def revert(self, pick: int) -> None:
        def revert(uow: UnitOfWork) -> Any:
            change_sets = uow.change_sets.find_by_initiative(INITIATIVE)
            if not change_sets:
                return None
            chosen = change_sets[pick % len(change_sets)]
            entries = uow.change_sets.entries(chosen.id)
            reverted = uow.change_sets.revert(chosen.id)
            # Exactly what was there before the change, every field but the bookkeeping.
            for entry in entries:
                found = _repository(uow, entry.entity_type).find(entry.entity_id)
                now = None if found is None else found.audit_state()
                before = entry.before_state
                assert before is None or isinstance(before, dict)
                assert _content(now) == _content(before), entry
            event(f"revert of {len(entries)} entries done")
            return reverted.reverted_at

        self.run(revert)

    # -- proposals -----------------------------------------------------------------------------

    @rule(
        target=proposals,
        kind=KINDS,
        page=pages,
        phase=phases,
        task=tasks,
        title=TITLES,
        content=st.sampled_from([None, "Body", "One\n\nTwo"]),
    )
    def propose(
        self, kind: ChangedEntity, page: str, phase: str, task: str, title: str, content: str | None
    ) -> Any:
        target = {"page": page, "phase": phase, "task": task}[kind.value]
        try:
            proposal = Proposal(
                agent_id=AGENT,
                initiative_id=INITIATIVE,
                target_type=ProposalTarget(kind.value),
                target_id=target,
                title=title,
                content=content,
            )
        except DomainError:
            return multiple()
        outcome = self.run(lambda uow: uow.proposals.add(proposal))
        return proposal.id if outcome[0] == "ok" else multiple()

    @rule(proposal=proposals)
    def accept(self, proposal: str) -> None:
        self._accept(proposal)

    def _accept(self, proposal: str) -> Outcome:
        def accept(uow: UnitOfWork) -> Any:
            accepted = accept_proposal(uow, proposal)
            entries = uow.change_sets.entries(accepted.change_set.id)
            event(f"proposal accepted ({entries[0].action.value})")
            return accepted.proposal, accepted.target, accepted.change_set, entries

        return self.run(accept)

    def _propose_create(
        self, kind: ChangedEntity, title: str, content: str | None, details: dict[str, Any]
    ) -> Any:
        try:
            proposal = Proposal(
                agent_id=AGENT,
                initiative_id=INITIATIVE,
                target_type=ProposalTarget(kind.value),
                title=title,
                content=content,
                details=details,
            )
        except DomainError:
            return multiple()
        outcome = self.run(lambda uow: uow.proposals.add(proposal))
        return proposal.id if outcome[0] == "ok" else multiple()

    def _accept_create(self, proposal: str) -> Any:
        """Accept a proposal to create: the new entity (its id drawn by the library, the same
        on every backend) joins the plan."""
        outcome = self._accept(proposal)
        if outcome[0] != "ok":
            return multiple()
        created: str = outcome[1][1]["id"]
        assert outcome[1][0]["target_id"] == created
        return created

    @rule(
        target=page_creates,
        title=TITLES,
        content=st.sampled_from([None, "Body", "One\n\nTwo"]),
        sort_order=st.sampled_from([None, 3, "high"]),
    )
    def propose_page(self, title: str, content: str | None, sort_order: Any) -> Any:
        details = {} if sort_order is None else {"sort_order": sort_order}
        return self._propose_create(ChangedEntity.PAGE, title, content, details)

    @rule(target=phase_creates, title=TITLES, content=st.sampled_from([None, "Body"]))
    def propose_phase(self, title: str, content: str | None) -> Any:
        return self._propose_create(ChangedEntity.PHASE, title, content, {})

    @rule(
        target=task_creates,
        title=TITLES,
        content=st.sampled_from([None, "Do it"]),
        phase=st.one_of(st.none(), phases),
        priority=st.sampled_from([None, "high", "urgent"]),
    )
    def propose_task(
        self, title: str, content: str | None, phase: str | None, priority: str | None
    ) -> Any:
        details: dict[str, Any] = {} if phase is None else {"phase_id": phase}
        if priority is not None:
            details["priority"] = priority
        return self._propose_create(ChangedEntity.TASK, title, content, details)

    @rule(target=pages, proposal=consumes(page_creates))
    def accept_page(self, proposal: str) -> Any:
        return self._accept_create(proposal)

    @rule(target=phases, proposal=consumes(phase_creates))
    def accept_phase(self, proposal: str) -> Any:
        return self._accept_create(proposal)

    @rule(target=tasks, proposal=consumes(task_creates))
    def accept_task(self, proposal: str) -> Any:
        return self._accept_create(proposal)

    @rule(
        status=st.sampled_from(list(ProposalStatus)),
        from_status=st.one_of(st.none(), st.sampled_from(list(ProposalStatus))),
    )
    def move_all(self, status: ProposalStatus, from_status: ProposalStatus | None) -> None:
        self.run(
            lambda uow: uow.proposals.update_many_by_agent(
                AGENT, status=status, from_status=from_status
            )
        )

    @rule(status=st.one_of(st.none(), st.sampled_from(list(ProposalStatus))))
    def read_proposals(self, status: ProposalStatus | None) -> None:
        self.run(
            lambda uow: (
                uow.proposals.find_by_agent_and_status(AGENT, status),
                uow.proposals.count_by_agent_and_status(AGENT, status),
            )
        )

    # -- chat ------------------------------------------------------------------------------------

    @rule(target=sessions, on_phase=st.booleans(), phase=phases, task=tasks)
    def open_session(self, on_phase: bool, phase: str, task: str) -> Any:
        session = ChatSession(
            target_type=ChatTarget.PHASE if on_phase else ChatTarget.TASK,
            target_id=phase if on_phase else task,
            initiative_id=INITIATIVE,
            agent_id=AGENT,
        )
        outcome = self.run(lambda uow: uow.chat_sessions.create_session(session))
        return outcome[1]["id"] if outcome[0] == "ok" else multiple()

    @rule(session=sessions)
    def close_session(self, session: str) -> None:
        self.run(lambda uow: uow.chat_sessions.close_session(session))

    @rule(session=sessions, role=st.sampled_from(list(ChatRole)), content=TITLES)
    def post(self, session: str, role: ChatRole, content: str) -> None:
        def post(uow: UnitOfWork) -> Any:
            message = uow.chat_messages.create_message(session, role, content)
            return message.sequence, [
                m.content for m in uow.chat_messages.find_messages_by_session(session)
            ]

        self.run(post)

    @rule(session=consumes(sessions))
    def delete_session(self, session: str) -> None:
        self.run(lambda uow: uow.chat_sessions.delete(session))

    # -- what must always hold ----------------------------------------------------------------

    @invariant()
    def contents_agree_and_targets_hold(self) -> None:
        contents = self.agreed_contents()
        present = {
            kind: {row["id"] for row in contents[table]}
            for kind, table in (("page", "pages"), ("phase", "phases"), ("task", "tasks"))
        }
        for proposal in contents["proposals"]:
            if proposal["status"] == "pending" and proposal["target_id"] is not None:
                assert proposal["target_id"] in present[proposal["target_type"]]
        active = [
            (s["target_type"], s["target_id"])
            for s in contents["chat_sessions"]
            if s["status"] == "active"
        ]
        assert len(active) == len(set(active)), "two active sessions on one target"
        for target_type, target_id in active:
            assert target_id in present[target_type]


@on_every_backend
def test_memory_and_databases_agree_on_proposals_chat_and_change_sets(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    check_agreement(PlanningReviewAgreement, sqlite_template, request)
