"""Builders for the proposal, review and chat tests: an initiative with an agent, phases,
tasks and pages, through the generic ports only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentkeel.domain.agents import Agent
from agentkeel.domain.planning import (
    ChatSession,
    ChatTarget,
    Initiative,
    Page,
    Phase,
    Proposal,
    ProposalTarget,
    ReviewComment,
    Task,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


@dataclass
class Plan:
    initiative: Initiative
    agent: Agent


def plan(uow: UnitOfWork, name: str = "Auth") -> Plan:
    project = factories.project(uow, f"Keel {name}")
    initiative = uow.initiatives.add(Initiative(project_id=project.id, name=name))
    agent = uow.agents.add(Agent(name=f"agent-{name.lower()}"))
    return Plan(initiative, agent)


def phase(uow: UnitOfWork, owner: Plan, name: str = "Design", **fields: Any) -> Phase:
    return uow.phases.add(Phase(initiative_id=owner.initiative.id, name=name, **fields))


def task(uow: UnitOfWork, owner: Plan, name: str = "Schema", **fields: Any) -> Task:
    return uow.tasks.add(
        Task(
            project_id=owner.initiative.project_id,
            initiative_id=owner.initiative.id,
            name=name,
            **fields,
        )
    )


def page(uow: UnitOfWork, owner: Plan, title: str = "Root", **fields: Any) -> Page:
    return uow.pages.add(Page(initiative_id=owner.initiative.id, title=title, **fields))


def proposal(
    uow: UnitOfWork,
    owner: Plan,
    target_type: ProposalTarget = ProposalTarget.TASK,
    target_id: str | None = None,
    title: str = "Add login",
    **fields: Any,
) -> Proposal:
    return uow.proposals.add(
        Proposal(
            agent_id=owner.agent.id,
            initiative_id=owner.initiative.id,
            target_type=target_type,
            target_id=target_id,
            title=title,
            **fields,
        )
    )


def session(
    uow: UnitOfWork, owner: Plan, target_type: ChatTarget, target_id: str, **fields: Any
) -> ChatSession:
    return uow.chat_sessions.create_session(
        ChatSession(
            target_type=target_type,
            target_id=target_id,
            initiative_id=owner.initiative.id,
            **fields,
        )
    )


def comment(
    uow: UnitOfWork, on: Phase, file_path: str, line_number: int, **fields: Any
) -> ReviewComment:
    fields.setdefault("line_type", "added")
    fields.setdefault("body", "why?")
    return uow.review_comments.add(
        ReviewComment(phase_id=on.id, file_path=file_path, line_number=line_number, **fields)
    )
