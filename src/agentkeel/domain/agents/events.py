"""Events the agents context records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentkeel.domain.events import DomainEvent


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
