"""Git worktrees checked out from a repository for concurrent work."""

from __future__ import annotations

from enum import StrEnum

from agentkeel.domain.entity import Timestamped
from agentkeel.domain.fields import (
    BranchName,
    Id,
    IndexedPath,
)


class WorktreeStatus(StrEnum):
    ACTIVE = "active"
    CLEANING = "cleaning"
    REMOVED = "removed"


class Worktree(Timestamped):
    """A git worktree checked out from a repository for concurrent work.

    Status moves active -> cleaning -> removed; a cleanup that is given up returns to active.
    """

    transitions = {
        "status": {
            WorktreeStatus.ACTIVE: frozenset({WorktreeStatus.CLEANING, WorktreeStatus.REMOVED}),
            WorktreeStatus.CLEANING: frozenset({WorktreeStatus.REMOVED, WorktreeStatus.ACTIVE}),
            WorktreeStatus.REMOVED: frozenset(),
        }
    }

    repository_id: Id
    path: IndexedPath
    branch_name: BranchName
    status: WorktreeStatus = WorktreeStatus.ACTIVE
    # The workflow it was created for (at most one worktree per workflow).
    workflow_id: Id | None = None
