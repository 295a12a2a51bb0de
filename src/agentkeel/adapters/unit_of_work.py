"""The unit of work, written once: an adapter supplies only how a transaction begins, commits
and rolls back, and the store to use inside it. Repositories are wired here, in one place."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from agentkeel.adapters.repositories.audit import AuditLogRepository
from agentkeel.adapters.repositories.base import Work
from agentkeel.adapters.repositories.workspace import (
    ProjectRepository,
    RepositoryRepository,
    SettingRepository,
    TemplateRepository,
    WorktreeRepository,
)
from agentkeel.adapters.store import ReadOnlyStore, RowStore
from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.events import DomainEvent, EventBus, HandlerFailure


class BaseUnitOfWork:
    projects: ProjectRepository
    repositories: RepositoryRepository
    worktrees: WorktreeRepository
    settings: SettingRepository
    templates: TemplateRepository
    audit_logs: AuditLogRepository

    def __init__(
        self, clock: Clock, bus: EventBus, source: EventSource, read_only: bool = False
    ) -> None:
        self.clock = clock
        self.source = EventSource(source)
        self.read_only = read_only
        self._bus = bus
        self._work: Work | None = None

    # -- what an adapter supplies -----------------------------------------------------------

    def _begin(self) -> RowStore:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Undo what was not committed and let go of the transaction."""
        raise NotImplementedError

    # -- the protocol ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._work is not None:
            raise RuntimeError("this unit of work is already open")
        store = self._begin()
        work = Work(ReadOnlyStore(store) if self.read_only else store, self.source)
        self._work = work
        self.projects = ProjectRepository(work)
        self.repositories = RepositoryRepository(work)
        self.worktrees = WorktreeRepository(work)
        self.settings = SettingRepository(work)
        self.templates = TemplateRepository(work)
        self.audit_logs = AuditLogRepository(work)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._open().end_transaction()
            self._close()
        finally:
            self._work = None

    def commit(self) -> list[HandlerFailure]:
        work = self._open()
        self._commit()
        events = list(work.events)
        work.end_transaction()
        return [failure for event in events for failure in self._bus.publish(event)]

    def rollback(self) -> None:
        work = self._open()
        work.end_transaction()
        self._rollback()

    def record(self, event: DomainEvent) -> None:
        self._open().events.append(event)

    def _open(self) -> Work:
        if self._work is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._work
