"""Projects: archived and restored, never deleted while they hold work."""

from __future__ import annotations

import builtins

from agentkeel.domain.workspace import (
    Project,
    ProjectArchived,
    ProjectUnarchived,
)
from agentkeel.ports.store import Asc, IsNull, Row, Where
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import was_set
from agentkeel.schema.columns import PROJECTS


class ProjectsTable(TableRepository[Project]):
    entity = Project

    def list(
        self, *, include_archived: bool = False, limit: int | None = None, offset: int = 0
    ) -> builtins.list[Project]:
        where: builtins.list[Where] = [] if include_archived else [IsNull(PROJECTS.archived_at)]
        return self._select(where, [Asc(PROJECTS.created_at)], limit, offset)

    def archive(self, key: str) -> Project:
        project = self.get(key)
        project.archive(self._store.clock.now())
        return self.update(project)

    def unarchive(self, key: str) -> Project:
        project = self.get(key)
        project.unarchive()
        return self.update(project)

    def _after_write(self, project: Project, stored: Row | None) -> None:
        was_archived = was_set(stored, PROJECTS.archived_at)
        if project.is_archived and not was_archived:
            self._record(ProjectArchived(project.id))
        elif was_archived and not project.is_archived:
            self._record(ProjectUnarchived(project.id))
