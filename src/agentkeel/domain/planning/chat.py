"""Chat sessions refining a phase or task (Codewalkers), their messages, and the change
sets a refinement applied (Codewalkers refers to them without defining them: agentkeel
defines them)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, Flag, Timestamped
from agentkeel.domain.fields import Count, Description, Id, Json, LongText, UtcDateTime


class ChatTarget(StrEnum):
    PHASE = "phase"
    TASK = "task"


class ChatStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ChatSession(Timestamped):
    """A chat about a phase or task (no foreign key to the target: deleting it closes the
    session); at most one active session per target."""

    transitions = {
        "status": {
            ChatStatus.ACTIVE: frozenset({ChatStatus.CLOSED}),
            ChatStatus.CLOSED: frozenset(),
        }
    }

    target_type: ChatTarget
    target_id: Id
    initiative_id: Id
    agent_id: Id | None = None
    status: ChatStatus = ChatStatus.ACTIVE


class ChatRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class ChatMessage(Entity):
    """A message of a chat session; an assistant's message links the change set it applied.
    Append-only. `sequence` (1, 2, ... per session, given by the repository) orders the
    messages even when they share a `created_at` instant."""

    stamped_on_insert = ("created_at",)
    append_only = True

    chat_session_id: Id
    role: ChatRole
    content: LongText
    change_set_id: Id | None = None
    sequence: Count = 0
    created_at: UtcDateTime = Field(default_factory=utc_now)


class ChangeSet(Timestamped):
    """What one refinement changed in an initiative's plan, entity by entity, so that it can
    be reverted (`reverted_at`)."""

    initiative_id: Id
    chat_session_id: Id | None = None
    description: Description | None = None
    reverted_at: UtcDateTime | None = None

    is_reverted: ClassVar[Flag] = Flag("reverted_at")


class ChangeAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ChangedEntity(StrEnum):
    """The kinds of entity a change set can record, and so revert."""

    PAGE = "page"
    PHASE = "phase"
    TASK = "task"


class ChangeSetEntry(Entity):
    """One entity a change set created, updated or deleted: its state before (null for a
    create) and after (null for a delete), each the entity's `audit_state()`. No foreign key
    to the entity. Append-only. `position` (1, 2, ... per change set, given by the
    repository) is the order the changes were made in; a revert undoes them backwards."""

    stamped_on_insert = ("created_at",)
    append_only = True

    change_set_id: Id
    entity_type: ChangedEntity
    entity_id: Id
    action: ChangeAction
    position: Count = 0
    before_state: Json | None = None
    after_state: Json | None = None
    created_at: UtcDateTime = Field(default_factory=utc_now)
