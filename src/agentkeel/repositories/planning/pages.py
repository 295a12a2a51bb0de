"""Pages: one root page per initiative, a tree below it."""

from __future__ import annotations

import builtins

from agentkeel.domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidValue,
    NotFound,
)
from agentkeel.domain.planning import (
    Initiative,
    Page,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    IsNull,
    Ne,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.planning.targets import release_targets
from agentkeel.schema import table_of
from agentkeel.schema.columns import INITIATIVES, PAGES


class PagesTable(TableRepository[Page]):
    entity = Page

    def find_root_page(self, initiative_id: str) -> Page | None:
        return self._first([Eq(PAGES.initiative_id, initiative_id), IsNull(PAGES.parent_page_id)])

    def get_or_create_root_page(self, initiative_id: str, *, title: str | None = None) -> Page:
        initiative_id = self.entity.query_value("initiative_id", initiative_id)
        root = self.find_root_page(initiative_id)
        if root is not None:
            return root
        initiative = self._store.get(table_of(Initiative), initiative_id)
        if initiative is None:
            raise NotFound("initiative", initiative_id)
        page = Page(
            initiative_id=initiative_id,
            title=initiative[INITIATIVES.name] if title is None else title,
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
        where = [Eq(PAGES.parent_page_id, parent_page_id)]
        return self._select(where, [Asc(PAGES.sort_order), Asc(PAGES.created_at)])

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Page]:
        where = [Eq(PAGES.initiative_id, initiative_id)]
        return self._select(where, [Asc(PAGES.sort_order), Asc(PAGES.created_at)])

    def _before_write(self, page: Page, stored: Row | None) -> None:
        if stored is not None and stored[PAGES.initiative_id] != page.initiative_id:
            raise InvalidValue(
                self._label,
                "initiative_id",
                page.initiative_id,
                f"cannot change: a page stays in its initiative ({stored[PAGES.initiative_id]!r})",
            )
        if page.parent_page_id is None:
            roots: builtins.list[Where] = [
                Eq(PAGES.initiative_id, page.initiative_id),
                IsNull(PAGES.parent_page_id),
                Ne(PAGES.id, page.id),
            ]
            if self._store.count(self._table, roots):
                raise AlreadyExists(
                    self._label,
                    {PAGES.initiative_id: page.initiative_id, PAGES.parent_page_id: None},
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
            if len(path) == 2 and parent[PAGES.initiative_id] != page.initiative_id:
                raise InvalidValue(
                    self._label,
                    "parent_page_id",
                    parent_id,
                    f"is a page of initiative {parent[PAGES.initiative_id]!r}, not of the"
                    f" page's initiative {page.initiative_id!r}",
                )
            parent_id = parent[PAGES.parent_page_id]
            if parent_id in path[1:]:
                return  # a cycle among stored rows that does not pass through this page

    def _before_delete(self, page: Page) -> None:
        release_targets(self._uow, self._table, page.id)
