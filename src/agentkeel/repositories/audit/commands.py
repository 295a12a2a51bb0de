"""Idempotency keys: what a command created under its key, kept until it expires."""

from __future__ import annotations

from datetime import datetime

from agentkeel.domain.audit import CommandRecord
from agentkeel.repositories.base import TableRepository


class IdempotencyKeysTable(TableRepository[CommandRecord]):
    """The records of the commands run under an idempotency key (written by every
    repository's `add`, see `TableRepository._once`): here only counted and purged."""

    entity = CommandRecord

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        return self._purge_before("created_at", cutoff, limit)
