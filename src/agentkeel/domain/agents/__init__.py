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
    MessageSent,
    QuestionAnswered,
    QuestionAsked,
)
from agentkeel.domain.agents.logs import AgentLogChunk
from agentkeel.domain.agents.metrics import Metric, MetricType
from agentkeel.domain.agents.profiles import (
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    ProfileColor,
    ProfileType,
)
from agentkeel.domain.agents.sessions import InteractionSession, SessionStatus, SessionType

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
    "MessageSent",
    "Metric",
    "MetricType",
    "Party",
    "ProfileColor",
    "ProfileType",
    "QuestionAnswered",
    "QuestionAsked",
    "SessionStatus",
    "SessionType",
]
