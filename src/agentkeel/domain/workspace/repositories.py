"""Git repositories of a project (CO repositories + Codewalkers' projects)."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import model_validator

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.fields import (
    BranchName,
    Id,
    IndexedPath,
    Name,
    Url,
    UtcDateTime,
)


class Repository(Timestamped):
    """A git repository of a project (CO repositories + Codewalkers' projects).

    It has a local `path`, a remote `url`, or both. At most one repository of a project is its
    default (`set_as_default_at`); the repository port switches it atomically.
    """

    project_id: Id
    name: Name
    path: IndexedPath | None = None
    url: Url | None = None
    default_branch: BranchName = "main"
    set_as_default_at: UtcDateTime | None = None
    last_fetched_at: UtcDateTime | None = None

    @model_validator(mode="after")
    def _located(self) -> Self:
        if self.path is None and self.url is None:
            raise InvalidValue(self.label(), "path", None, "or url must be given")
        return self

    is_default: ClassVar[Flag] = Flag("set_as_default_at")
