"""The one hierarchy of errors that agentkeel raises on purpose.

Every adapter raises these, never a driver's exception: the same bad call gives the same
error (type and message) from the in-memory fakes, SQLite and PostgreSQL. Each error carries
the entity and field it is about as attributes, for callers that branch on them.
"""

from __future__ import annotations

from collections.abc import Mapping

_MAX_SHOWN = 60


def shown(value: object) -> str:
    """A value as an error message shows it: repr, cut short so huge inputs stay readable."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = f"{text[: _MAX_SHOWN - 1]}… ({len(text)} chars)"
    return text


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

    def __init__(self, entity: str, key: object, referenced_by: str, field: str) -> None:
        self.entity, self.key, self.referenced_by, self.field = entity, key, referenced_by, field
        super().__init__(f"{entity} {shown(key)} is still referenced by {referenced_by}.{field}")


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


class SchemaError(DomainError):
    """The database's schema is not one this version of agentkeel can work with."""
