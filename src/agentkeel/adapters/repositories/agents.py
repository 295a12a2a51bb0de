"""Repositories of the agents context: only what is particular to each aggregate."""

from __future__ import annotations

from agentkeel.adapters.repositories.base import TableRepository
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


class AgentProfileRepository(TableRepository[AgentProfile]):
    entity = AgentProfile


class AgentProfileToolRepository(TableRepository[AgentProfileTool]):
    entity = AgentProfileTool


class AgentProfileSkillRepository(TableRepository[AgentProfileSkill]):
    entity = AgentProfileSkill


class AgentRepository(TableRepository[Agent]):
    entity = Agent


class AccountRepository(TableRepository[Account]):
    entity = Account


class AgentLogChunkRepository(TableRepository[AgentLogChunk]):
    entity = AgentLogChunk


class ConversationRepository(TableRepository[Conversation]):
    entity = Conversation


class MessageRepository(TableRepository[Message]):
    entity = Message


class MetricRepository(TableRepository[Metric]):
    entity = Metric


class InteractionSessionRepository(TableRepository[InteractionSession]):
    entity = InteractionSession
