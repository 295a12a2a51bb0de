"""Change sets: the entries of one planning change, and their revert."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, assert_never

from agentkeel.domain.errors import (
    InvalidValue,
    NotFound,
    Protected,
)
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
)
from agentkeel.ports.store import (
    Asc,
    Desc,
    Eq,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import table_of
from agentkeel.schema.columns import CHANGE_SET_ENTRIES, CHANGE_SETS

if TYPE_CHECKING:
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork


class ChangeSetsTable(TableRepository[ChangeSet]):
    entity = ChangeSet

    def record(
        self,
        change_set: ChangeSet,
        changes: builtins.list[ChangeSetEntry],
    ) -> ChangeSet:
        if isinstance(changes, str | bytes) or not isinstance(changes, Sequence):
            problem = "must be a list of change set entries"
            raise InvalidValue("change_set", "changes", changes, problem)
        for position, entry in enumerate(changes):
            if not isinstance(entry, ChangeSetEntry):
                problem = f"must be a change set entry, not {type(entry).__name__}"
                raise InvalidValue("change_set", f"changes[{position}]", entry, problem)
        with self._store.atomic():
            stored = self.add(change_set)
            entries = self._uow.change_set_entries
            for entry in changes:
                entry.change_set_id = stored.id
                entries.add(entry)
        return stored

    def entries(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        return self._uow.change_set_entries.find_by_change_set(change_set_id)

    def find_by_initiative(self, initiative_id: str) -> builtins.list[ChangeSet]:
        return self._select(
            [Eq(CHANGE_SETS.initiative_id, initiative_id)], [Asc(CHANGE_SETS.created_at)]
        )

    def revert(self, change_set_id: str) -> ChangeSet:
        with self._store.atomic():
            row = self._store.get(self._table, self._key(change_set_id), for_update=True)
            if row is None:
                raise NotFound("change_set", change_set_id)
            change_set = self._entity(row)
            # Refusals a retry cannot lift (the change set's state, a later change): no
            # Conflict.
            if change_set.is_reverted:
                raise Protected(
                    "change_set",
                    change_set.id,
                    f"was already reverted at {change_set.reverted_at.isoformat()}",  # type: ignore[union-attr]
                )
            entries = self.entries(change_set.id)
            # Every entity first, so that a refusal leaves nothing half-undone; an entity
            # changed twice by the change set is compared with its last state.
            last: dict[tuple[str, str], ChangeSetEntry] = {}
            for entry in entries:
                last[(entry.entity_type.value, entry.entity_id)] = entry
            for entry in last.values():
                current = _repository_for(self._uow, entry.entity_type).find(entry.entity_id)
                now = None if current is None else current.audit_state()
                if now != entry.after_state:
                    raise Protected(
                        entry.entity_type.value,
                        entry.entity_id,
                        f"was changed after change set {change_set.id!r}: "
                        "revert the later change first",
                    )
            for entry in reversed(entries):
                _undo(self._uow, entry)
            change_set.reverted_at = self._store.clock.now()
            return self.update(change_set)


def _repository_for(uow: BaseUnitOfWork, kind: ChangedEntity) -> TableRepository[Any]:
    match kind:
        case ChangedEntity.PAGE:
            return uow.pages
        case ChangedEntity.PHASE:
            return uow.phases
        case ChangedEntity.TASK:
            return uow.tasks
        case _:
            assert_never(kind)


def _undo(uow: BaseUnitOfWork, entry: ChangeSetEntry) -> None:
    """Put one entity back as it was before the change (checked to be as the change left it)."""
    target = _repository_for(uow, entry.entity_type)
    match entry.action:
        case ChangeAction.CREATE:
            # An earlier undo's cascade (a page created under one created before) may have
            # removed it already.
            if target.find(entry.entity_id) is not None:
                target.delete(entry.entity_id)
        case ChangeAction.UPDATE:
            current = target.get(entry.entity_id)
            before = _as_entity(target, entry.before_state)
            for name in type(current).model_fields:
                if name not in _BOOKKEEPING:
                    setattr(current, name, getattr(before, name))
            target.update(current)
        case ChangeAction.DELETE:
            target.add(_as_entity(target, entry.before_state))
        case _:
            assert_never(entry.action)


# Columns the repositories stamp: a revert restores every other field.
_BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "row_version"})


def _as_entity(repository: TableRepository[Any], state: Any) -> Any:
    # An audit state is the JSON dump; validating it as JSON turns its text back into
    # datetimes and enums under the strict field rules.
    return repository.entity.model_validate_json(json.dumps(state))


class ChangeSetEntriesTable(TableRepository[ChangeSetEntry]):
    entity = ChangeSetEntry

    def find_by_change_set(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        return self._select(
            [Eq(CHANGE_SET_ENTRIES.change_set_id, change_set_id)],
            [Asc(CHANGE_SET_ENTRIES.position)],
        )

    def _before_delete(self, entry: ChangeSetEntry) -> None:
        raise Protected("change_set_entry", entry.id, "is append-only: it goes with its change set")

    def _before_write(self, entry: ChangeSetEntry, stored: Row | None) -> None:
        change_set = self._store.get(table_of(ChangeSet), entry.change_set_id, for_update=True)
        if change_set is None:
            raise NotFound("change_set", entry.change_set_id)
        if change_set[CHANGE_SETS.reverted_at] is not None:
            raise Protected(
                "change_set", change_set[CHANGE_SETS.id], "is reverted: it takes no new entries"
            )
        before_needed = entry.action is not ChangeAction.CREATE
        after_needed = entry.action is not ChangeAction.DELETE
        for name, needed in (("before_state", before_needed), ("after_state", after_needed)):
            value = getattr(entry, name)
            if needed and not isinstance(value, dict):
                raise InvalidValue(
                    "change_set_entry",
                    name,
                    value,
                    f"must be the entity's state for a {entry.action.value}",
                )
            if not needed and value is not None:
                raise InvalidValue(
                    "change_set_entry", name, value, f"must be null for a {entry.action.value}"
                )
        for name in ("before_state", "after_state"):
            value = getattr(entry, name)
            if isinstance(value, dict) and value.get("id") != entry.entity_id:
                raise InvalidValue(
                    "change_set_entry", name, value.get("id"), "must be the state of entity_id"
                )
        last = self._first(
            [Eq(CHANGE_SET_ENTRIES.change_set_id, entry.change_set_id)],
            [Desc(CHANGE_SET_ENTRIES.position)],
        )
        entry.position = 1 if last is None else last.position + 1
