"""Audit log entries: a trail of what happened, which outlives what it describes."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity
from agentkeel.domain.fields import Description, Id, Json, Label, UtcDateTime


class EventCategory(StrEnum):
    """CO's categories, plus `record` for a record's lifecycle (hard deletes, purges)."""

    WORKFLOW = "workflow"
    STEP = "step"
    FILE = "file"
    WORKTREE = "worktree"
    QUALITY = "quality"
    USER_ACTION = "user_action"
    RECORD = "record"


class Severity(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class EventSource(StrEnum):
    SYSTEM = "system"
    USER = "user"
    CLI = "cli"


class AuditEntry(Entity):
    """One audit log entry. `entity_type`/`entity_id` name its subject without a foreign key,
    so the record of a deletion survives the deletion. `timestamp` is set on insert."""

    stamped_on_insert = ("timestamp",)
    append_only = True

    entity_type: Label | None = None
    entity_id: Id | None = None
    event_type: Label
    event_category: EventCategory
    severity: Severity = Severity.INFO
    message: Description
    event_data: Json | None = None
    before_state: Json | None = None
    after_state: Json | None = None
    source: EventSource = EventSource.SYSTEM
    timestamp: UtcDateTime = Field(default_factory=utc_now)
    # The workflow and step it belongs to (CO); SET NULL, so a workflow's trail outlives it.
    workflow_id: Id | None = None
    workflow_step_id: Id | None = None
