"""Errands: small jobs given to an agent, outside the plan."""

from __future__ import annotations

import builtins

from agentkeel.domain.planning import (
    Errand,
    ErrandStatus,
    ErrandWithAlias,
)
from agentkeel.ports.store import (
    Desc,
    Eq,
    Referenced,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import AGENTS, ERRANDS


class ErrandsTable(TableRepository[Errand]):
    entity = Errand

    # The agent's alias, read in the same query (a LEFT JOIN).
    _alias = Referenced("agent_id", ("name",))

    def find_with_alias(self, key: str) -> ErrandWithAlias | None:
        found = self._select_with(self._alias, [Eq(ERRANDS.id, self._key(key))])
        return _with_alias(*found[0]) if found else None

    def find_all(
        self, *, repository_id: str | None = None, status: ErrandStatus | None = None
    ) -> builtins.list[ErrandWithAlias]:
        where = self._eq_filters(repository_id=repository_id, status=status)
        return [
            _with_alias(*pair)
            for pair in self._select_with(self._alias, where, [Desc(ERRANDS.created_at)])
        ]


def _with_alias(errand: Errand, agent: Row | None) -> ErrandWithAlias:
    return ErrandWithAlias(errand, None if agent is None else agent[AGENTS.name])
