"""Ports of the planning context."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Protocol

from agentkeel.domain.planning import (
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatSession,
    Errand,
    ErrandStatus,
    ErrandWithAlias,
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ReviewComment,
    Task,
    TaskDependency,
)
from agentkeel.domain.workspace import Repository
from agentkeel.ports.base import EntityRepository


class Initiatives(EntityRepository[Initiative], Protocol):
    """Initiatives of projects (deleted with their project). The status follows its state
    machine by every path: active -> pending_review | completed, pending_review -> active |
    completed, completed -> active (InvalidTransition otherwise). Archiving is the
    `archived_at` flag, not a status: archived initiatives are hidden from listings and stay
    readable by id. An initiative written without a `branch`, by any path, gets
    `agentkeel/<slug of its name>` (lowercase ASCII letters, digits and hyphens, cut to
    255 characters), with `-2`, `-3`... appended when another initiative of the project
    already has that branch; a branch the caller gives is kept as given."""

    def list(
        self, *, project_id: str | None = None, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        """Initiatives (of one project, if given), oldest first; archived ones only when
        `include_archived`."""
        ...

    def find_by_status(
        self, status: InitiativeStatus, *, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        """Initiatives in this status, oldest first; archived ones only when
        `include_archived`. CW's `archived` is not a status: InvalidValue (use `list`)."""
        ...

    def archive(self, key: str) -> Initiative:
        """Set `archived_at` (kept if already set). Raises NotFound."""
        ...

    def unarchive(self, key: str) -> Initiative:
        """Clear `archived_at`. Raises NotFound."""
        ...


class InitiativeRepositories(EntityRepository[InitiativeRepositoryLink], Protocol):
    """The git repositories initiatives work in (CW `initiative_projects`). A link's
    repository belongs to the initiative's project, by every path (InvalidValue naming
    `repository_id` otherwise); a pair is linked once (AlreadyExists)."""

    def set_for_initiative(
        self, initiative_id: str, repository_ids: Iterable[str]
    ) -> builtins.list[InitiativeRepositoryLink]:
        """Make the initiative's repositories exactly `repository_ids` (CW
        `setInitiativeProjects`): links to new ones are added, links to missing ones removed,
        the others left untouched (same rows, same `created_at`); repeated ids count once.
        All or nothing. Returns the links, oldest first. Raises NotFound (the initiative);
        ReferenceMissing (a repository that does not exist); InvalidValue (a repository of
        another project, or an id no repository could have)."""
        ...

    def of_initiative(self, initiative_id: str) -> builtins.list[Repository]:
        """The repositories the initiative works in, by name (CW
        `findProjectsByInitiativeId`); none for an unknown initiative."""
        ...


class Phases(EntityRepository[Phase], Protocol):
    """Phases of initiatives."""


class PhaseDependencies(EntityRepository[PhaseDependency], Protocol):
    """Dependencies between phases (a DAG)."""


class Tasks(EntityRepository[Task], Protocol):
    """Tasks of projects."""


class TaskDependencies(EntityRepository[TaskDependency], Protocol):
    """Dependencies between tasks (a DAG)."""


class Pages(EntityRepository[Page], Protocol):
    """Pages of initiatives: one tree each, whose root has no parent. By every path: an
    initiative has at most one root (a second is AlreadyExists, even from two units of work
    at once); a page's parent is in the page's initiative (InvalidValue naming
    `parent_page_id`); a page never moves to another initiative (InvalidValue naming
    `initiative_id`) nor under itself or its own descendant (DependencyCycle naming the
    path). Deleting a page deletes its subtree."""

    def find_root_page(self, initiative_id: str) -> Page | None:
        """The initiative's root page, if it has one."""
        ...

    def get_or_create_root_page(self, initiative_id: str, *, title: str | None = None) -> Page:
        """The initiative's root page, created (titled `title`, or the initiative's name)
        if it has none. Two units of work calling it at once get the same root. Raises
        NotFound (the initiative), InvalidValue (the title)."""
        ...

    def find_by_parent_page(self, parent_page_id: str) -> builtins.list[Page]:
        """The children of a page by `sort_order`, then oldest first."""
        ...

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Page]:
        """Every page of the initiative by `sort_order`, then oldest first."""
        ...


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
    """Errands on branches of repositories (deleted with their repository; an agent's
    deletion leaves them unassigned). The caller may supply the id. The status follows its
    state machine by every path (InvalidTransition): active <-> pending_review; active |
    pending_review -> conflict -> active | pending_review; pending_review -> merged; any
    but merged and abandoned -> abandoned."""

    def find_with_alias(self, key: str) -> ErrandWithAlias | None:
        """The errand with its agent's alias (CW `findById`), in one query."""
        ...

    def find_all(
        self, *, repository_id: str | None = None, status: ErrandStatus | None = None
    ) -> builtins.list[ErrandWithAlias]:
        """Errands (of one repository, in one status, when given), newest `created_at`
        first, each with its agent's alias, in one query."""
        ...
