"""Ports of the agents context."""

from __future__ import annotations

from typing import Protocol

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    Conversation,
    InteractionSession,
    Message,
    Metric,
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
    """Questions between agents."""


class Messages(EntityRepository[Message], Protocol):
    """Threaded messages between agents and the user."""


class Metrics(EntityRepository[Metric], Protocol):
    """Measurements of a project."""


class InteractionSessions(EntityRepository[InteractionSession], Protocol):
    """Interview, planning and execution sessions of a project."""
