"""Repositories of the planning context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.adapters.repositories.workspace import GitRepositoryRepository
from agentkeel.adapters.store import (
    Asc,
    Desc,
    Eq,
    In,
    IsNull,
    Ne,
    Referenced,
    Row,
    Where,
)
from agentkeel.domain.errors import AlreadyExists, DependencyCycle, InvalidValue, NotFound
from agentkeel.domain.planning import (
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatSession,
    Errand,
    ErrandStatus,
    ErrandWithAlias,
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ReviewComment,
    Task,
    TaskDependency,
    generated_branch,
)
from agentkeel.domain.workspace import Repository
from agentkeel.schema import table_of


class InitiativeRepository(TableRepository[Initiative]):
    entity = Initiative

    def list(
        self, *, project_id: str | None = None, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        where = self._eq_filters(project_id=project_id)
        return self._select(where + _unarchived(include_archived), [Asc("created_at")])

    def find_by_status(
        self, status: InitiativeStatus, *, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        where: builtins.list[Where] = [Eq("status", status), *_unarchived(include_archived)]
        return self._select(where, [Asc("created_at")])

    def archive(self, key: str) -> Initiative:
        initiative = self.get(key)
        initiative.archive(self._store.clock.now())
        return self.update(initiative)

    def unarchive(self, key: str) -> Initiative:
        initiative = self.get(key)
        initiative.unarchive()
        return self.update(initiative)

    def _before_write(self, initiative: Initiative, stored: Row | None) -> None:
        if initiative.branch is None:
            others = self._store.select(
                self._table, [Eq("project_id", initiative.project_id), Ne("id", initiative.id)]
            )
            taken = {row["branch"] for row in others if row["branch"] is not None}
            initiative.branch = generated_branch(initiative.name, taken)


def _unarchived(include_archived: bool) -> builtins.list[Where]:
    return [] if include_archived else [IsNull("archived_at")]


class InitiativeRepositoryLinkRepository(TableRepository[InitiativeRepositoryLink]):
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
        linked = self._select([Eq("initiative_id", initiative_id)])
        kept = {link.repository_id for link in linked}
        wanted_ids = set(wanted)
        with self._store.atomic():
            gone = [link.id for link in linked if link.repository_id not in wanted_ids]
            if gone:
                self._store.delete(self._table, [In("id", frozenset(gone))])
            for repository_id in wanted:
                if repository_id not in kept:
                    link = InitiativeRepositoryLink(
                        initiative_id=initiative_id, repository_id=repository_id
                    )
                    self.add(link)
        return self._select([Eq("initiative_id", initiative_id)], [Asc("created_at")])

    def of_initiative(self, initiative_id: str) -> builtins.list[Repository]:
        links = self._select([Eq("initiative_id", initiative_id)])
        ids = frozenset(link.repository_id for link in links)
        return GitRepositoryRepository(self._state)._select([In("id", ids)], [Asc("name")])

    def _before_write(self, link: InitiativeRepositoryLink, stored: Row | None) -> None:
        initiative = self._store.get(table_of(Initiative), link.initiative_id)
        repository = self._store.get(table_of(Repository), link.repository_id)
        # A missing one is the foreign key's to report (ReferenceMissing).
        if initiative is None or repository is None:
            return
        if repository["project_id"] != initiative["project_id"]:
            raise InvalidValue(
                self._label,
                "repository_id",
                link.repository_id,
                f"belongs to project {repository['project_id']!r}, not to the"
                f" initiative's project {initiative['project_id']!r}",
            )


class PhaseRepository(TableRepository[Phase]):
    entity = Phase


class PhaseDependencyRepository(TableRepository[PhaseDependency]):
    entity = PhaseDependency


class TaskRepository(TableRepository[Task]):
    entity = Task


class TaskDependencyRepository(TableRepository[TaskDependency]):
    entity = TaskDependency


class PageRepository(TableRepository[Page]):
    entity = Page

    def find_root_page(self, initiative_id: str) -> Page | None:
        return self._first([Eq("initiative_id", initiative_id), IsNull("parent_page_id")])

    def get_or_create_root_page(self, initiative_id: str, *, title: str | None = None) -> Page:
        initiative_id = self.entity.query_value("initiative_id", initiative_id)
        root = self.find_root_page(initiative_id)
        if root is not None:
            return root
        initiative = self._store.get(table_of(Initiative), initiative_id)
        if initiative is None:
            raise NotFound("initiative", initiative_id)
        page = Page(
            initiative_id=initiative_id, title=initiative["name"] if title is None else title
        )
        try:
            # A savepoint: a clash with a concurrent unit of work's root leaves this one usable.
            with self._store.atomic():
                return self.add(page)
        except AlreadyExists:
            winner = self.find_root_page(initiative_id)
            if winner is None:
                raise
            return winner

    def find_by_parent_page(self, parent_page_id: str) -> builtins.list[Page]:
        where = [Eq("parent_page_id", parent_page_id)]
        return self._select(where, [Asc("sort_order"), Asc("created_at")])

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Page]:
        where = [Eq("initiative_id", initiative_id)]
        return self._select(where, [Asc("sort_order"), Asc("created_at")])

    def _before_write(self, page: Page, stored: Row | None) -> None:
        if stored is not None and stored["initiative_id"] != page.initiative_id:
            raise InvalidValue(
                self._label,
                "initiative_id",
                page.initiative_id,
                f"cannot change: a page stays in its initiative ({stored['initiative_id']!r})",
            )
        if page.parent_page_id is None:
            roots: builtins.list[Where] = [
                Eq("initiative_id", page.initiative_id),
                IsNull("parent_page_id"),
                Ne("id", page.id),
            ]
            if self._store.count(self._table, roots):
                raise AlreadyExists(
                    self._label, {"initiative_id": page.initiative_id, "parent_page_id": None}
                )
            return
        self._check_ancestry(page)

    def _check_ancestry(self, page: Page) -> None:
        """The new parent is in the page's initiative, and the page is not among its own
        ancestors (walked up from the parent: trees are shallow)."""
        path = [page.id]
        parent_id: str | None = page.parent_page_id
        while parent_id is not None:
            path.append(parent_id)
            if parent_id == page.id:
                raise DependencyCycle(self._label, path)
            parent = self._store.get(self._table, parent_id)
            if parent is None:
                return  # a missing parent is the foreign key's to report (ReferenceMissing)
            if len(path) == 2 and parent["initiative_id"] != page.initiative_id:
                raise InvalidValue(
                    self._label,
                    "parent_page_id",
                    parent_id,
                    f"is a page of initiative {parent['initiative_id']!r}, not of the"
                    f" page's initiative {page.initiative_id!r}",
                )
            parent_id = parent["parent_page_id"]
            if parent_id in path[1:]:
                return  # a cycle among stored rows that does not pass through this page


class ProposalRepository(TableRepository[Proposal]):
    entity = Proposal


class ReviewCommentRepository(TableRepository[ReviewComment]):
    entity = ReviewComment


class ChatSessionRepository(TableRepository[ChatSession]):
    entity = ChatSession


class ChatMessageRepository(TableRepository[ChatMessage]):
    entity = ChatMessage


class ChangeSetRepository(TableRepository[ChangeSet]):
    entity = ChangeSet


class ChangeSetEntryRepository(TableRepository[ChangeSetEntry]):
    entity = ChangeSetEntry


class ErrandRepository(TableRepository[Errand]):
    entity = Errand

    # The agent's alias, read in the same query (a LEFT JOIN).
    _alias = Referenced("agent_id", ("name",))

    def find_with_alias(self, key: str) -> ErrandWithAlias | None:
        found = self._select_with(self._alias, [Eq("id", self._key(key))])
        return _with_alias(*found[0]) if found else None

    def find_all(
        self, *, repository_id: str | None = None, status: ErrandStatus | None = None
    ) -> builtins.list[ErrandWithAlias]:
        where = self._eq_filters(repository_id=repository_id, status=status)
        return [
            _with_alias(*pair)
            for pair in self._select_with(self._alias, where, [Desc("created_at")])
        ]


def _with_alias(errand: Errand, agent: Row | None) -> ErrandWithAlias:
    return ErrandWithAlias(errand, None if agent is None else agent["name"])
