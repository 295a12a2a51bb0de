"""Ports of the agents context."""

from __future__ import annotations

import builtins
from typing import Protocol

from pydantic import JsonValue

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    Conversation,
    ConversationStatus,
    InteractionSession,
    Message,
    Metric,
    Party,
    SessionStatus,
    SessionType,
)
from agentkeel.ports.base import EntityRepository


class AgentProfiles(EntityRepository[AgentProfile], Protocol):
    """Agent profiles (CO `agents`): global ones and a project's own."""


class AgentProfileTools(EntityRepository[AgentProfileTool], Protocol):
    """The tools of agent profiles."""


class AgentProfileSkills(EntityRepository[AgentProfileSkill], Protocol):
    """The skills of agent profiles."""


class Agents(EntityRepository[Agent], Protocol):
    """Running agents, known by a unique alias."""


class Accounts(EntityRepository[Account], Protocol):
    """Provider accounts agents run under."""


class AgentLogChunks(EntityRepository[AgentLogChunk], Protocol):
    """Agents' output, in chunks that outlive their agent."""


class Conversations(EntityRepository[Conversation], Protocol):
    """Questions one agent asks another (CW `ConversationRepository`). By every path
    (`add`, `update`, the methods below): the question and an answer are never blank; the
    answer is empty while pending and required once answered; an agent cannot ask itself
    (InvalidValue naming the field); an answered conversation is final (InvalidTransition
    naming `status`). A conversation goes when either agent is deleted. Storing one records
    `QuestionAsked`; answering records `QuestionAnswered`."""

    def ask(self, from_agent_id: str, to_agent_id: str, question: str) -> Conversation:
        """Store a pending question from one agent to another (CW `create`).

        Raises InvalidValue (a blank question, NUL, too long, the same agent twice),
        ReferenceMissing (no such agent).
        """
        ...

    def find_pending_for_agent(self, to_agent_id: str) -> builtins.list[Conversation]:
        """The questions asked of this agent and not yet answered, oldest first (the
        listen poll; one index lookup on `(to_agent_id, status)`). An unknown agent has none.
        """
        ...

    def answer(self, key: str, answer: str) -> Conversation:
        """Store the answer and move the conversation pending -> answered.

        Raises NotFound; InvalidValue (a blank answer, NUL, too long); InvalidTransition
        naming `status` when it is already answered; Conflict when another unit of work
        answered it since it was read.
        """
        ...

    def list(
        self,
        *,
        from_agent_id: str | None = None,
        to_agent_id: str | None = None,
        status: ConversationStatus | None = None,
    ) -> builtins.list[Conversation]:
        """Conversations, oldest first, optionally asked by one agent, of one agent and/or in
        one status."""
        ...


class Messages(EntityRepository[Message], Protocol):
    """Threaded messages between agents and the user (CW `MessageRepository`). By every
    path: an `agent` party names its agent and the `user` party names none (InvalidValue
    naming `sender_agent_id` / `recipient_agent_id`); nobody writes to themselves; a reply's
    parent exists (ReferenceMissing) and the reply goes back from the parent's recipient to
    its sender; storing a reply stamps the parent's `responded_at` (and `read_at`) in the
    same step; a response implies a read (`read_at` is stamped with `responded_at`); the
    parties and the parent are fixed once stored. A message goes with its sender or
    recipient agent and with its parent (the replies below it too). Storing one records
    `MessageSent`."""

    def reply(self, parent_id: str, content: str, *, requires_response: bool = False) -> Message:
        """Answer a message: a new message from the parent's recipient to the parent's
        sender, threaded under it, that stamps the parent's `responded_at` (and `read_at`,
        kept if already set). `requires_response` asks for an answer in turn.

        Raises NotFound (no such parent), InvalidValue (blank content, NUL, too long),
        Conflict (the parent changed since it was read).
        """
        ...

    def mark_read(self, key: str) -> Message:
        """Stamp `read_at` (kept if already set). Raises NotFound."""
        ...

    def find_pending_for_user(self) -> builtins.list[Message]:
        """Messages to the user that the user has not read yet, oldest first."""
        ...

    def find_requiring_response(
        self, *, recipient_type: Party | None = None, recipient_agent_id: str | None = None
    ) -> builtins.list[Message]:
        """Messages that ask for a response (`requires_response_at`) and have none yet
        (`responded_at` empty), oldest first; optionally only those to the user or to agents
        (`recipient_type`) and/or to one agent."""
        ...

    def find_replies(self, parent_id: str) -> builtins.list[Message]:
        """The direct replies to a message, oldest first (none for an unknown message)."""
        ...


class Metrics(EntityRepository[Metric], Protocol):
    """Measurements of a project."""


class InteractionSessions(EntityRepository[InteractionSession], Protocol):
    """Interview, planning and execution sessions of a project (NX `sessions`); they go with
    their project. By every path: the status moves active -> completed | abandoned, both
    final (InvalidTransition); `started_at` is stamped when the session is stored; `ended_at`
    is stamped when it ends (a caller's own time is kept, never before `started_at`) and must
    be empty while it is active (InvalidValue)."""

    def start(
        self, project_id: str, type: SessionType, data: JsonValue | None = None
    ) -> InteractionSession:
        """Store a new active session of the project, started now.

        Raises InvalidValue (an unknown type, data that is not storable JSON),
        ReferenceMissing (no such project).
        """
        ...

    def complete(self, key: str) -> InteractionSession:
        """End an active session as completed, stamping `ended_at`.

        Raises NotFound; InvalidTransition naming `status` when it has already ended.
        """
        ...

    def abandon(self, key: str) -> InteractionSession:
        """End an active session as abandoned, stamping `ended_at`.

        Raises NotFound; InvalidTransition naming `status` when it has already ended.
        """
        ...

    def update_data(self, key: str, data: JsonValue | None) -> InteractionSession:
        """Replace the session's JSON `data` (an ended session's too: its record).

        Raises NotFound, InvalidValue (not storable JSON).
        """
        ...

    def list(
        self,
        project_id: str,
        *,
        type: SessionType | None = None,
        status: SessionStatus | None = None,
    ) -> builtins.list[InteractionSession]:
        """The project's sessions, newest first (by `started_at`), optionally of one type
        and/or in one status."""
        ...

    def active_for(
        self, project_id: str, *, type: SessionType | None = None
    ) -> builtins.list[InteractionSession]:
        """The project's active sessions (of one type, if given), newest first. Nothing
        limits how many are active at once (Nexus does not)."""
        ...
