"""Phases of an initiative (Codewalkers) and the dependencies between them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, RowVersion, Timestamped
from agentkeel.domain.fields import Id, Json, Name, TextRule, UtcDateTime

# A git commit hash (SHA-1 or SHA-256), as `git merge-base` prints it.
CommitHash = Annotated[str, Strict(), TextRule(64, pattern=r"[0-9a-f]{4,64}")]


class PhaseStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    PENDING_REVIEW = "pending_review"


_P = PhaseStatus


class Phase(Timestamped):
    """A phase of an initiative. `content` is the plan as a Tiptap JSON document;
    `merge_base` the commit recorded before the phase was merged (CW), so that its diff can
    be rebuilt after.

    Status (CW's six values, with 001's review flow): pending -> approved (its plan was
    accepted) -> in_progress; a phase whose work is done goes to pending_review when its
    initiative reviews each phase, or straight to completed (yolo); a review accepts
    (completed) or asks for changes (in_progress). Any phase not final may be blocked, and
    goes back to pending, approved or in_progress when unblocked; approved may go back to
    pending (the plan changes); a completed phase is reopened to in_progress.
    """

    transitions = {
        "status": {
            _P.PENDING: frozenset({_P.APPROVED, _P.IN_PROGRESS, _P.BLOCKED}),
            _P.APPROVED: frozenset({_P.PENDING, _P.IN_PROGRESS, _P.BLOCKED}),
            _P.IN_PROGRESS: frozenset({_P.PENDING_REVIEW, _P.COMPLETED, _P.BLOCKED}),
            _P.PENDING_REVIEW: frozenset({_P.COMPLETED, _P.IN_PROGRESS}),
            _P.BLOCKED: frozenset({_P.PENDING, _P.APPROVED, _P.IN_PROGRESS}),
            _P.COMPLETED: frozenset({_P.IN_PROGRESS}),
        }
    }

    initiative_id: Id
    name: Name
    content: Json | None = None
    status: PhaseStatus = PhaseStatus.PENDING
    merge_base: CommitHash | None = None


class PhaseDependency(Entity):
    """`phase_id` waits for `depends_on_phase_id`. Both are phases of one initiative, the
    pair is unique, and the dependencies form a DAG."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"

    phase_id: Id
    depends_on_phase_id: Id
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1
