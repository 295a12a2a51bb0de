"""The generic repository, written once over a RowStore and shared by every adapter.

An aggregate's repository subclasses `TableRepository`, names its entity, and adds only its
own finders. Stamping, change tracking, exclusive flags, state-machine guards, cascading
hard deletes and their audit entries all happen here.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import JsonValue

from agentkeel.adapters.store import Eq, In, Ne, NotNull, Order, RowStore, Where
from agentkeel.domain.audit import AuditEntry, EventCategory, EventSource
from agentkeel.domain.errors import Conflict, InvalidValue, NotFound
from agentkeel.domain.events import DomainEvent, RecordDeleted
from agentkeel.domain.model import INT64_MAX, Entity, text_problem
from agentkeel.schema import label_of, table_of
from agentkeel.schema.graph import plan_delete

E = TypeVar("E", bound=Entity)


@dataclass
class Work:
    """What a unit of work lends its repositories: its store, who acts, the events recorded."""

    store: RowStore
    source: EventSource = EventSource.SYSTEM
    events: list[DomainEvent] = field(default_factory=list)


class TableRepository(Generic[E]):
    entity: ClassVar[type[Entity]]

    def __init__(self, work: Work) -> None:
        self._work = work
        self._store = work.store
        self._table = table_of(self.entity)
        self._label = label_of(self._table)
        self._exclusive_flags = [
            (str(index.info["only_where_set"]), index.columns.keys()[0])
            for index in self._table.indexes
            if index.info.get("only_where_set")
        ]

    # -- the generic port ------------------------------------------------------------------

    def add(self, entity: E) -> E:
        checked = self._checked(entity)
        now = self._store.clock.now()
        stored = checked.model_copy(update=dict.fromkeys(entity.stamped_on_insert, now))
        row = stored.to_row()
        raised = self._raised_exclusive_flags(row, None)
        with self._store.atomic() if raised else nullcontext():
            self._clear_others(raised, row)
            self._store.insert(self._table, row)
        stored.remember_stored(row)
        return stored

    def get(self, key: str) -> E:
        entity = self.find(key)
        if entity is None:
            raise NotFound(self._label, key)
        return entity

    def find(self, key: str) -> E | None:
        self._check_query([Eq("id", key)])
        row = self._store.get(self._table, key)
        return None if row is None else self._entity(row)

    def update(self, entity: E) -> E:
        entity = self._checked(entity)
        entity.check_transitions()
        changes = entity.changed_columns()
        changes.pop("id", None)
        for column in entity.stamped_on_insert:
            if column not in entity.stamped_on_update:
                changes.pop(column, None)
        if not changes:
            return self.get(entity.id)
        now = self._store.clock.now()
        for column in entity.stamped_on_update:
            changes[column] = now
        # Guard state machines against concurrent moves: only update from the state we read.
        guard: list[Where] = [
            Eq(name, entity.stored_value(name))
            for name in entity.transitions
            if name in changes and entity.stored_value(name) is not None
        ]
        written = {**entity.to_row(), **changes}
        raised = self._raised_exclusive_flags(written, entity)
        with self._store.atomic() if raised else nullcontext():
            self._clear_others(raised, written)
            row = self._store.update_one(self._table, [Eq("id", entity.id), *guard], changes)
            if row is None:
                if self._store.get(self._table, entity.id) is None:
                    raise NotFound(self._label, entity.id)
                raise Conflict(self._label, entity.id, "changed concurrently; read it again")
        return self._entity(row)

    def delete(self, key: str) -> dict[str, int]:
        self._check_query([Eq("id", key)])
        with self._store.atomic():
            row = self._store.get(self._table, key, for_update=True)
            if row is None:
                raise NotFound(self._label, key)
            entity = self._entity(row)
            plan = plan_delete(self._table, {key}, self._store.referrers)
            if (refusal := plan.refusal()) is not None:
                raise refusal
            self._store.delete(self._table, [Eq("id", key)])
            removed = plan.counts()
            self._audit_deletion(entity, removed)
        self._work.events.append(RecordDeleted(self._label, key, removed))
        return removed

    def count(self) -> int:
        return self._store.count(self._table)

    # -- for subclasses --------------------------------------------------------------------

    def _checked(self, entity: E) -> E:
        """The entity validated afresh: `model_construct` and `model_copy(update=...)` skip
        validation, and nothing unvalidated may reach storage."""
        if not isinstance(entity, self.entity):
            raise TypeError(f"expected a {self.entity.__name__}, got {type(entity).__name__}")
        checked: E = type(entity).model_validate(entity.__dict__)
        checked._stored = entity._stored
        return checked

    def _entity(self, row: dict[str, Any]) -> E:
        entity: E = self.entity.from_row(row)  # type: ignore[assignment]
        return entity

    def _select(
        self,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[E]:
        self._check_query(where)
        # SQLite reads LIMIT -1 as "no limit", PostgreSQL refuses it: refuse it everywhere.
        for name, value in (("limit", limit), ("offset", offset)):
            if value is not None and (isinstance(value, bool) or not 0 <= value <= INT64_MAX):
                raise InvalidValue(self._label, name, value, "must be a whole number >= 0")
        rows = self._store.select(self._table, where, order_by, limit, offset)
        return [self._entity(row) for row in rows]

    def _check_query(self, where: Sequence[Where]) -> None:
        """Refuse a text a query compares with that no row can hold (NUL, a lone surrogate):
        it could match nothing, and one database cannot even be sent it."""
        for term in where:
            values = term.values if isinstance(term, In) else [getattr(term, "value", None)]
            for value in values:
                if isinstance(value, str) and (problem := text_problem(value)) is not None:
                    raise InvalidValue(self._label, term.column, value, problem)

    def _first(self, where: Sequence[Where], order_by: Sequence[Order] = ()) -> E | None:
        found = self._select(where, order_by, limit=1)
        return found[0] if found else None

    def _raised_exclusive_flags(
        self, row: dict[str, Any], before: Entity | None
    ) -> list[tuple[str, str]]:
        """The exclusive flags this write sets in a group where it did not hold them yet.

        Each must be cleared on the group's other rows first, in the same savepoint; a write
        that raises none is a single statement, atomic by itself."""
        raised = []
        for flag, per in self._exclusive_flags:
            kept = (
                before is not None
                and before.stored_value(flag) is not None
                and before.stored_value(per) == row.get(per)
            )
            if row.get(flag) is not None and row.get(per) is not None and not kept:
                raised.append((flag, per))
        return raised

    def _clear_others(self, raised: list[tuple[str, str]], row: dict[str, Any]) -> None:
        for flag, per in raised:
            stamps = {column: self._store.clock.now() for column in self.entity.stamped_on_update}
            self._store.update(
                self._table,
                [Eq(per, row[per]), Ne("id", row["id"]), NotNull(flag)],
                {flag: None, **stamps},
            )

    def _audit_deletion(self, entity: Entity, removed: dict[str, int]) -> None:
        others = sum(removed.values()) - 1
        name = getattr(entity, "name", None)
        subject = f"{self._label} {entity.id!r}" + (f" ({name})" if name else "")
        entry = AuditEntry(
            entity_type=self._label,
            entity_id=entity.id,
            event_type=f"{self._label}.deleted",
            event_category=EventCategory.RECORD,
            message=f"Deleted {subject} and {others} dependent row{'s' * (others != 1)}",
            event_data={"removed": dict[str, JsonValue](removed)},
            before_state=entity.audit_state(),
            source=self._work.source,
        )
        row = entry.to_row()
        row["timestamp"] = self._store.clock.now()
        self._store.insert(table_of(AuditEntry), row)
