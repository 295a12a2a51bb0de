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
    """`entity.field` may not move from `current` to `requested`; `reason`, when given, says
    why (a move the state machine allows may still be refused, e.g. for a step of an ended
    workflow)."""

    def __init__(
        self,
        entity: str,
        field: str,
        current: object,
        requested: object,
        *,
        reason: str | None = None,
    ) -> None:
        self.entity, self.field = entity, field
        self.current, self.requested, self.reason = current, requested, reason
        message = f"{entity}.{field} cannot change from {shown(current)} to {shown(requested)}"
        super().__init__(message if reason is None else f"{message}: {reason}")


class LeaseLost(DomainError):
    """The agent no longer holds the task it writes about: its lease ran out and another
    claim took the task over (the task's previous holder crashed, as far as the task is
    concerned), or the task left `in_progress` meanwhile (a person blocked, completed or
    retried it; recovery crashed the agent). Not a `Conflict`: retrying cannot give the
    task back. The worker must stop working on it. `holder` is the agent that holds the
    task now (None: nobody), `status` the task's status now."""

    def __init__(self, task_id: str, agent_id: str, holder: str | None, status: str) -> None:
        self.entity, self.key = "task", task_id
        self.agent_id, self.holder, self.status = agent_id, holder, status
        if holder is not None and holder != agent_id:
            now = f"agent {shown(holder)} holds it now"
        else:
            now = f"it is {status} and nobody holds it" if holder is None else f"it is {status}"
        super().__init__(
            f"task {shown(task_id)} is no longer held by agent {shown(agent_id)}: {now}; "
            "stop working on it (a retry cannot win it back)"
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


class RefusedByDatabase(DomainError):
    """The database refused a write for a reason of its own, not a rule of agentkeel's: a
    trigger that raised (SQLite's `RAISE(ABORT, ...)`, PostgreSQL's `RAISE EXCEPTION`), a
    CHECK or other constraint added to the database by hand. `entity` and `key` name the row
    written (`key` is None when the write had no one row, e.g. a commit), `message` is the
    database's own. Not a `Conflict`: reading again and retrying meets the same refusal
    until whoever added the rule says otherwise.

    Nothing of the refused call is written. What the unit of work can do afterwards:
    - SQLite (`RAISE(ABORT)`, `RAISE(FAIL)` of a one-row write, a CHECK): only the statement
      was undone; the unit of work goes on, and may commit what it wrote before.
    - PostgreSQL: a call that ran in a savepoint (deletes, writes of columns a unique or
      foreign-key rule covers, calls of several statements, bulk inserts, adds with an
      idempotency key) undid just itself, and the unit of work goes on. A single-statement
      insert, or an update of other columns (a description), runs without one, and its
      failure ended the transaction: every later call of that unit of work raises
      `Conflict` ("retry the unit of work"), and nothing it wrote is committed. Leave it
      (it rolls back) and open a new one.
    - A trigger that rolls back the whole transaction (SQLite's `RAISE(ROLLBACK)`) ends it
      the same way on SQLite.
    - Refused by `commit()` (a deferred trigger or constraint): the transaction is rolled
      back; the unit of work stays open and begins a new one with its next call."""

    def __init__(self, entity: str, key: object, message: str) -> None:
        self.entity, self.key, self.message = entity, key, message
        subject = entity if key is None else f"{entity} {shown(key)}"
        super().__init__(f"the database refused a write of {subject}: {message}")


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
