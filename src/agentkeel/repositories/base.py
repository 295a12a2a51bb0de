"""The generic repository, written once over a RowStore and shared by every adapter.

An aggregate's repository subclasses `TableRepository`, names its entity, and adds only its
own finders. Stamping, change tracking, exclusive flags, state-machine guards, cascading
hard deletes and their audit entries all happen here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import nullcontext
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import JsonValue
from sqlalchemy import Table

from agentkeel.domain.audit import (
    AuditEntry,
    CommandRecord,
    EventCategory,
)
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.events import DomainEvent, RecordDeleted
from agentkeel.domain.fields import INT64_MAX
from agentkeel.domain.ids import ID_MAX_LENGTH, ID_PATTERN
from agentkeel.ports.store import (
    Before,
    Eq,
    Ne,
    NotNull,
    Order,
    Referenced,
    Row,
    Since,
    Where,
)
from agentkeel.repositories.counting import count_move, moves, uncount
from agentkeel.repositories.idempotency import OnceByKey
from agentkeel.repositories.queries import layout, query_term
from agentkeel.repositories.reading import WriteReads
from agentkeel.repositories.state import UnitState, append_audit_entry
from agentkeel.schema import metadata, table_of
from agentkeel.schema.counters import COUNTERS
from agentkeel.schema.graph import plan_delete

if TYPE_CHECKING:
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork

E = TypeVar("E", bound=Entity)

_COMMANDS = table_of(CommandRecord)


class TableRepository(WriteReads, OnceByKey[E], Generic[E]):
    entity: ClassVar[type[Entity]]
    # Whether the aggregate adds steps of its own to `_add` (set for it, below).
    _own_add: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_add" in vars(cls):
            cls._own_add = True

    def __init__(self, state: UnitState) -> None:
        self._state = state
        self._store = state.store
        self._table, self._label, self._version, self._exclusive_flags = layout(self.entity)
        self._counters = COUNTERS.get(self._table.name, ())

    @property
    def _uow(self) -> BaseUnitOfWork:
        """The unit of work this repository belongs to, the one way to another aggregate's
        repository (`self._uow.phases`): built once per unit of work, sharing its state,
        never constructed here."""
        uow = self._state.uow
        assert uow is not None, f"{self._label}: a repository reaches others through its uow"
        return uow

    # -- the generic port ------------------------------------------------------------------

    def add(self, entity: E, *, idempotency_key: str | None = None) -> E:
        if idempotency_key is None:
            return self._add(entity)
        return self._once(idempotency_key, lambda: self._add(entity))

    def _add(self, entity: E) -> E:
        """The insert behind `add`: where an aggregate adds its own steps to adding."""
        with self._reading():
            return self._insert(entity)

    def _insert(self, entity: E) -> E:
        stored = self._stamped(entity)
        row = stored.to_row()
        raised = self._raised_exclusive_flags(row, None)
        # One statement needs no savepoint: only a write that clears others' flags or moves
        # a counter is several, all or none.
        with self._store.atomic() if raised or moves(self._counters, None, row) else nullcontext():
            self._clear_others(raised, row)
            self._store.insert(self._table, row)
            count_move(self._store, self._counters, None, row)
        self._stored(stored, row)
        return stored

    def add_many(self, entities: Sequence[E]) -> list[E]:
        # As the port says: `add`'s rules a batch at a time (what they read, read ahead),
        # the rows in one bulk insert, all or none.
        if isinstance(entities, str | bytes | dict) or not isinstance(entities, Collection):
            raise InvalidValue(self._label, "entities", entities, "must be a list of entities")
        batch = list(entities)
        if not all(isinstance(entity, self.entity) for entity in batch):
            problem = f"must be a list of {self.entity.__name__} entities"
            raise InvalidValue(self._label, "entities", entities, problem)
        if not batch:
            return []
        with self._store.atomic():
            if self._one_by_one(batch):
                return [self.add(entity) for entity in batch]
            with self._reading():
                self._read_ahead(batch)
                stamped, rows = [], []
                for entity in batch:
                    stamped.append(checked := self._stamped(entity))
                    rows.append(row := checked.to_row())
                    self._readable(row)  # for the rules of the ones after it
                self._store.insert_many(self._table, rows)
                for entity, row in zip(stamped, rows, strict=True):
                    count_move(self._store, self._counters, None, row)
                    self._stored(entity, row)
        return stamped

    def _one_by_one(self, batch: Sequence[E]) -> bool:
        """Whether `add_many` must add `batch` an entity at a time: when adding one may
        clear a flag of another (exclusive flags) or an aggregate adds its own steps to
        `_add`."""
        return bool(self._exclusive_flags) or self._own_add

    def _stamped(self, entity: E) -> E:
        """A copy of `entity` (validated where something skipped validation: `_checked`),
        checked by the aggregate's rules, stamped for insert."""
        checked = self._checked(entity)
        self._before_write(checked, None)
        now = self._store.clock.now()
        stamps: dict[str, Any] = dict.fromkeys(entity.stamped_on_insert, now)
        if self._version is not None:
            stamps[self._version] = 1
        # `checked` is our own fresh copy: stamped in place (the stamps are ours, trusted)
        # rather than copied once more by `model_copy`.
        checked.__dict__.update(stamps)
        checked.__pydantic_fields_set__.update(stamps)
        return checked

    def _stored(self, entity: E, row: Row) -> None:
        entity.remember_stored(row)
        self._saw(row)
        self._after_write(entity, None)

    def get(self, key: str) -> E:
        entity = self.find(key)
        if entity is None:
            raise NotFound(self._label, key)
        return entity

    def find(self, key: str) -> E | None:
        row = self._store.get(self._table, self._key(key))
        return None if row is None else self._entity(row)

    def update(self, entity: E) -> E:
        if self.entity.append_only:
            # Declared on the entity, enforced here for every such table: its rows are
            # written once (a log, a record, a snapshot) and have no row version to guard.
            key = getattr(entity, "id", None)
            raise Protected(self._label, key, "is append-only: it cannot be changed once stored")
        version = self._version
        # Every other table has one (tests/contract/test_row_versions.py walks the schema).
        assert version is not None, f"{self._label}: neither versioned nor append-only"
        entity = self._checked(entity)
        stored, read_version = self._as_read(entity)
        if self._state.seen.get((self._table.name, entity.id), read_version) != read_version:
            # Read again after another unit of work changed it: what this unit decided from
            # its first read may be stale (the lost update of read-modify-write), even if
            # the write now happens to change nothing.
            raise self._stale(entity.id)
        entity.check_transitions()
        try:
            self._before_write(entity, stored)
        except (ReferenceMissing, NotFound) as error:
            # A rule that reads the parent finds it gone: so may the row be, with it.
            raise self._gone_or(entity.id, error) from None
        changes = entity.changed_columns()
        changes.pop("id", None)
        for column in entity.stamped_on_insert:
            if column not in entity.stamped_on_update:
                changes.pop(column, None)
        changes.pop(version, None)
        if not changes:
            return self.get(entity.id)
        now = self._store.clock.now()
        for column in entity.stamped_on_update:
            changes[column] = now
        changes[version] = read_version + 1
        written = {**entity.to_row(), **changes}
        raised = self._raised_exclusive_flags(written, entity)
        guard = [Eq("id", entity.id), Eq(version, read_version)]
        counted = moves(self._counters, stored, written)
        with self._store.atomic() if raised or counted else nullcontext():
            self._clear_others(raised, written)
            row = self._store.update_one(self._table, guard, changes)
            if row is None:
                raise self._gone_or(entity.id, self._stale(entity.id))
            # The guard held: the row was exactly `stored` when it was written.
            count_move(self._store, self._counters, stored, row)
        self._state.seen[(self._table.name, entity.id)] = row[version]
        result = self._entity(row)
        self._after_write(result, stored)
        return result

    def _gone_or(self, key: str, error: DomainError) -> DomainError:
        """NotFound if the row `key` is no longer stored (deleted since it was read, maybe
        with its parent by a cascade, which is why a rule reading the parent failed), else
        `error`: an update of a missing row is NotFound on every table, whatever else
        the write would have broken."""
        return NotFound(self._label, key) if self._store.get(self._table, key) is None else error

    def delete(self, key: str) -> dict[str, int]:
        key = self._key(key)
        with self._store.atomic():
            row = self._store.get(self._table, key, for_update=True)
            if row is None:
                raise NotFound(self._label, key)
            entity = self._entity(row)
            self._before_delete(entity)
            plan = plan_delete(self._table, {key}, self._store.referrers)
            if (refusal := plan.refusal()) is not None:
                raise refusal
            uncount(self._store, plan.removed)
            self._clear_doubly_linked(plan.cleared)
            self._store.delete(self._table, [Eq("id", key)])
            removed = plan.counts()
            self._audit_deletion(entity, removed)
        self._record(RecordDeleted(self._label, key, removed))
        return removed

    def count(self) -> int:
        return self._store.count(self._table)

    def _clear_doubly_linked(self, cleared: dict[tuple[str, str], set[str]]) -> None:
        """Clear, before a delete, the references of a surviving row that points at two or
        more of the rows it removes (an agent holding a task of the initiative deleted, and
        the initiative): the foreign keys' SET NULL would clear them one at a time, and
        PostgreSQL checks a row's other keys when one SET NULL updates a row inserted in the
        same transaction, finding the other still pointing at a row the delete removed.
        Rows with one such reference are left to the foreign key (no extra statement)."""
        columns: dict[tuple[str, str], list[str]] = {}
        for (table, column), keys in cleared.items():
            for key in keys:
                columns.setdefault((table, key), []).append(column)
        for (table, key), names in sorted(columns.items()):
            if len(names) > 1:
                values = dict.fromkeys(sorted(names))
                self._store.update(metadata.tables[table], [Eq("id", key)], values)

    # -- what an aggregate adds: its own rules and events, on every path --------------------

    def _before_write(self, entity: E, stored: Row | None) -> None:
        """Check (and complete) `entity` before any write of it: `add` (`stored` is None)
        and `update` (`stored` is the row as it was read). Raise a DomainError to refuse."""

    def _after_write(self, entity: E, stored: Row | None) -> None:
        """Record the events that a successful write of `entity` means."""

    def _before_delete(self, entity: E) -> None:
        """Raise a DomainError (e.g. Protected) to refuse deleting `entity`."""

    # -- for subclasses --------------------------------------------------------------------

    def _record(self, event: DomainEvent) -> None:
        self._state.events.append(event)

    def _stale(self, key: str) -> Conflict:
        return Conflict(
            self._label,
            key,
            "was changed by another unit of work since it was read; read it again",
        )

    def _saw(self, *rows: Row) -> None:
        """Remember the version each row was first read at (a later update from an older
        read is a Conflict)."""
        if self._version is not None:
            seen, table, version = self._state.seen, self._table.name, self._version
            for row in rows:
                seen.setdefault((table, row["id"]), row[version])

    def _checked(self, entity: E) -> E:
        """A copy of the entity for storage, validated once: an entity every value of which
        passed validation (built, assigned to, or read back) is copied as it is, its JSON
        containers validated again; one made by `model_construct` or
        `model_copy(update=...)`, which skip validation, is validated afresh. Nothing
        unvalidated reaches storage."""
        if not isinstance(entity, self.entity):
            raise TypeError(f"expected a {self.entity.__name__}, got {type(entity).__name__}")
        if entity.is_checked():
            return entity.checked_copy()
        checked: E = type(entity).__pydantic_validator__.validate_python(entity.__dict__)
        checked._stored = entity._stored
        return checked

    def _as_read(self, entity: E) -> tuple[Row, int]:
        """The row `entity` was read as, and the row version it was read at.

        An entity that was never read (built by the caller) is compared with the row stored
        now, and claims the version it carries. Ids never change once stored."""
        stored = entity._stored
        if stored is None:
            stored = self._store.get(self._table, self._key(entity.id))
            if stored is None:
                raise NotFound(self._label, entity.id)
            entity.remember_stored(stored)
            read_version = getattr(entity, self._version) if self._version else 0
        else:
            if stored["id"] != entity.id:
                was = stored["id"]
                raise InvalidValue(
                    self._label, "id", entity.id, f"cannot change once stored (was {was!r})"
                )
            read_version = stored[self._version] if self._version else 0
        return stored, read_version

    # -- status moves --------------------------------------------------------------------

    def _move(
        self,
        key: str,
        status: StrEnum,
        sources: Collection[StrEnum] | None = None,
        **values: Any,
    ) -> E:
        """The one way a repository changes a status. Every named move (`start`, `pause`,
        `complete`, `move_to`, ...) reads the row, takes the move (`_take_move`) and
        writes it through `update`, where the entity's state machine is checked and every
        rule and event of the aggregate follows, as for a caller's own `update`."""
        entity = self.get(key)
        self._take_move(entity, status, sources, values)
        return self.update(entity)

    def _take_move(
        self,
        entity: E,
        status: StrEnum,
        sources: Collection[StrEnum] | None,
        values: dict[str, Any],
    ) -> None:
        """Set `status` and the `values` given (None: left as they are) on `entity`. A move
        that names its `sources` leaves only those (InvalidTransition otherwise), even where
        the state machine would allow more: `resume` is from paused or editing only."""
        moving: Any = entity  # every aggregate with a state machine has a `status`
        if sources is not None and moving.status not in sources:
            raise InvalidTransition(self._label, "status", moving.status.value, status.value)
        moving.status = status
        for name, value in values.items():
            if value is not None:
                setattr(moving, name, value)

    def _increment(self, key: str, column: str, by: int = 1) -> E:
        """Add `by` to a counter in one statement (safe under concurrent writers; the row
        version is left alone, as counters commute). Raises NotFound, and InvalidValue with
        nothing written when the result would leave the column's range."""
        key = self._key(key)
        low, high = self.entity.int_bounds(column)
        # The bound the column must be within before the addition (none for adding 0, whose
        # bound, high + 1, could not even be sent).
        within: list[Where] = (
            [Before(column, high - by + 1)] if by > 0 else [Since(column, low - by)] if by else []
        )
        stamps = {name: self._store.clock.now() for name in self.entity.stamped_on_update}
        row = self._store.update_one(self._table, [Eq("id", key), *within], stamps, {column: by})
        if row is None:
            current = self._store.get(self._table, key)
            if current is None:
                raise NotFound(self._label, key)
            raise InvalidValue(
                self._label, column, current[column] + by, f"must be between {low} and {high}"
            )
        return self._entity(row)

    def _update_many(self, where: Sequence[Where], values: dict[str, Any]) -> int:
        """Set `values` on every row matching `where` in one set-based UPDATE, as if each
        had been written by `update`: `updated_at` stamped, `row_version` one more. Returns
        how many rows changed. Rules of `_before_write` are not run: callers change only
        columns those rules do not read (a status moved along its state machine, which the
        caller's `where` guarantees). The rows leave `seen`, so that this unit of work can
        read them again and write from the new read."""
        # Counters follow single writes; a set-based write would have to count each row.
        assert not self._counters, f"{self._label}: counted rows are written one by one"
        assert not self.entity.append_only, f"{self._label}: append-only rows never change"
        where = self._query(where)
        values = {name: self.entity.query_value(name, value) for name, value in values.items()}
        now = self._store.clock.now()
        values.update(dict.fromkeys(self.entity.stamped_on_update, now))
        increments = {self._version: 1} if self._version is not None else None
        changed = self._store.update(self._table, where, values, increments)
        if changed:
            self._state.seen = {
                key: version
                for key, version in self._state.seen.items()
                if key[0] != self._table.name
            }
        return changed

    def _entity(self, row: dict[str, Any]) -> E:
        self._saw(row)
        # Both stores hand back rows of their own making: the entity keeps the row.
        entity: E = self.entity.from_row(row, owned=True)  # type: ignore[assignment]
        return entity

    def _key(self, key: str) -> str:
        """A key to look up: refused (InvalidValue) if no row could have it as its id."""
        if type(key) is str and len(key) <= ID_MAX_LENGTH and ID_PATTERN.fullmatch(key):
            return key  # what the id field's rule would accept, without its validator
        checked: str = self.entity.query_value("id", key)
        return checked

    def _select(
        self,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[E]:
        where = self._query(where)
        self._check_page(limit, offset)
        return self._entities(self._store.select(self._table, where, order_by, limit, offset))

    def _entities(self, rows: list[Row]) -> list[E]:
        """`_entity` of each row, the loop written out: a listing's cost is mostly per row."""
        self._saw(*rows)
        # Both stores hand back whole rows of their own making: the entity keeps the row.
        build, whole = self.entity.whole_row_builder()
        built: list[E] = [
            build(row) if len(row) == whole else self._entity(row)  # type: ignore[misc]
            for row in rows
        ]
        return built

    def _select_with(
        self,
        referenced: Referenced,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[E, Row | None]]:
        """`_select`, each entity with columns of the row a foreign key refers to (one query;
        None where the key is NULL)."""
        where = self._query(where)
        self._check_page(limit, offset)
        found = self._store.select_with(self._table, referenced, where, order_by, limit, offset)
        return [(self._entity(row), other) for row, other in found]

    # -- for the other repositories of the unit of work (no port has these) ---------------

    @property
    def table(self) -> Table:
        """The table this repository keeps."""
        return self._table

    def matching(self, where: Sequence[Where], order_by: Sequence[Order] = ()) -> list[E]:
        """The entities whose rows match every term of `where`, in `order_by` order."""
        return self._select(where, order_by)

    def first_matching(self, where: Sequence[Where], order_by: Sequence[Order] = ()) -> E | None:
        """The first entity whose row matches every term of `where`, or None."""
        return self._first(where, order_by)

    def set_where(self, where: Sequence[Where], values: dict[str, Any]) -> int:
        """Set `values` on every row matching `where` in one statement (see `_update_many`:
        no rules run, so only a column no rule reads may be set); how many changed."""
        return self._update_many(where, values)

    def _check_page(self, limit: int | None, offset: int, offset_name: str = "offset") -> None:
        # SQLite reads LIMIT -1 as "no limit", PostgreSQL refuses it and rounds 1.5: only
        # whole numbers >= 0 are taken, everywhere.
        for name, value in (("limit", limit), (offset_name, offset)):
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX
            ):
                raise InvalidValue(self._label, name, value, "must be a whole number >= 0")

    def _query(self, where: Sequence[Where]) -> list[Where]:
        """The query terms with each value as its column's field would hold it (names
        normalised, enums as text, datetimes in UTC). A value the field could never hold
        (wrong type, NUL, an unknown enum value, a naive datetime) is refused with the
        same InvalidValue everywhere: it could match nothing, and some backends cannot
        even be sent it."""
        return [query_term(self.entity, term) for term in where]

    def _first(self, where: Sequence[Where], order_by: Sequence[Order] = ()) -> E | None:
        found = self._select(where, order_by, limit=1)
        return found[0] if found else None

    def _eq_filters(self, **filters: Any) -> list[Where]:
        """`Eq` terms for the filters that were given (None means "any")."""
        return [Eq(column, value) for column, value in filters.items() if value is not None]

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
        # Like counters, a flag cleared as the side effect of another row's write leaves the
        # row version alone: only what a caller writes through `update` moves it.
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
        message = f"Deleted {subject} and {others} dependent row{'s' * (others != 1)}"
        self._audit_deleted_rows(entity.id, removed, message, entity.audit_state())

    def _audit_deleted_rows(
        self,
        entity_id: str,
        removed: dict[str, int],
        message: str,
        before_state: dict[str, Any] | None,
    ) -> None:
        """The one audit entry of a hard delete: the rows removed per table, and the state
        before it (None where there is no one entity to show)."""
        self._audit(
            entity_id,
            f"{self._label}.deleted",
            EventCategory.RECORD,
            message,
            event_data={"removed": dict[str, JsonValue](removed)},
            before_state=before_state,
        )

    def _audit(
        self,
        entity_id: str | None,
        event_type: str,
        category: EventCategory,
        message: str,
        *,
        event_data: dict[str, Any] | None = None,
        before_state: dict[str, Any] | None = None,
        after_state: dict[str, Any] | None = None,
        workflow_id: str | None = None,
        workflow_step_id: str | None = None,
    ) -> None:
        """Append an audit entry about this repository's entity `entity_id`, in the unit of
        work's transaction, with the unit's source (system / user / cli). Every audited
        change of every aggregate goes through here, so the trail has one shape."""
        entry = AuditEntry(
            entity_type=self._label,
            entity_id=entity_id,
            event_type=event_type,
            event_category=category,
            message=message,
            event_data=event_data,
            before_state=before_state,
            after_state=after_state,
            source=self._state.source,
            workflow_id=workflow_id,
            workflow_step_id=workflow_step_id,
        )
        append_audit_entry(self._state, entry)
