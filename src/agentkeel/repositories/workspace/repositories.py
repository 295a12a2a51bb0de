"""A project's git repositories, one of them its default."""

from __future__ import annotations

import builtins

from agentkeel.domain.workspace import (
    DefaultRepositoryChanged,
    Repository,
)
from agentkeel.ports.store import Asc, Eq, NotNull, Row, Where
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import was_set
from agentkeel.schema.columns import REPOSITORIES, WORKFLOW_REPOSITORIES


class RepositoriesTable(TableRepository[Repository]):
    entity = Repository

    def list(self, *, project_id: str | None = None) -> builtins.list[Repository]:
        return self._select(self._eq_filters(project_id=project_id), [Asc(REPOSITORIES.name)])

    def find_by_name(self, project_id: str, name: str) -> Repository | None:
        return self._first([Eq(REPOSITORIES.project_id, project_id), Eq(REPOSITORIES.name, name)])

    def find_by_url(self, url: str) -> builtins.list[Repository]:
        return self._select([Eq(REPOSITORIES.url, url)])

    def default_of(self, project_id: str) -> Repository | None:
        return self._first(
            [Eq(REPOSITORIES.project_id, project_id), NotNull(REPOSITORIES.set_as_default_at)]
        )

    def set_default(self, key: str) -> Repository:
        repository = self.get(key)
        repository.set_as_default_at = repository.set_as_default_at or self._store.clock.now()
        return self.update(repository)

    def mark_fetched(self, key: str) -> Repository:
        repository = self.get(key)
        repository.last_fetched_at = self._store.clock.now()
        return self.update(repository)

    def delete(self, key: str) -> dict[str, int]:
        # The workflows whose primary repository this is keep one: their oldest link left
        # becomes it, as `workflow_repositories.unlink` does.
        links = self._uow.workflow_repositories
        primary: list[Where] = [
            Eq(WORKFLOW_REPOSITORIES.repository_id, self._key(key)),
            NotNull(WORKFLOW_REPOSITORIES.set_primary_at),
        ]
        with self._store.atomic():
            held = [
                row[WORKFLOW_REPOSITORIES.workflow_id]
                for row in self._store.select(links.table, primary)
            ]
            removed = super().delete(key)
            for workflow_id in held:
                links.promote_oldest(workflow_id)
        return removed

    def _after_write(self, repository: Repository, stored: Row | None) -> None:
        kept = was_set(stored, REPOSITORIES.set_as_default_at) and (
            stored is not None and stored[REPOSITORIES.project_id] == repository.project_id
        )
        if repository.is_default and not kept:
            self._record(DefaultRepositoryChanged(repository.project_id, repository.id))
