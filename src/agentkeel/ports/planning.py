"""Ports of the planning context."""

from __future__ import annotations

from typing import Protocol

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
from agentkeel.ports.base import EntityRepository


class Initiatives(EntityRepository[Initiative], Protocol):
    """Initiatives of projects."""


class InitiativeRepositories(EntityRepository[InitiativeRepositoryLink], Protocol):
    """The git repositories initiatives work in."""


class Phases(EntityRepository[Phase], Protocol):
    """Phases of initiatives."""


class PhaseDependencies(EntityRepository[PhaseDependency], Protocol):
    """Dependencies between phases (a DAG)."""


class Tasks(EntityRepository[Task], Protocol):
    """Tasks of projects."""


class TaskDependencies(EntityRepository[TaskDependency], Protocol):
    """Dependencies between tasks (a DAG)."""


class Pages(EntityRepository[Page], Protocol):
    """Pages of initiatives: one tree each."""


class Proposals(EntityRepository[Proposal], Protocol):
    """Agents' proposed changes to pages, phases and tasks."""


class ReviewComments(EntityRepository[ReviewComment], Protocol):
    """Inline review comments on phases' diffs."""


class ChatSessions(EntityRepository[ChatSession], Protocol):
    """Chat sessions refining a phase or task."""


class ChatMessages(EntityRepository[ChatMessage], Protocol):
    """Messages of chat sessions."""


class ChangeSets(EntityRepository[ChangeSet], Protocol):
    """What a refinement changed, revertible."""


class ChangeSetEntries(EntityRepository[ChangeSetEntry], Protocol):
    """The entities a change set touched."""


class Errands(EntityRepository[Errand], Protocol):
    """Errands on branches of repositories."""
