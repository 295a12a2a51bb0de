"""Archiving, written once for the aggregates that archive (projects, initiatives,
workflows): an archived row is hidden from listings unless they ask for it, stays readable
by id, and comes back with `unarchive`. The entity keeps the flag (`archived_at`, set once);
the aggregate's `_after_write` says what archiving means beyond that (events, audit)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import ClassVar, Protocol, TypeVar, cast

from agentkeel.domain.entity import Entity
from agentkeel.ports.store import IsNull, Where
from agentkeel.repositories.base import TableRepository


class _Archivable(Protocol):
    def archive(self, at: datetime) -> None: ...

    def unarchive(self) -> None: ...


A = TypeVar("A", bound=Entity)


class ArchivingTable(TableRepository[A]):
    """A repository whose rows are archived rather than deleted to hide them."""

    # The flag's column (`PROJECTS.archived_at`).
    archive_flag: ClassVar[str]

    def archive(self, key: str) -> A:
        entity = self.get(key)
        cast(_Archivable, entity).archive(self._store.clock.now())
        return self.update(entity)

    def unarchive(self, key: str) -> A:
        entity = self.get(key)
        cast(_Archivable, entity).unarchive()
        return self.update(entity)

    @classmethod
    def _listed(cls, include_archived: bool) -> builtins.list[Where]:
        """The terms of a listing: every row, or only those not archived."""
        return [] if include_archived else [IsNull(cls.archive_flag)]
