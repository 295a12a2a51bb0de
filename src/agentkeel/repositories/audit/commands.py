"""Idempotency keys: what a command created under its key, kept until it expires."""

from __future__ import annotations

from datetime import datetime

from agentkeel.domain.audit import CommandRecord
from agentkeel.repositories.purging import PurgingTable
from agentkeel.schema.columns import IDEMPOTENCY_KEYS


class IdempotencyKeysTable(PurgingTable[CommandRecord]):
    """The records of the commands run under an idempotency key (written by every
    repository's `add`, see `TableRepository._once`): here only counted and purged."""

    entity = CommandRecord

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        return self._purge_before(IDEMPOTENCY_KEYS.created_at, cutoff, limit)
