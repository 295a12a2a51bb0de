"""Projects: a grouping of repositories, workflows, initiatives and tasks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import (
    Description,
    FilePath,
    Label,
    Name,
    Url,
    UtcDateTime,
)


class ProjectMode(StrEnum):
    """Nexus: a project built from nothing (genesis) or grown from existing code (evolution)."""

    GENESIS = "genesis"
    EVOLUTION = "evolution"


class Project(Timestamped):
    """A grouping of repositories, workflows, initiatives and tasks (CO + Nexus projects)."""

    name: Name
    description: Description | None = None
    mode: ProjectMode | None = None
    status: Label | None = None
    root_path: FilePath | None = None
    repository_url: Url | None = None
    completed_at: UtcDateTime | None = None
    archived_at: UtcDateTime | None = None

    is_archived: ClassVar[Flag] = Flag("archived_at")

    is_completed: ClassVar[Flag] = Flag("completed_at")

    def archive(self, at: datetime) -> None:
        self._raise_flag("archived_at", at)

    def unarchive(self) -> None:
        self._lower_flag("archived_at")
