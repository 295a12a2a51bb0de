"""The in-memory fakes and the databases agree on conversations, messages and interaction
sessions, step by step.

A hypothesis state machine drives every backend with the same random operations (agents
asking and answering each other, messages and replies between agents and the user, reads,
interaction sessions started, ended and rewritten, the generic `update` paths included) and
deletes of projects, agents and parent messages with their cascades, each in its own unit of
work. After each step all backends returned the same result or raised the same error (type
and message), and their whole contents are equal. Ids that the ports make themselves (`ask`,
`reply`, `start`) come from the same sequence on every backend. Invariants check what must
hold anyway: no orphans, an answer exactly when answered, each party an agent with its id or
the user without, a response implying a read, `ended_at` exactly when a session has ended
and never before it started.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)

from agentkeel.database import Database
from agentkeel.domain.agents import (
    Agent,
    Conversation,
    ConversationStatus,
    InteractionSession,
    Message,
    Party,
    SessionStatus,
    SessionType,
)
from agentkeel.domain.entity import Entity
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

E = TypeVar("E", bound=Entity)
FLAGGED = datetime(2025, 6, 1, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)

AGENT_NAMES = st.sampled_from(
    ["brave-otter", "calm-heron", "quick-lynx", "keen-wren", "bold-yak", "shy-ibis", "o'brien-🚢"]
)
# Mostly valid text, so that conversations and threads build up; sometimes odd or refused.
TEXT = st.one_of(
    st.sampled_from(["ok", 'it\'s "quoted"', "🚢 👍🏽", "'; DROP TABLE messages;--", "%_\\"]),
    st.sampled_from(["", "  ", "a\x00b", "\ud800"]),
    st.text(min_size=1, max_size=8),
)
PARTIES = st.sampled_from(list(Party))
DATA = st.one_of(
    st.none(),
    st.sampled_from([{"step": 1}, {"q": ["why?", "🚢"]}, {"bad": float("nan")}, {"n": "a\x00"}]),
)


class ConversationsAgreement(AgreementMachine):
    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__(open_backends)
        # Agents that exist, to draw two different ones (bundles tend to give one twice).
        self.live_agents: list[str] = []

    projects = Bundle("projects")
    agents = Bundle("agents")
    conversations = Bundle("conversations")
    messages = Bundle("messages")
    sessions = Bundle("sessions")

    # -- running one operation everywhere ---------------------------------------------------

    # -- projects and agents ----------------------------------------------------------------

    @rule(target=projects, name=st.sampled_from(["Keel", "Other"]))
    def create_project(self, name: str) -> Any:
        return self.created(lambda: Project(name=name), lambda uow, p: uow.projects.add(p))

    @rule(project=consumes(projects))
    def delete_project(self, project: str) -> None:
        self.run(lambda uow: uow.projects.delete(project))

    @rule(target=agents, name=AGENT_NAMES)
    def create_agent(self, name: str) -> Any:
        made = self.created(lambda: Agent(name=name), lambda uow, a: uow.agents.add(a))
        if isinstance(made, str):
            self.live_agents.append(made)
        return made

    def two_agents(self, data: st.DataObject) -> tuple[str, str]:
        first = data.draw(st.sampled_from(self.live_agents))
        return first, data.draw(st.sampled_from([a for a in self.live_agents if a != first]))

    @rule(target=agents, agent=consumes(agents), really=st.integers(0, 3))
    def delete_agent(self, agent: str, really: int) -> Any:
        if really:  # mostly kept, so that conversations and messages between them build up
            return agent
        self.run(lambda uow: uow.agents.delete(agent))
        self.live_agents.remove(agent)
        return multiple()

    # -- conversations ----------------------------------------------------------------------

    @precondition(lambda self: len(self.live_agents) >= 2)
    @rule(target=conversations, data=st.data(), question=TEXT)
    def ask(self, data: st.DataObject, question: str) -> Any:
        asker, asked = self.two_agents(data)
        return self.made(lambda uow: uow.conversations.ask(asker, asked, question))

    @rule(agent=agents)
    def ask_oneself(self, agent: str) -> None:
        self.run(lambda uow: uow.conversations.ask(agent, agent, "me?"))

    @rule(conversation=conversations, answer=TEXT)
    def answer(self, conversation: str, answer: str) -> None:
        self.run(lambda uow: uow.conversations.answer(conversation, answer))

    @rule(
        conversation=conversations,
        status=st.sampled_from(list(ConversationStatus)),
        answer=st.one_of(st.none(), TEXT),
        question=st.one_of(st.none(), TEXT),
    )
    def update_conversation_directly(
        self,
        conversation: str,
        status: ConversationStatus,
        answer: str | None,
        question: str | None,
    ) -> None:
        def update(uow: UnitOfWork) -> Conversation:
            found = uow.conversations.get(conversation)
            found.status = status
            found.answer = answer
            if question is not None:
                found.question = question
            return uow.conversations.update(found)

        self.run(update)

    @rule(conversation=consumes(conversations))
    def delete_conversation(self, conversation: str) -> None:
        self.run(lambda uow: uow.conversations.delete(conversation))

    @rule(agent=agents)
    def read_conversations(self, agent: str) -> None:
        self.run(
            lambda uow: (
                uow.conversations.find_pending_for_agent(agent),
                uow.conversations.list(from_agent_id=agent),
                uow.conversations.list(status=ConversationStatus.ANSWERED),
            )
        )

    # -- messages ---------------------------------------------------------------------------

    @precondition(lambda self: len(self.live_agents) >= 2)
    @rule(
        target=messages,
        data=st.data(),
        direction=st.sampled_from(["to the user", "from the user", "between agents"]),
        twist=st.sampled_from([None, None, None, "sender_type", "recipient_type"]),
        content=TEXT,
        requires_response=st.booleans(),
    )
    def send(
        self,
        data: st.DataObject,
        direction: str,
        twist: str | None,
        content: str,
        requires_response: bool,
    ) -> Any:
        """A message from an agent or the user to an agent or the user; `twist`
        gives one party the other type than its id says, which must be refused."""
        pair = self.two_agents(data)
        sender: str | None = None if direction == "from the user" else pair[0]
        recipient: str | None = None if direction == "to the user" else pair[1]
        kinds = {
            "sender_type": Party.AGENT if sender else Party.USER,
            "recipient_type": Party.AGENT if recipient else Party.USER,
        }
        if twist is not None:
            kinds[twist] = Party.USER if kinds[twist] is Party.AGENT else Party.AGENT
        return self.created(
            lambda: Message(
                sender_agent_id=sender,
                recipient_agent_id=recipient,
                content=content,
                requires_response_at=FLAGGED if requires_response else None,
                sender_type=kinds["sender_type"],
                recipient_type=kinds["recipient_type"],
            ),
            lambda uow, message: uow.messages.add(message),
        )

    @rule(target=messages, parent=messages, content=TEXT, requires_response=st.booleans())
    def reply(self, parent: str, content: str, requires_response: bool) -> Any:
        return self.made(
            lambda uow: uow.messages.reply(parent, content, requires_response=requires_response)
        )

    @rule(
        target=messages,
        parent=messages,
        sender=PARTIES,
        sender_agent=st.one_of(st.none(), agents),
        recipient_agent=st.one_of(st.none(), agents),
    )
    def add_reply_directly(
        self, parent: str, sender: Party, sender_agent: str | None, recipient_agent: str | None
    ) -> Any:
        """A reply through the generic `add`, to the right parties or the wrong ones."""
        return self.created(
            lambda: Message(
                sender_type=sender,
                sender_agent_id=sender_agent,
                recipient_type=Party.AGENT if recipient_agent else Party.USER,
                recipient_agent_id=recipient_agent,
                parent_message_id=parent,
                content="re",
            ),
            lambda uow, message: uow.messages.add(message),
        )

    @rule(message=messages)
    def mark_read(self, message: str) -> None:
        self.run(lambda uow: uow.messages.mark_read(message))

    @rule(
        message=messages,
        content=st.one_of(st.none(), TEXT),
        responded=st.booleans(),
        recipient_agent=st.one_of(st.none(), agents),
    )
    def update_message_directly(
        self, message: str, content: str | None, responded: bool, recipient_agent: str | None
    ) -> None:
        def update(uow: UnitOfWork) -> Message:
            found = uow.messages.get(message)
            if content is not None:
                found.content = content
            found.responded_at = FLAGGED if responded else None
            if recipient_agent is not None:
                found.recipient_agent_id = recipient_agent
            return uow.messages.update(found)

        self.run(update)

    @rule(sender=agents)
    def send_to_oneself(self, sender: str) -> None:
        message = Message(
            sender_type=Party.AGENT,
            sender_agent_id=sender,
            recipient_type=Party.AGENT,
            recipient_agent_id=sender,
            content="me",
        )
        self.run(lambda uow: uow.messages.add(message))

    @rule(message=consumes(messages))
    def delete_message(self, message: str) -> None:
        self.run(lambda uow: uow.messages.delete(message))

    @rule(message=messages, recipient=st.one_of(st.none(), PARTIES), agent=st.none() | agents)
    def read_messages(self, message: str, recipient: Party | None, agent: str | None) -> None:
        self.run(
            lambda uow: (
                uow.messages.find_pending_for_user(),
                uow.messages.find_requiring_response(
                    recipient_type=recipient, recipient_agent_id=agent
                ),
                uow.messages.find_replies(message),
            )
        )

    # -- interaction sessions ---------------------------------------------------------------

    @rule(target=sessions, project=projects, kind=st.sampled_from(list(SessionType)), data=DATA)
    def start_session(self, project: str, kind: SessionType, data: Any) -> Any:
        return self.made(lambda uow: uow.interaction_sessions.start(project, kind, data))

    @rule(session=sessions)
    def complete_session(self, session: str) -> None:
        self.run(lambda uow: uow.interaction_sessions.complete(session))

    @rule(session=sessions)
    def abandon_session(self, session: str) -> None:
        self.run(lambda uow: uow.interaction_sessions.abandon(session))

    @rule(session=sessions, data=DATA)
    def update_session_data(self, session: str, data: Any) -> None:
        self.run(lambda uow: uow.interaction_sessions.update_data(session, data))

    @rule(
        session=sessions,
        status=st.sampled_from(list(SessionStatus)),
        # Before every session's start (the fake clocks start in 2026), or after it.
        ended=st.sampled_from([None, FLAGGED, LATER]),
    )
    def update_session_directly(
        self, session: str, status: SessionStatus, ended: datetime | None
    ) -> None:
        def update(uow: UnitOfWork) -> InteractionSession:
            found = uow.interaction_sessions.get(session)
            found.status = status
            found.ended_at = ended
            return uow.interaction_sessions.update(found)

        self.run(update)

    @rule(project=projects, kind=st.one_of(st.none(), st.sampled_from(list(SessionType))))
    def read_sessions(self, project: str, kind: SessionType | None) -> None:
        self.run(
            lambda uow: (
                uow.interaction_sessions.list(project_id=project, type=kind),
                uow.interaction_sessions.active_for(project, type=kind),
            )
        )

    @rule(session=consumes(sessions))
    def delete_session(self, session: str) -> None:
        self.run(lambda uow: uow.interaction_sessions.delete(session))

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def contents_agree_and_hold_together(self) -> None:
        contents = self.agreed_contents()
        agents = {row["id"] for row in contents["agents"]}
        projects = {row["id"] for row in contents["projects"]}
        for row in contents["conversations"]:
            assert {row["from_agent_id"], row["to_agent_id"]} <= agents
            assert row["from_agent_id"] != row["to_agent_id"]
            assert (row["answer"] is not None) == (row["status"] == "answered")
        messages = {row["id"] for row in contents["messages"]}
        for row in contents["messages"]:
            for party in ("sender", "recipient"):
                agent_id = row[f"{party}_agent_id"]
                assert (agent_id is not None) == (row[f"{party}_type"] == "agent")
                assert agent_id is None or agent_id in agents
            assert row["parent_message_id"] is None or row["parent_message_id"] in messages
            assert row["responded_at"] is None or row["read_at"] is not None
        for row in contents["interaction_sessions"]:
            assert row["project_id"] in projects
            assert (row["ended_at"] is None) == (row["status"] == "active")
            assert row["ended_at"] is None or row["ended_at"] >= row["started_at"]


@on_every_backend
def test_memory_and_databases_agree(sqlite_template: Path, request: pytest.FixtureRequest) -> None:
    check_agreement(ConversationsAgreement, sqlite_template, request)
