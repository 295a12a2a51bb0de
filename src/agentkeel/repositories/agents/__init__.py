"""Repositories of the agents context: profiles with their tools and skills, agents, accounts,
log chunks, conversations and messages, metrics and interaction sessions.
"""

from agentkeel.repositories.agents.accounts import AccountsTable
from agentkeel.repositories.agents.agents import AgentsTable
from agentkeel.repositories.agents.conversations import ConversationsTable, MessagesTable
from agentkeel.repositories.agents.logs import AgentLogChunksTable
from agentkeel.repositories.agents.metrics import MetricsTable
from agentkeel.repositories.agents.profiles import (
    AgentProfileSkillsTable,
    AgentProfilesTable,
    AgentProfileToolsTable,
)
from agentkeel.repositories.agents.sessions import InteractionSessionsTable

__all__ = [
    "AccountsTable",
    "AgentLogChunksTable",
    "AgentProfileSkillsTable",
    "AgentProfileToolsTable",
    "AgentProfilesTable",
    "AgentsTable",
    "ConversationsTable",
    "InteractionSessionsTable",
    "MessagesTable",
    "MetricsTable",
]
