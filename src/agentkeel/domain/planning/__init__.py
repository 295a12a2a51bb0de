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
from agentkeel.domain.planning.errands import Errand, ErrandStatus, ErrandWithAlias
from agentkeel.domain.planning.events import (
    PhaseStatusChanged,
    TaskAssigned,
    TaskCompleted,
    TaskCrashed,
    TaskFailed,
    TaskNeedsAttention,
    TaskReopened,
    TaskStarted,
)
from agentkeel.domain.planning.initiatives import (
    BRANCH_PREFIX,
    ExecutionMode,
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
    branch_slug,
    generated_branch,
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
    "BRANCH_PREFIX",
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
    "ErrandWithAlias",
    "ExecutionMode",
    "Initiative",
    "InitiativeRepositoryLink",
    "InitiativeStatus",
    "LineType",
    "Page",
    "Phase",
    "PhaseDependency",
    "PhaseStatus",
    "PhaseStatusChanged",
    "Proposal",
    "ProposalStatus",
    "ProposalTarget",
    "ReviewComment",
    "Task",
    "TaskAssigned",
    "TaskCategory",
    "TaskCompleted",
    "TaskCrashed",
    "TaskDependency",
    "TaskFailed",
    "TaskNeedsAttention",
    "TaskPriority",
    "TaskReopened",
    "TaskSize",
    "TaskStarted",
    "TaskStatus",
    "TaskType",
    "branch_slug",
    "generated_branch",
]
