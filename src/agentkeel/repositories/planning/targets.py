"""The pages, phases and tasks that proposals and chat sessions name without a foreign key:
checked when named, released when deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Table

from agentkeel.domain.errors import (
    InvalidValue,
)
from agentkeel.domain.planning import (
    ChatStatus,
    ChatTarget,
    ProposalStatus,
    ProposalTarget,
)
from agentkeel.ports.store import (
    Eq,
    In,
    RowStore,
)
from agentkeel.schema import metadata
from agentkeel.schema.columns import CHAT_SESSIONS, PAGES, PHASES, PROPOSALS, TASKS
from agentkeel.schema.graph import plan_delete

if TYPE_CHECKING:
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork


# -- targets without a foreign key -------------------------------------------------------------

# The planning tables whose rows proposals and chat sessions name without a foreign key.
_TARGET_TABLES = {
    PAGES.TABLE: ProposalTarget.PAGE,
    PHASES.TABLE: ProposalTarget.PHASE,
    TASKS.TABLE: ProposalTarget.TASK,
}
# A target's table and the column naming its initiative, by the kind of target.
_TARGET_INITIATIVE = {
    "page": (PAGES.TABLE, PAGES.initiative_id),
    "phase": (PHASES.TABLE, PHASES.initiative_id),
    "task": (TASKS.TABLE, TASKS.initiative_id),
}


def release_targets(uow: BaseUnitOfWork, table: Table, key: str) -> None:
    """Before a page, phase or task is deleted: dismiss the pending proposals and close the
    active chat sessions that name it, or any page, phase or task its delete cascades to
    (a phase's tasks, a task's subtasks), in the same transaction (docs/decisions.md,
    "Targets without a foreign key"). Called from the `_before_delete` hook, so no delete
    path skips it."""
    plan = plan_delete(table, {key}, uow.store.referrers)
    proposals, sessions = uow.proposals, uow.chat_sessions
    for name, kind in _TARGET_TABLES.items():
        ids = plan.removed.get(name)
        if not ids:
            continue
        proposals.set_where(
            [
                Eq(PROPOSALS.target_type, kind.value),
                In(PROPOSALS.target_id, frozenset(ids)),
                Eq(PROPOSALS.status, ProposalStatus.PENDING.value),
            ],
            {PROPOSALS.status: ProposalStatus.DISMISSED.value},
        )
        if kind is not ProposalTarget.PAGE:
            sessions.set_where(
                [
                    Eq(CHAT_SESSIONS.target_type, kind.value),
                    In(CHAT_SESSIONS.target_id, frozenset(ids)),
                    Eq(CHAT_SESSIONS.status, ChatStatus.ACTIVE.value),
                ],
                {CHAT_SESSIONS.status: ChatStatus.CLOSED.value},
            )


def check_target(
    store: RowStore,
    label: str,
    kind: ProposalTarget | ChatTarget,
    target_id: str,
    initiative_id: str,
) -> None:
    """Refuse a target that does not exist or is not in the initiative (InvalidValue)."""
    table, initiative_column = _TARGET_INITIATIVE[kind.value]
    row = store.get(metadata.tables[table], target_id)
    if row is None:
        raise InvalidValue(label, "target_id", target_id, f"names no {kind.value}")
    if row[initiative_column] != initiative_id:
        raise InvalidValue(
            label,
            "target_id",
            target_id,
            f"is a {kind.value} of another initiative than {initiative_id!r}",
        )
