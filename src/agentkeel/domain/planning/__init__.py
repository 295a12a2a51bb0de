"""The planning context: initiatives and their repositories, phases, tasks and their
dependency graphs, pages, proposals, review comments, chat sessions with their messages and
change sets, and errands.

One module per aggregate; everything is importable from this package."""

from __future__ import annotations

from agentkeel.domain.planning.chat import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatStatus,
    ChatTarget,
)
from agentkeel.domain.planning.errands import Errand, ErrandStatus
from agentkeel.domain.planning.initiatives import (
    ExecutionMode,
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
)
from agentkeel.domain.planning.pages import Page
from agentkeel.domain.planning.phases import Phase, PhaseDependency, PhaseStatus
from agentkeel.domain.planning.proposals import Proposal, ProposalStatus, ProposalTarget
from agentkeel.domain.planning.reviews import LineType, ReviewComment
from agentkeel.domain.planning.tasks import (
    Task,
    TaskCategory,
    TaskDependency,
    TaskPriority,
    TaskSize,
    TaskStatus,
    TaskType,
)

__all__ = [
    "ChangeAction",
    "ChangeSet",
    "ChangeSetEntry",
    "ChangedEntity",
    "ChatMessage",
    "ChatRole",
    "ChatSession",
    "ChatStatus",
    "ChatTarget",
    "Errand",
    "ErrandStatus",
    "ExecutionMode",
    "Initiative",
    "InitiativeRepositoryLink",
    "InitiativeStatus",
    "LineType",
    "Page",
    "Phase",
    "PhaseDependency",
    "PhaseStatus",
    "Proposal",
    "ProposalStatus",
    "ProposalTarget",
    "ReviewComment",
    "Task",
    "TaskCategory",
    "TaskDependency",
    "TaskPriority",
    "TaskSize",
    "TaskStatus",
    "TaskType",
]
