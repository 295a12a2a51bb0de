"""Initiatives (archived, never deleted while they hold work) and the repositories linked to
them.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from agentkeel.domain.errors import (
    InvalidValue,
    NotFound,
)
from agentkeel.domain.planning import (
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
    generated_branch,
)
from agentkeel.domain.workspace import Repository
from agentkeel.ports.store import (
    Asc,
    Eq,
    In,
    Ne,
    Row,
    Where,
)
from agentkeel.repositories.archiving import ArchivingTable
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import table_of
from agentkeel.schema.columns import INITIATIVE_REPOSITORIES, INITIATIVES, REPOSITORIES


class InitiativesTable(ArchivingTable[Initiative]):
    entity = Initiative
    archive_flag = INITIATIVES.archived_at

    def list(
        self, *, project_id: str | None = None, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        where = self._eq_filters(project_id=project_id)
        return self._select(where + self._listed(include_archived), [Asc(INITIATIVES.created_at)])

    def find_by_status(
        self, status: InitiativeStatus, *, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        where: builtins.list[Where] = [
            Eq(INITIATIVES.status, status),
            *self._listed(include_archived),
        ]
        return self._select(where, [Asc(INITIATIVES.created_at)])

    def _before_write(self, initiative: Initiative, stored: Row | None) -> None:
        if initiative.branch is None:
            others = self._store.select(
                self._table,
                [
                    Eq(INITIATIVES.project_id, initiative.project_id),
                    Ne(INITIATIVES.id, initiative.id),
                ],
            )
            taken = {
                row[INITIATIVES.branch] for row in others if row[INITIATIVES.branch] is not None
            }
            initiative.branch = generated_branch(initiative.name, taken)


class InitiativeRepositoriesTable(TableRepository[InitiativeRepositoryLink]):
    entity = InitiativeRepositoryLink

    def set_for_initiative(
        self, initiative_id: str, repository_ids: Iterable[str]
    ) -> builtins.list[InitiativeRepositoryLink]:
        initiative_id = self.entity.query_value("initiative_id", initiative_id)
        if isinstance(repository_ids, str | bytes) or not isinstance(repository_ids, Iterable):
            raise InvalidValue(
                self._label, "repository_ids", repository_ids, "must be a collection of ids"
            )
        wanted = list(
            dict.fromkeys(self.entity.query_value("repository_id", r) for r in repository_ids)
        )
        if self._store.get(table_of(Initiative), initiative_id) is None:
            raise NotFound("initiative", initiative_id)
        linked = self._select([Eq(INITIATIVE_REPOSITORIES.initiative_id, initiative_id)])
        kept = {link.repository_id for link in linked}
        wanted_ids = set(wanted)
        with self._store.atomic():
            gone = [link.id for link in linked if link.repository_id not in wanted_ids]
            if gone:
                self._store.delete(self._table, [In(INITIATIVE_REPOSITORIES.id, frozenset(gone))])
            for repository_id in wanted:
                if repository_id not in kept:
                    link = InitiativeRepositoryLink(
                        initiative_id=initiative_id, repository_id=repository_id
                    )
                    self.add(link)
        return self._select(
            [Eq(INITIATIVE_REPOSITORIES.initiative_id, initiative_id)],
            [Asc(INITIATIVE_REPOSITORIES.created_at)],
        )

    def of_initiative(self, initiative_id: str) -> builtins.list[Repository]:
        links = self._select([Eq(INITIATIVE_REPOSITORIES.initiative_id, initiative_id)])
        ids = frozenset(link.repository_id for link in links)
        return self._uow.repositories.matching([In(REPOSITORIES.id, ids)], [Asc(REPOSITORIES.name)])

    def _before_write(self, link: InitiativeRepositoryLink, stored: Row | None) -> None:
        initiative = self._store.get(table_of(Initiative), link.initiative_id)
        repository = self._store.get(table_of(Repository), link.repository_id)
        # A missing one is the foreign key's to report (ReferenceMissing).
        if initiative is None or repository is None:
            return
        if repository[REPOSITORIES.project_id] != initiative[INITIATIVES.project_id]:
            raise InvalidValue(
                self._label,
                "repository_id",
                link.repository_id,
                f"belongs to project {repository[REPOSITORIES.project_id]!r}, not to the"
                f" initiative's project {initiative[INITIATIVES.project_id]!r}",
            )
