"""Checkpoints (Nexus): a JSON snapshot of a project's backlog and tasks, to restore."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity
from agentkeel.domain.fields import Description, Id, Json, Name, TextRule, UtcDateTime

GitCommit = Annotated[str, Strict(), TextRule(64, pattern=r"[0-9a-f]{4,64}")]


class Checkpoint(Entity):
    """A snapshot of a project's features, sub-features, requirements and their links, and
    every task with its dependencies, status and assignment, with the git commit
    it matches. Append-only."""

    stamped_on_insert = ("created_at",)
    append_only = True

    project_id: Id
    name: Name | None = None
    reason: Description | None = None
    state: Json
    git_commit: GitCommit | None = None
    created_at: UtcDateTime = Field(default_factory=utc_now)
