"""The repositories a workflow works on, one of them primary."""

from __future__ import annotations

import builtins

from agentkeel.domain.errors import (
    InvalidValue,
    NotFound,
)
from agentkeel.domain.workflows import (
    Workflow,
    WorkflowRepositoryLink,
)
from agentkeel.domain.workspace import (
    Repository,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    NotNull,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import fixed
from agentkeel.schema import table_of
from agentkeel.schema.columns import REPOSITORIES, WORKFLOW_REPOSITORIES, WORKFLOWS


class WorkflowRepositoriesTable(TableRepository[WorkflowRepositoryLink]):
    entity = WorkflowRepositoryLink

    def link(
        self, workflow_id: str, repository_id: str, *, primary: bool = False
    ) -> WorkflowRepositoryLink:
        link = WorkflowRepositoryLink(workflow_id=workflow_id, repository_id=repository_id)
        if primary:
            link.set_primary_at = self._store.clock.now()
        return self.add(link)

    def unlink(self, workflow_id: str, repository_id: str) -> None:
        link = self._pair(workflow_id, repository_id)
        self.delete(link.id)

    def set_primary(self, workflow_id: str, repository_id: str) -> WorkflowRepositoryLink:
        link = self._pair(workflow_id, repository_id)
        if link.is_primary:
            return link
        link.set_primary_at = self._store.clock.now()
        return self.update(link)

    def of_workflow(self, workflow_id: str) -> builtins.list[WorkflowRepositoryLink]:
        return self._select(
            [Eq(WORKFLOW_REPOSITORIES.workflow_id, workflow_id)],
            [Asc(WORKFLOW_REPOSITORIES.created_at)],
        )

    def primary_of(self, workflow_id: str) -> Repository | None:
        link = self._first(
            [
                Eq(WORKFLOW_REPOSITORIES.workflow_id, workflow_id),
                NotNull(WORKFLOW_REPOSITORIES.set_primary_at),
            ]
        )
        return None if link is None else self._uow.repositories.get(link.repository_id)

    def delete(self, key: str) -> dict[str, int]:
        link = self.get(key)
        self._store.serialize(table_of(Workflow), link.workflow_id)
        with self._store.atomic():
            removed = super().delete(key)
            if link.is_primary:
                self.promote_oldest(link.workflow_id)
        return removed

    def promote_oldest(self, workflow_id: str) -> None:
        """The workflow lost its primary link: the oldest of the links left (ties by id)
        becomes the primary, if any is left. Also for a repository's delete, which removes
        its links by cascade."""
        oldest = self._first(
            [Eq(WORKFLOW_REPOSITORIES.workflow_id, workflow_id)],
            [Asc(WORKFLOW_REPOSITORIES.created_at)],
        )
        if oldest is not None and not oldest.is_primary:
            oldest.set_primary_at = self._store.clock.now()
            self.update(oldest)

    def _pair(self, workflow_id: str, repository_id: str) -> WorkflowRepositoryLink:
        link = self._first(
            [
                Eq(WORKFLOW_REPOSITORIES.workflow_id, workflow_id),
                Eq(WORKFLOW_REPOSITORIES.repository_id, repository_id),
            ]
        )
        if link is None:
            raise NotFound(
                "workflow_repository",
                f"{workflow_id} -> {repository_id}",
                field="workflow_id -> repository_id",
            )
        return link

    def _before_write(self, link: WorkflowRepositoryLink, stored: Row | None) -> None:
        fixed(
            "workflow_repository",
            link,
            stored,
            (WORKFLOW_REPOSITORIES.workflow_id, WORKFLOW_REPOSITORIES.repository_id),
        )
        if stored is not None:
            if (
                stored[WORKFLOW_REPOSITORIES.set_primary_at] is not None
                and link.set_primary_at is None
            ):
                raise InvalidValue(
                    "workflow_repository",
                    "set_primary_at",
                    None,
                    "a workflow with repositories always has one primary: "
                    "make another one primary instead",
                )
            return
        workflow = self._store.get(table_of(Workflow), link.workflow_id)
        repository = self._store.get(table_of(Repository), link.repository_id)
        if workflow is None or repository is None:
            return  # their foreign keys refuse it (ReferenceMissing)
        if repository[REPOSITORIES.project_id] != workflow[WORKFLOWS.project_id]:
            raise InvalidValue(
                "workflow_repository",
                "repository_id",
                link.repository_id,
                f"is a repository of project {repository[REPOSITORIES.project_id]!r}, "
                f"not of the workflow's project {workflow[WORKFLOWS.project_id]!r}",
            )
        # Linking the first repository makes it the primary: in turns per workflow, so
        # that two first links at once do not both find none.
        self._store.serialize(table_of(Workflow), link.workflow_id)
        if link.set_primary_at is None and not self._store.count(
            self._table, [Eq(WORKFLOW_REPOSITORIES.workflow_id, link.workflow_id)]
        ):
            link.set_primary_at = self._store.clock.now()
