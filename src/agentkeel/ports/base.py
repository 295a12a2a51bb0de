"""What every repository port offers: the generic behaviour of one aggregate's storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from agentkeel.domain.entity import Entity

E = TypeVar("E", bound=Entity)

PURGE_LIMIT = 100_000
"""The most rows one bounded retention purge (`purge_before(..., limit=n)`) removes."""

Position = tuple[datetime, str]
"""Where a page of a finder read in time order ended: the (time, id) of the last entry
read, its time being the column the finder orders by (named in its docstring). Entries of
one time are ordered by id (code point order), so (time, id) is a total order that entries
added or removed meanwhile do not shift. A paged finder returns at most `limit` entries
after `after` (None: from the first); walking pages from None, each `after=` the last entry
of the one before, reads every entry exactly once, in order, entries added meanwhile
included when they come after the position. A position past the end, or `limit=0`, gives
an empty page. A position is refused (InvalidValue naming `after`) unless it is a pair of a
timezone-aware datetime and an id; a limit (InvalidValue naming `limit`) unless it is a
whole number >= 0."""


class EntityRepository(Protocol[E]):
    """Storage of one kind of entity. Entities in and out are detached values."""

    def add(self, entity: E, *, idempotency_key: str | None = None) -> E:
        """Store a new entity and return it as stored (`created_at`/`updated_at` stamped).

        With an `idempotency_key` (1 to 64 URL-safe characters, chosen by the caller, e.g.
        a request id), the add happens at most once per key, ever: a repeated call (a retry
        after a timeout, also one racing the first from another process) returns the
        entity the first call created, as it is now, and writes nothing.

        Raises AlreadyExists (same id or a unique rule), ReferenceMissing (a foreign key
        names no row), InvalidValue (also for a malformed key, or a key already used to
        create another kind of entity), NotFound (the key's entity was deleted since),
        RefusedByDatabase (a trigger or constraint of the database's own). On error
        nothing is written and the key stays unused.
        """
        ...

    def add_many(self, entities: Sequence[E]) -> list[E]:
        """Store new entities as `add` stores each, in order, and return them as stored:
        all of them, or none on an error, which is the one `add` would raise for the first
        entity refused. Every rule, stamp, counter and event of `add` applies.

        The way to write many rows: the rows the rules read are read a batch at a time and
        the entities go in one bulk insert, so a batch costs a few statements whatever its
        size, where `add` in a loop costs a few per entity. An entity may refer to one
        before it in the batch (a task's parent, a dependency between two new tasks).
        Where adding one entity can change another row (a repository added as its
        project's default clears the other's flag, an agent with no name draws one), the
        entities are added one by one, in one savepoint. Raises what `add` raises.
        """
        ...

    def created_under(self, key: str) -> E | None:
        """The entity an `add` with idempotency key `key` created, as it is now, or None if
        the key is unused. A command that does more than one add (a service) asks first,
        so a repeat returns the first result before doing anything; a concurrent unit of
        work holding the key is waited for. Raises InvalidValue (a malformed key, or one
        used for another kind of entity), NotFound (the key's entity was deleted since)."""
        ...

    def get(self, key: str) -> E:
        """The entity with this id, archived or not. Raises NotFound."""
        ...

    def find(self, key: str) -> E | None:
        """The entity with this id, or None."""
        ...

    def update(self, entity: E) -> E:
        """Write the fields changed since the entity was read; stamp `updated_at` and move
        the row version on.

        Returns the entity as stored. Unchanged entities are not written. Raises NotFound
        (the row is gone, also when it went with its parent since it was read),
        AlreadyExists, ReferenceMissing, InvalidTransition (a state machine field moved
        where it may not), Conflict (the entity was read before another unit of work
        changed the row: read it again), Protected (an append-only port: its rows never
        change), RefusedByDatabase (a trigger or constraint of the database's own).
        """
        ...

    def delete(self, key: str) -> dict[str, int]:
        """Hard-delete the entity and everything that cascades from it.

        Returns the rows removed per table (the entity's own table included) and writes one
        audit entry, which survives the delete, with those counts and the entity's state
        before it. Raises NotFound, StillReferenced (a RESTRICT reference remains),
        RefusedByDatabase (a trigger or constraint of the database's own).
        """
        ...

    def count(self) -> int:
        """How many entities are stored."""
        ...
