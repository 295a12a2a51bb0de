"""The agents context: agent profiles (definitions), running agents, accounts, their logs,
conversations and messages, metrics and interaction sessions.

One module per aggregate; everything is importable from this package."""

from __future__ import annotations

from agentkeel.domain.agents.accounts import Account
from agentkeel.domain.agents.agents import Agent, AgentMode, AgentStatus, AgentType
from agentkeel.domain.agents.conversations import (
    Conversation,
    ConversationStatus,
    Message,
    Party,
)
from agentkeel.domain.agents.events import (
    AccountExhausted,
    AgentCrashed,
    AgentResumed,
    AgentStopped,
)
from agentkeel.domain.agents.logs import AgentLogChunk
from agentkeel.domain.agents.metrics import (
    InteractionSession,
    Metric,
    MetricType,
    SessionStatus,
    SessionType,
)
from agentkeel.domain.agents.profiles import (
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    ProfileColor,
    ProfileType,
)

__all__ = [
    "Account",
    "AccountExhausted",
    "Agent",
    "AgentCrashed",
    "AgentLogChunk",
    "AgentMode",
    "AgentProfile",
    "AgentProfileSkill",
    "AgentProfileTool",
    "AgentResumed",
    "AgentStatus",
    "AgentStopped",
    "AgentType",
    "Conversation",
    "ConversationStatus",
    "InteractionSession",
    "Message",
    "Metric",
    "MetricType",
    "Party",
    "ProfileColor",
    "ProfileType",
    "SessionStatus",
    "SessionType",
]
