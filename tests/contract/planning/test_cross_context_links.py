"""The foreign keys between the agents and planning contexts that arrive with planning:
deleting a planning row leaves the agents and conversations that pointed at it in place,
with the link cleared (SET NULL), and deleting an agent leaves the planning rows that
pointed at it the same way, on every backend. `uow.agents.find_by_task_id` (CW
`findByTaskId`) reads the link."""

from __future__ import annotations

from agentkeel.domain.agents import Conversation
from agentkeel.domain.planning import ChatSession, ChatTarget, Errand
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def linked(uow: UnitOfWork) -> tuple[str, str, str, str, str, str]:
    """A project's initiative, phase and task, an agent working on the task in that
    initiative, and a conversation about all three: (initiative, phase, task, agent,
    asker, conversation) ids."""
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    task = factories.task(uow, project, phase_id=phase.id)
    agent = factories.agent(uow, task_id=task.id, initiative_id=initiative.id)
    asker = factories.agent(uow, "calm-heron")
    talk = uow.conversations.add(
        Conversation(
            from_agent_id=asker.id,
            to_agent_id=agent.id,
            question="Which schema?",
            initiative_id=initiative.id,
            phase_id=phase.id,
            task_id=task.id,
        )
    )
    return initiative.id, phase.id, task.id, agent.id, asker.id, talk.id


def test_deleting_a_task_clears_the_links_to_it(uow: UnitOfWork) -> None:
    initiative, phase, task, agent, _, talk = linked(uow)
    uow.tasks.delete(task)
    assert uow.agents.get(agent).task_id is None
    assert uow.agents.get(agent).initiative_id == initiative
    conversation = uow.conversations.get(talk)
    assert (conversation.initiative_id, conversation.phase_id, conversation.task_id) == (
        initiative,
        phase,
        None,
    )


def test_deleting_a_phase_clears_the_links_to_it_and_its_tasks(uow: UnitOfWork) -> None:
    initiative, phase, _, agent, _, talk = linked(uow)
    removed = uow.phases.delete(phase)
    assert removed["tasks"] == 1
    assert uow.agents.get(agent).task_id is None
    conversation = uow.conversations.get(talk)
    assert (conversation.initiative_id, conversation.phase_id, conversation.task_id) == (
        initiative,
        None,
        None,
    )


def test_deleting_an_initiative_clears_every_link_into_it(uow: UnitOfWork) -> None:
    initiative, _, _, agent, asker, talk = linked(uow)
    removed = uow.initiatives.delete(initiative)
    assert removed == {"initiatives": 1, "phases": 1, "tasks": 1}
    working = uow.agents.get(agent)
    assert (working.task_id, working.initiative_id) == (None, None)
    conversation = uow.conversations.get(talk)
    assert (conversation.initiative_id, conversation.phase_id, conversation.task_id) == (
        None,
        None,
        None,
    )
    assert {a.id for a in uow.agents.list()} == {agent, asker}


def test_deleting_an_agent_clears_or_removes_what_pointed_at_it(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    agent = factories.agent(uow)
    task = factories.task(uow, project, assigned_agent_id=agent.id)
    session = uow.chat_sessions.create_session(
        ChatSession(
            target_type=ChatTarget.PHASE,
            target_id=phase.id,
            initiative_id=initiative.id,
            agent_id=agent.id,
        )
    )
    repository = factories.repository(uow, project)
    errand = uow.errands.add(
        Errand(id="errand-1", description="d", branch="b", repository_id=repository.id)
    )
    errand.agent_id = agent.id
    uow.errands.update(errand)
    uow.agents.delete(agent.id)
    assert uow.tasks.get(task.id).assigned_agent_id is None
    assert uow.chat_sessions.get(session.id).agent_id is None
    assert uow.errands.get("errand-1").agent_id is None


def test_find_by_task_reads_the_agent_working_on_a_task(uow: UnitOfWork) -> None:
    _, _, task, agent, _, _ = linked(uow)
    found = uow.agents.find_by_task_id(task)
    assert found is not None and found.id == agent
    other = factories.task(uow, uow.projects.list()[0], "other")
    assert uow.agents.find_by_task_id(other.id) is None
    assert uow.agents.find_by_task_id("no-such-task") is None
