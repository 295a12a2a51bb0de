"""Events the agents context records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentkeel.domain.agents.conversations import Party
from agentkeel.domain.events import DomainEvent


@dataclass(frozen=True)
class QuestionAsked(DomainEvent):
    """An agent asked another a question: the asked agent, listening, can be woken."""

    conversation_id: str
    from_agent_id: str
    to_agent_id: str


@dataclass(frozen=True)
class QuestionAnswered(DomainEvent):
    """A question was answered: the agent that asked it, waiting, can be woken."""

    conversation_id: str
    from_agent_id: str
    to_agent_id: str


@dataclass(frozen=True)
class MessageSent(DomainEvent):
    """A message was stored for its recipient (the user, or the agent `recipient_agent_id`);
    `parent_message_id` is set for a reply."""

    message_id: str
    recipient_type: Party
    recipient_agent_id: str | None
    parent_message_id: str | None


@dataclass(frozen=True)
class AgentStopped(DomainEvent):
    """An agent was stopped (running or waiting -> stopped)."""

    agent_id: str
    reason: str | None


@dataclass(frozen=True)
class AgentCrashed(DomainEvent):
    """An agent crashed (running or waiting -> crashed)."""

    agent_id: str
    reason: str | None


@dataclass(frozen=True)
class AgentResumed(DomainEvent):
    """A stopped or crashed agent runs again, in log session `session_number`."""

    agent_id: str
    session_number: int


@dataclass(frozen=True)
class AccountExhausted(DomainEvent):
    """An account ran out of quota; `next_available` skips it until `until` (None: until
    its exhaustion is cleared). Carries no secret: only the account's id and provider."""

    account_id: str
    provider: str
    until: datetime | None
