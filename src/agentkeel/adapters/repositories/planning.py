"""Repositories of the planning context: only what is particular to each aggregate."""

from __future__ import annotations

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.domain.planning import (
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatSession,
    Errand,
    Initiative,
    InitiativeRepositoryLink,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ReviewComment,
    Task,
    TaskDependency,
)


class InitiativeRepository(TableRepository[Initiative]):
    entity = Initiative


class InitiativeRepositoryLinkRepository(TableRepository[InitiativeRepositoryLink]):
    entity = InitiativeRepositoryLink


class PhaseRepository(TableRepository[Phase]):
    entity = Phase


class PhaseDependencyRepository(TableRepository[PhaseDependency]):
    entity = PhaseDependency


class TaskRepository(TableRepository[Task]):
    entity = Task


class TaskDependencyRepository(TableRepository[TaskDependency]):
    entity = TaskDependency


class PageRepository(TableRepository[Page]):
    entity = Page


class ProposalRepository(TableRepository[Proposal]):
    entity = Proposal


class ReviewCommentRepository(TableRepository[ReviewComment]):
    entity = ReviewComment


class ChatSessionRepository(TableRepository[ChatSession]):
    entity = ChatSession


class ChatMessageRepository(TableRepository[ChatMessage]):
    entity = ChatMessage


class ChangeSetRepository(TableRepository[ChangeSet]):
    entity = ChangeSet


class ChangeSetEntryRepository(TableRepository[ChangeSetEntry]):
    entity = ChangeSetEntry


class ErrandRepository(TableRepository[Errand]):
    entity = Errand
