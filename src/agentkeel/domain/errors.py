"""The one hierarchy of errors that agentkeel raises on purpose.

Every adapter raises these, never a driver's exception: the same bad call gives the same
error (type and message) from the in-memory fakes, SQLite and PostgreSQL. Each error carries
the entity and field it is about as attributes, for callers that branch on them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from typing import cast

_MAX_SHOWN = 60
# Built-in containers are walked, not repr'd: repr recurses (RecursionError when deep),
# writes a part shared by reference each time it occurs, and writes all of a huge value.
_OPEN = {list: "[", tuple: "(", set: "{", frozenset: "frozenset({", dict: "{"}
_CLOSE = {list: "]", tuple: ")", set: "}", frozenset: "})", dict: "}"}
# Integers with more digits than can be shown are described: writing one out takes time
# quadratic in its length, and raises ValueError past Python's limit of 4,300 digits.
_LONG_INT = 10**_MAX_SHOWN


def shown(value: object) -> str:
    """A value as an error message shows it: its repr, cut short so huge inputs stay
    readable, with the value's own length (characters, bytes or items). Never raises, and
    formats only what it shows, however big, deep or self-sharing the value."""
    text = _repr_start(value, _MAX_SHOWN)
    if len(text) <= _MAX_SHOWN:
        return text
    size = _size(value)
    return f"{text[: _MAX_SHOWN - 1]}…" + ("" if size is None else f" ({size})")


_DONE = object()


class _Punctuation(str):
    """Brackets and separators of a container being shown, told apart from its strings."""


def _repr_start(value: object, limit: int) -> str:
    """repr(value), or its first `limit` characters and a few more."""
    parts: list[str] = []
    length = 0
    todo: list[Iterator[object]] = [iter((value,))]
    while todo and length <= limit:
        item = next(todo[-1], _DONE)
        if item is _DONE:
            todo.pop()
            continue
        if type(item) in _OPEN and item:
            todo.append(_pieces(cast(Collection[object], item)))
            continue
        piece = item if isinstance(item, _Punctuation) else _leaf(item)
        parts.append(piece)
        length += len(piece)
    return "".join(parts)


def _pieces(container: Collection[object]) -> Iterator[object]:
    kind = type(container)
    yield _Punctuation(_OPEN[kind])
    for index, item in enumerate(container):
        if index:
            yield _Punctuation(", ")
        yield item
        if isinstance(container, dict):
            yield _Punctuation(": ")
            yield container[item]
    yield _Punctuation(",)" if kind is tuple and len(container) == 1 else _CLOSE[kind])


def _leaf(value: object) -> str:
    if isinstance(value, int) and not -_LONG_INT < value < _LONG_INT:
        return f"<int of about {int(value.bit_length() * math.log10(2)) + 1} digits>"
    try:
        return repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deep to show>"
    except Exception:  # a broken __repr__: the error being reported matters more
        return f"<{type(value).__name__} that cannot be shown>"


def _size(value: object) -> str | None:
    """How long a value is, in its own terms; None for values that have no length."""
    if isinstance(value, str):
        return f"{len(value)} chars"
    if isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes"
    if type(value) in _OPEN:
        count = len(cast(Collection[object], value))
        return f"{count} item{'' if count == 1 else 's'}"
    return None


class DomainError(Exception):
    """Base of every error agentkeel raises on purpose."""


class NotFound(DomainError):
    """No `entity` has this id (or key)."""

    def __init__(self, entity: str, key: object, *, field: str = "id") -> None:
        self.entity, self.key, self.field = entity, key, field
        super().__init__(f"{entity} not found: {field}={shown(key)}")


class AlreadyExists(DomainError):
    """A uniqueness rule is broken: another `entity` already has these values."""

    def __init__(self, entity: str, fields: Mapping[str, object]) -> None:
        self.entity, self.fields = entity, dict(fields)
        values = ", ".join(f"{name}={shown(value)}" for name, value in self.fields.items())
        super().__init__(f"{entity} already exists with {values}")


class ReferenceMissing(DomainError):
    """`entity.field` refers to a `target` row that does not exist."""

    def __init__(self, entity: str, field: str, value: object, target: str) -> None:
        self.entity, self.field, self.value, self.target = entity, field, value, target
        super().__init__(f"{entity}.{field} refers to a missing {target}: {shown(value)}")


class StillReferenced(DomainError):
    """A delete is refused because a `referenced_by` row still points at the entity."""

    def __init__(
        self, entity: str, key: object, referenced_by: str, field: str, *, count: int | None = None
    ) -> None:
        self.entity, self.key, self.referenced_by, self.field = entity, key, referenced_by, field
        self.count = count
        message = f"{entity} {shown(key)} is still referenced by {referenced_by}.{field}"
        if count is not None:
            rows = f"{referenced_by}{'s' * (count != 1)}"
            message += f" ({count} {rows} hold{'s' * (count == 1)} it: move or delete them first)"
        super().__init__(message)


class InvalidValue(DomainError):
    """`entity.field` cannot take this value; `problem` says why."""

    def __init__(self, entity: str, field: str, value: object, problem: str) -> None:
        self.entity, self.field, self.value, self.problem = entity, field, value, problem
        super().__init__(f"{entity}.{field} {problem} (got {shown(value)})")


class InvalidTransition(DomainError):
    """`entity.field` may not move from `current` to `requested`."""

    def __init__(self, entity: str, field: str, current: object, requested: object) -> None:
        self.entity, self.field = entity, field
        self.current, self.requested = current, requested
        super().__init__(
            f"{entity}.{field} cannot change from {shown(current)} to {shown(requested)}"
        )


class DependencyCycle(DomainError):
    """Adding this dependency would close a cycle in a dependency graph."""

    def __init__(self, entity: str, path: list[str]) -> None:
        self.entity, self.path = entity, list(path)
        super().__init__(f"{entity} dependency would form a cycle: {' -> '.join(path)}")


class Protected(DomainError):
    """The record may not be changed this way (e.g. a built-in record cannot be deleted)."""

    def __init__(self, entity: str, key: object, reason: str) -> None:
        self.entity, self.key, self.reason = entity, key, reason
        super().__init__(f"{entity} {shown(key)} {reason}")


class ReadOnly(Protected):
    """A write was attempted in a unit of work opened with `read_only=True`."""

    def __init__(self) -> None:
        self.entity, self.key = "unit_of_work", None
        self.reason = "is read-only: open one without read_only=True to write"
        DomainError.__init__(self, f"this unit of work {self.reason}")


class Conflict(DomainError):
    """The record changed under us (a concurrent writer won); retry the unit of work."""

    def __init__(self, entity: str, key: object, reason: str) -> None:
        self.entity, self.key, self.reason = entity, key, reason
        super().__init__(f"{entity} {shown(key)}: {reason}")


class Busy(Conflict):
    """Waiting for the database ran past the wait limit; retry. `reason` says what was
    waited for: by default, another unit of work holding the database (or a row)."""

    def __init__(self, reason: str = "another unit of work held it past the wait limit") -> None:
        self.entity, self.key = "database", None
        self.reason = f"busy: {reason}; retry"
        DomainError.__init__(self, f"the database is {self.reason}")


class LimitReached(Conflict):
    """A limit set by a setting is reached (e.g. `workflow.maxConcurrentImplementations`):
    nothing was written; retry once a slot is free. `setting` names the limit, `limit` its
    value."""

    def __init__(self, entity: str, key: object, setting: str, limit: int, reason: str) -> None:
        self.setting, self.limit = setting, limit
        super().__init__(entity, key, f"{reason} ({setting} = {limit})")


class EventsPurged(DomainError):
    """A reader of the event log asked for the events after `position`, but the retention
    purge has removed every event numbered up to `purged_through`, which is past it: some
    events the reader has not read are gone, and reading on would skip them without a word.
    Not retryable: the reader decides what to do about the events it missed, then starts
    again from `purged_through` (reading what is kept; `first_kept` is the first of it,
    None when nothing is kept) or from the end. A registered consumer never gets it: the
    purge keeps every event after its position."""

    def __init__(self, position: int, purged_through: int, first_kept: int | None) -> None:
        self.entity, self.field = "event_log", "sequence"
        self.position, self.purged_through, self.first_kept = position, purged_through, first_kept
        kept = "none is kept" if first_kept is None else f"the first kept is {first_kept}"
        super().__init__(
            f"event_log: a reader at position {position} has fallen behind: the events up to "
            f"{purged_through} were purged ({kept}); start again from {purged_through}, "
            "knowing that events were missed, or from the end"
        )


class DatabaseUnusable(DomainError):
    """`Database.open` refused the database before working on it: `problem` says why (not a
    database, damaged, another application's, out of reach, not writable, its schema
    altered). The database is left exactly as it was."""

    def __init__(self, database: str, problem: str) -> None:
        self.database, self.problem = database, problem
        super().__init__(f"cannot use the database {database}: {problem}")


class SchemaError(DatabaseUnusable):
    """The database's schema is not one this version of agentkeel can work with (written by
    a newer agentkeel, altered by hand, or a migration that could not finish)."""

    def __init__(self, problem: str, database: str = "") -> None:
        self.database, self.problem = database, problem
        DomainError.__init__(
            self, f"cannot use the database {database}: {problem}" if database else problem
        )


class NotSupported(DomainError):
    """`operation` is not available on this backend; `advice` says what to do instead."""

    def __init__(self, operation: str, backend: str, advice: str) -> None:
        self.operation, self.backend, self.advice = operation, backend, advice
        super().__init__(f"{operation} is not supported on {backend}: {advice}")
