"""Creating commands run under an idempotency key: what each key created, so that a caller
retrying after a timeout gets the first result back instead of a duplicate."""

from __future__ import annotations

from sqlmodel import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity
from agentkeel.domain.fields import Id, Label, UtcDateTime


class CommandRecord(Entity):
    """One creating command done under an idempotency key. `id` is the caller's key; the
    record names what the command created (by table, without a foreign key: the key keeps
    its meaning after the row is gone)."""

    stamped_on_insert = ("created_at",)
    append_only = True

    entity_type: Label
    entity_id: Id
    created_at: UtcDateTime = Field(default_factory=utc_now)
