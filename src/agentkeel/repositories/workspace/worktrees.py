"""Worktrees of a repository and their state machine."""

from __future__ import annotations

import builtins

from agentkeel.domain.workspace import (
    Worktree,
    WorktreeStatus,
)
from agentkeel.ports.store import Asc, Eq
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import WORKTREES


class WorktreesTable(TableRepository[Worktree]):
    entity = Worktree

    def list(
        self, *, repository_id: str | None = None, status: WorktreeStatus | None = None
    ) -> builtins.list[Worktree]:
        where = self._eq_filters(repository_id=repository_id, status=status)
        return self._select(where, [Asc(WORKTREES.created_at)])

    def find_by_path(self, path: str) -> Worktree | None:
        return self._first([Eq(WORKTREES.path, path)])

    def move_to(self, key: str, status: WorktreeStatus) -> Worktree:
        return self._move(key, status)
