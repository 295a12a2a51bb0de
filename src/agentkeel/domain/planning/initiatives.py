"""Initiatives (Codewalkers): a body of work in a project, planned as phases and tasks."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, Flag, RowVersion, Timestamped
from agentkeel.domain.fields import BranchName, Id, Name, UtcDateTime


class InitiativeStatus(StrEnum):
    """CW's statuses less `archived`, which became the `archived_at` flag."""

    ACTIVE = "active"
    PENDING_REVIEW = "pending_review"
    COMPLETED = "completed"


class ExecutionMode(StrEnum):
    """001's preamble: review each phase before it completes, or let phases complete."""

    YOLO = "yolo"
    REVIEW_PER_PHASE = "review_per_phase"


_S = InitiativeStatus


# Our namespace for the branches we generate (CW used `cw/`); a constant, not a setting:
# a branch already pushed keeps its name whatever a setting would later say.
BRANCH_PREFIX = "agentkeel/"
BRANCH_MAX_LENGTH = 255
# What a name that keeps no ASCII letter or digit becomes.
FALLBACK_SLUG = "initiative"


def branch_slug(name: str) -> str:
    """`name` as a branch component: accents dropped, lowercase ASCII letters and digits,
    every other run of characters one hyphen, no hyphen at either end; "initiative" if
    nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or FALLBACK_SLUG


def generated_branch(name: str, taken: set[str]) -> str:
    """`agentkeel/<slug of name>`, cut to fit the column, with `-2`, `-3`... appended until
    it is not one of `taken` (the branches of the project's other initiatives)."""
    slug = branch_slug(name)
    number = 1
    while True:
        suffix = "" if number == 1 else f"-{number}"
        room = BRANCH_MAX_LENGTH - len(BRANCH_PREFIX) - len(suffix)
        branch = f"{BRANCH_PREFIX}{slug[:room].rstrip('-')}{suffix}"
        if branch not in taken:
            return branch
        number += 1


class Initiative(Timestamped):
    """An initiative of a project: its phases, tasks, pages and proposals hang from it.

    Status: active -> pending_review -> completed; a review that asks for changes returns it
    to active, and so does reopening a completed one; active -> completed directly is the
    `yolo` path. Archived initiatives (`archived_at`) are hidden from listings and stay
    readable by id. Without a `branch`, the repository generates one from the name.
    """

    transitions = {
        "status": {
            _S.ACTIVE: frozenset({_S.PENDING_REVIEW, _S.COMPLETED}),
            _S.PENDING_REVIEW: frozenset({_S.ACTIVE, _S.COMPLETED}),
            _S.COMPLETED: frozenset({_S.ACTIVE}),
        }
    }

    project_id: Id
    name: Name
    status: InitiativeStatus = InitiativeStatus.ACTIVE
    branch: BranchName | None = None
    execution_mode: ExecutionMode = ExecutionMode.REVIEW_PER_PHASE
    archived_at: UtcDateTime | None = None

    is_archived: ClassVar[Flag] = Flag("archived_at")

    def archive(self, at: datetime) -> None:
        self._raise_flag("archived_at", at)

    def unarchive(self) -> None:
        self._lower_flag("archived_at")


class InitiativeRepositoryLink(Entity):
    """A git repository an initiative works in (CW `initiative_projects`); the pair is unique
    and the repository belongs to the initiative's project."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"

    initiative_id: Id
    repository_id: Id
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1
