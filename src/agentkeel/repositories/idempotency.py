"""Commands run at most once per idempotency key: the generic repository's `add` with
`idempotency_key`, and `created_under`, which a service doing several adds asks first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from agentkeel.domain.audit import CommandRecord
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import InvalidValue, NotFound
from agentkeel.domain.ids import ID_MAX_LENGTH, ID_PATTERN
from agentkeel.ports.store import RowStore
from agentkeel.schema import table_of

_COMMANDS = table_of(CommandRecord)

E = TypeVar("E", bound=Entity)


class OnceByKey(Generic[E]):
    """Mixed into the generic repository: its store, its label and `find`."""

    _store: RowStore
    _label: str

    if TYPE_CHECKING:

        def find(self, key: str) -> E | None: ...

    def _once(self, key: str, create: Callable[[], E]) -> E:
        """`create()` run at most once per idempotency key, ever: the first call records
        what it created (in its transaction, so a failed command leaves the key unused);
        any later call with the key returns that entity as it is now."""
        first = self.created_under(key)
        if first is not None:
            return first
        with self._store.atomic():
            created = create()
            record = CommandRecord(id=key, entity_type=self._label, entity_id=created.id)
            row = record.to_row()
            row["created_at"] = self._store.clock.now()
            self._store.insert(_COMMANDS, row)
        return created

    def created_under(self, key: str) -> E | None:
        # Two units of work with one key are serialized on it (PostgreSQL: an advisory
        # lock, held to the end of the transaction; SQLite and the fakes: their one writer
        # at a time), so the second sees the first's record once the first commits.
        if not isinstance(key, str) or len(key) > ID_MAX_LENGTH or not ID_PATTERN.fullmatch(key):
            problem = f"must be 1 to {ID_MAX_LENGTH} URL-safe characters (A-Z a-z 0-9 _ -)"
            raise InvalidValue(self._label, "idempotency_key", key, problem)
        self._store.serialize(_COMMANDS, key)
        done = self._store.get(_COMMANDS, key)
        if done is None:
            return None
        if done["entity_type"] != self._label:
            used = f"was already used to create {done['entity_type']} {done['entity_id']!r}"
            raise InvalidValue(self._label, "idempotency_key", key, used)
        first = self.find(done["entity_id"])
        if first is None:
            # The command was done; doing it again would break the key's promise.
            raise NotFound(self._label, done["entity_id"])
        return first
