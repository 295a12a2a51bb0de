"""Phases: their initiative is fixed, and the initiative follows their status."""

from __future__ import annotations

import builtins

from agentkeel.domain.errors import (
    InvalidValue,
)
from agentkeel.domain.planning import (
    ExecutionMode,
    Initiative,
    InitiativeStatus,
    Phase,
)
from agentkeel.domain.planning.events import (
    PhaseStatusChanged,
)
from agentkeel.domain.planning.phases import PhaseStatus
from agentkeel.ports.store import (
    Asc,
    Eq,
    Ne,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.planning.targets import release_targets
from agentkeel.schema import table_of
from agentkeel.schema.columns import PHASES

_P = PhaseStatus


class PhasesTable(TableRepository[Phase]):
    entity = Phase

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Phase]:
        return self._select([Eq(PHASES.initiative_id, initiative_id)], [Asc(PHASES.created_at)])

    def _before_delete(self, phase: Phase) -> None:
        release_targets(self._uow, self._table, phase.id)

    def move_to(self, key: str, status: PhaseStatus) -> Phase:
        return self._move(key, status)

    def _before_write(self, phase: Phase, stored: Row | None) -> None:
        # Its dependencies, tasks and review comments are the initiative's: it stays there.
        if stored is not None and stored[PHASES.initiative_id] != phase.initiative_id:
            was = stored[PHASES.initiative_id]
            raise InvalidValue(
                "phase", "initiative_id", phase.initiative_id, f"cannot change (was {was!r})"
            )

    def _after_write(self, phase: Phase, stored: Row | None) -> None:
        if stored is not None and stored[PHASES.status] != phase.status:
            self._record(
                PhaseStatusChanged(
                    phase.id, phase.initiative_id, stored[PHASES.status], phase.status
                )
            )
            self._initiative_follows(phase, stored[PHASES.status])

    def _initiative_follows(self, phase: Phase, was: str) -> None:
        """001's review flow, one level up: when the last phase of an active initiative
        completes, the initiative goes to pending_review (review_per_phase) or completed
        (yolo); when a phase of a pending_review or completed initiative has work again
        (it goes in progress, or leaves completed), the initiative is active again."""
        if phase.status not in (_P.COMPLETED, _P.IN_PROGRESS) and was != _P.COMPLETED:
            return  # nothing for the initiative (and no read)
        # The last two phases completing at once: in turns, as the tasks of a phase.
        self._store.serialize(table_of(Initiative), phase.initiative_id)
        initiatives = self._uow.initiatives
        initiative = initiatives.get(phase.initiative_id)
        if phase.status is PhaseStatus.COMPLETED:
            if initiative.status is not InitiativeStatus.ACTIVE:
                return
            unfinished: builtins.list[Where] = [
                Eq(PHASES.initiative_id, phase.initiative_id),
                Ne(PHASES.status, _P.COMPLETED.value),
            ]
            if self._store.select(self._table, unfinished, limit=1):
                return
            reviewed = initiative.execution_mode is ExecutionMode.REVIEW_PER_PHASE
            initiative.status = (
                InitiativeStatus.PENDING_REVIEW if reviewed else InitiativeStatus.COMPLETED
            )
            initiatives.update(initiative)
        elif initiative.status is not InitiativeStatus.ACTIVE:
            initiative.status = InitiativeStatus.ACTIVE
            initiatives.update(initiative)
