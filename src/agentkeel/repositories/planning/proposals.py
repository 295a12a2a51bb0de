"""Proposals: what an agent suggests for a page, phase or task, until accepted or dismissed."""

from __future__ import annotations

import builtins

from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
)
from agentkeel.domain.planning import (
    Proposal,
    ProposalStatus,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    In,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.planning.targets import check_target
from agentkeel.schema.columns import PROPOSALS


class ProposalsTable(TableRepository[Proposal]):
    entity = Proposal

    def find_by_agent_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        where = [Eq(PROPOSALS.agent_id, agent_id), *self._eq_filters(status=status)]
        return self._select(where, [Asc(PROPOSALS.sort_order), Asc(PROPOSALS.created_at)])

    def count_by_agent_and_status(self, agent_id: str, status: ProposalStatus | None = None) -> int:
        where = self._query([Eq(PROPOSALS.agent_id, agent_id), *self._eq_filters(status=status)])
        return self._store.count(self._table, where)

    def update_many_by_agent(
        self,
        agent_id: str,
        *,
        status: ProposalStatus,
        from_status: ProposalStatus | None = None,
    ) -> int:
        held = self.entity.query_value("status", status)
        if held is None:
            raise InvalidValue("proposal", "status", None, "must be given")
        new = ProposalStatus(held)
        graph = Proposal.transitions[PROPOSALS.status]
        sources = {str(old) for old, targets in graph.items() if new in targets}
        if from_status is not None:
            old = str(self.entity.query_value("status", from_status))
            if old not in sources:
                raise InvalidTransition("proposal", "status", old, new.value)
            sources = {old}
        where: list[Where] = [
            Eq(PROPOSALS.agent_id, agent_id),
            In(PROPOSALS.status, frozenset(sources)),
        ]
        return self._update_many(where, {PROPOSALS.status: new.value})

    def _before_write(self, proposal: Proposal, stored: Row | None) -> None:
        moved = (
            stored is None
            or any(
                stored[name] != getattr(proposal, name) for name in ("target_id", "initiative_id")
            )
            or stored[PROPOSALS.target_type] != proposal.target_type.value
        )
        if proposal.target_id is not None and moved:
            check_target(
                self._store,
                "proposal",
                proposal.target_type,
                proposal.target_id,
                proposal.initiative_id,
            )
