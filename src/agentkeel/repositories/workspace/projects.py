"""Projects: archived and restored, never deleted while they hold work."""

from __future__ import annotations

import builtins

from agentkeel.domain.workspace import (
    Project,
    ProjectArchived,
    ProjectUnarchived,
)
from agentkeel.ports.store import Asc, Row
from agentkeel.repositories.archiving import ArchivingTable
from agentkeel.repositories.rules import was_set
from agentkeel.schema.columns import PROJECTS


class ProjectsTable(ArchivingTable[Project]):
    entity = Project
    archive_flag = PROJECTS.archived_at

    def list(
        self, *, include_archived: bool = False, limit: int | None = None, offset: int = 0
    ) -> builtins.list[Project]:
        return self._select(
            self._listed(include_archived), [Asc(PROJECTS.created_at)], limit, offset
        )

    def _after_write(self, project: Project, stored: Row | None) -> None:
        was_archived = was_set(stored, PROJECTS.archived_at)
        if project.is_archived and not was_archived:
            self._record(ProjectArchived(project.id))
        elif was_archived and not project.is_archived:
            self._record(ProjectUnarchived(project.id))
