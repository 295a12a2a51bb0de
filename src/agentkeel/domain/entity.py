"""The Entity base: validation, change tracking, flags, transitions and row versions."""

from __future__ import annotations

import copy
import re
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Self, TypeVar, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    Strict,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from sqlmodel import Field, SQLModel

from agentkeel.domain.clock import utc_now
from agentkeel.domain.errors import DomainError, InvalidTransition, InvalidValue
from agentkeel.domain.fields import INT64_MAX, INT64_MIN, Id, IntRule, JsonRule, UtcDateTime
from agentkeel.domain.ids import new_id


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


S = TypeVar("S", bound=StrEnum)

# Bound once: `from_row` runs for every row read.
_new = object.__new__
_set = object.__setattr__


class Flag:
    """A timestamp flag's boolean view, declared in one line:
    `is_archived: ClassVar[Flag] = Flag("archived_at")` reads True while `archived_at` is set
    (a ClassVar, so that pydantic leaves it alone)."""

    def __init__(self, field: str) -> None:
        self.field = field

    @overload
    def __get__(self, entity: None, owner: type[Any]) -> Flag: ...

    @overload
    def __get__(self, entity: Entity, owner: type[Any]) -> bool: ...

    def __get__(self, entity: Entity | None, owner: type[Any]) -> Flag | bool:
        return self if entity is None else getattr(entity, self.field) is not None


class Entity(SQLModel):
    """Base of every entity: a validated, detached value with a nanoid `id`.

    Entities validate on construction and on every assignment, raising `InvalidValue`.
    Handing one to a repository is the only way a change reaches storage.
    """

    # SQLModel types model_config as its own TypedDict; these keys are plain pydantic ones.
    model_config = ConfigDict(validate_assignment=True, extra="forbid")  # type: ignore[assignment]

    # Columns the adapters stamp with the clock on insert and on every update.
    stamped_on_insert: ClassVar[tuple[str, ...]] = ()
    stamped_on_update: ClassVar[tuple[str, ...]] = ()
    # Enum fields with a state machine: field -> {from value -> allowed next values}.
    transitions: ClassVar[Mapping[str, Mapping[str, frozenset[str]]]] = {}
    # Fields never shown: not in repr, audit states or errors (credentials, tokens).
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    # The field that counts the stored entity's writes, for refusing stale updates. Every
    # entity whose rows can change has one; one without must be `append_only`.
    version_field: ClassVar[str | None] = None
    # Rows are never changed once stored: `update` is refused (Protected) by the generic
    # repository for every such entity, so the declaration cannot lie.
    append_only: ClassVar[bool] = False

    id: Id = Field(default_factory=new_id)

    # pydantic's own constructor: SQLModel's runs the validator a second time (pydantic
    # calls a custom __init__ from inside validation), for table models we do not use.
    __init__ = BaseModel.__init__

    # The stored values this entity was read with; None until it is stored.
    _stored: dict[str, Any] | None = PrivateAttr(default=None)
    # Beside `_stored`, the private key "_checked" (not declared: a declared private
    # attribute costs every construction its default) says every value was validated: by
    # the constructor, on each assignment, or on its way into storage (a row read back).
    # `model_construct` and `model_copy(update=)` skip validation: what they make is not.

    @classmethod
    def label(cls) -> str:
        """The entity's name in messages: `TemplatePlaceholder` -> `template_placeholder`."""
        return snake_case(cls.__name__)

    @model_validator(mode="wrap")
    @classmethod
    def _domain_errors(cls, data: Any, handler: Any) -> Any:
        try:
            validated = handler(data)
        except ValidationError as exc:
            raise invalid_value(cls, exc) from None
        except RecursionError:
            # A container nested past Python's recursion limit, given to a field that is
            # no JSON field (those measure depth themselves). An assignment is named by
            # `__setattr__`.
            if not isinstance(data, dict):
                raise
            nested = [name for name, value in data.items() if isinstance(value, _CONTAINERS)]
            raise _too_deep(cls, nested[0] if len(nested) == 1 else "value") from None
        # Built or assigned to through validation: every value has passed its rules.
        private = getattr(validated, "__pydantic_private__", None)
        if private is not None:
            private["_checked"] = True
        return validated

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        if update:
            private = copied.__pydantic_private__
            assert private is not None
            private["_checked"] = False  # pydantic puts `update` in place unvalidated
        return copied

    def is_checked(self) -> bool:
        """Whether every value of the entity has passed validation (see `_checked`)."""
        private = self.__pydantic_private__
        return private is not None and private.get("_checked", False) is True

    def checked_copy(self) -> Self:
        """A copy of a checked entity (`is_checked`) for storage, without validating it
        again: its JSON containers, which a caller may have changed in place, copied and
        validated afresh (InvalidValue naming the field)."""
        values = self.__dict__.copy()
        for name in _json_fields(type(self)):
            value = values.get(name)
            if isinstance(value, _CONTAINERS):
                try:
                    values[name] = _field_adapter(type(self), name).validate_python(
                        copy.deepcopy(value)
                    )
                except ValidationError as exc:
                    raise invalid_value(type(self), exc, name) from None
                except RecursionError:
                    raise _too_deep(type(self), name) from None
        copied: Self = _new(type(self))
        _set(copied, "__dict__", values)
        _set(copied, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        _set(copied, "__pydantic_extra__", None)
        _set(copied, "__pydantic_private__", {"_stored": self._stored, "_checked": True})
        return copied

    def __setattr__(self, name: str, value: Any) -> None:
        # pydantic puts the value in place before an entity's own (model) validator runs:
        # a value that validator refuses would stay. The entity keeps what it held instead.
        held = self.__dict__.get(name, _NOTHING)
        if value is None and held is None and name in self.__pydantic_fields_set__:
            # A field cleared that was clear (a rule making sure of it, on every write):
            # nothing changes, nothing to validate (a model validator would see the same).
            return
        try:
            super().__setattr__(name, value)
        except RecursionError:
            self._keep(name, held)
            raise _too_deep(type(self), name) from None
        except DomainError:
            self._keep(name, held)
            raise

    def _keep(self, name: str, held: Any) -> None:
        if held is not _NOTHING:
            self.__dict__[name] = held

    @classmethod
    def int_bounds(cls, field: str) -> tuple[int, int]:
        """The least and the greatest whole number `field` may hold."""
        for rule in cls.model_fields[field].metadata:
            if isinstance(rule, IntRule):
                return rule.minimum, rule.maximum
        return INT64_MIN, INT64_MAX

    @classmethod
    def required_value(cls, field: str, value: Any) -> Any:
        """`query_value` for an argument that must be given: None is an InvalidValue
        naming the field ("is required")."""
        if value is None:
            raise InvalidValue(cls.label(), field, None, "is required")
        return cls.query_value(field, value)

    @classmethod
    def query_value(cls, field: str, value: Any) -> Any:
        """`value` as `field` would hold it, to compare with stored values: names normalised,
        enums as their text, datetimes in UTC. None stays None.

        Raises InvalidValue naming the field for a value the field could never hold (wrong
        type, NUL, too long, not an allowed value, a naive datetime): it would match nothing,
        and some backends cannot even be sent it."""
        if value is None:
            return None
        if not isinstance(value, str | int | float | datetime):
            # Containers never match a column (and a deep one would overflow the validators).
            problem = f"must be compared with a single value, not {type(value).__name__}"
            raise InvalidValue(cls.label(), field, value, problem)
        try:
            held = _field_adapter(cls, field).validate_python(value)
        except ValidationError as exc:
            raise invalid_value(cls, exc, field) from None
        return held.value if isinstance(held, StrEnum) else held

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, "<secret>" if name in self.secret_fields else value

    def _raise_flag(self, name: str, at: datetime) -> None:
        """Set a timestamp flag; a flag already set keeps the time it was first set."""
        if getattr(self, name) is None:
            setattr(self, name, at)

    def _lower_flag(self, name: str) -> None:
        setattr(self, name, None)

    # -- used by the repositories ----------------------------------------------------------

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, owned: bool = False) -> Self:
        """The entity for a row read from storage, remembering the row to tell changes later.

        Rows come from our own tables, where every value was validated on its way in, so
        they are trusted: the entity is built without running the field validators again
        (which cost three quarters of a listing), only enum text turned back into members.
        An `owned` row (a dict nobody else holds, as the stores return) is kept as the
        remembered row instead of copied.
        """
        json_fields, enums, every, _, build = _READ_PLANS.get(cls) or _read_plan(cls)
        if owned and type(row) is dict and len(row) == len(every):
            return build(row)  # type: ignore[no-any-return]
        if owned and type(row) is dict:
            stored = row
            values = row.copy()
            for name in json_fields:
                if name in values:
                    values[name] = _json_copy(values[name])
        else:
            stored = cls._copy_of(row)
            values = dict(row)
        for name, members, enum in enums:
            value = values[name]
            if value is not None:
                member = members.get(value)
                values[name] = enum(value) if member is None else member
        entity: Self = _new(cls)
        _set(entity, "__dict__", values)
        # A whole row (as every store returns: one value per field) shares one set of all
        # the field names: pydantic only ever adds a name to it, on assignment, and every
        # name is in it already.
        _set(entity, "__pydantic_fields_set__", every if len(values) == len(every) else set(values))
        _set(entity, "__pydantic_extra__", None)
        _set(entity, "__pydantic_private__", {"_stored": stored, "_checked": True})
        return entity

    @classmethod
    def whole_row_builder(cls) -> tuple[Callable[[dict[str, Any]], Self], int]:
        """`from_row(row, owned=True)` for a row dict that holds every field (their number
        comes with it): for a caller that builds many, the checks of `from_row` once."""
        plan = _READ_PLANS.get(cls) or _read_plan(cls)
        return plan[4], len(plan[2])

    def remember_stored(self, row: Mapping[str, Any]) -> None:
        """Keep `row` as what storage holds."""
        private = self.__pydantic_private__
        assert private is not None  # Entity declares a private attribute, so pydantic made it
        private["_stored"] = self._copy_of(row)

    @classmethod
    def _copy_of(cls, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row as remembered: JSON containers copied, so that changing the entity's
        payload in place still shows as a change."""
        stored = dict(row)
        for name in _json_fields(cls):
            if name in stored:
                stored[name] = _json_copy(stored[name])
        return stored

    def to_row(self) -> dict[str, Any]:
        """The entity as column values (enums as plain strings)."""
        row = self.__dict__.copy()
        # Only the fields that may hold an enum member are looked at: the enum fields and the
        # JSON ones; a validated text field holds a plain str (a third of an update's cost
        # was a check of every value).
        for name in (_READ_PLANS.get(type(self)) or _read_plan(type(self)))[3]:
            value = row.get(name)
            if isinstance(value, StrEnum):
                row[name] = value.value
        return row

    def changed_columns(self) -> dict[str, Any]:
        """Columns that differ from what was read (all of them for an entity never stored)."""
        row = self.to_row()
        stored = self._stored  # once: a private attribute is read through pydantic's __getattr__
        if stored is None:
            return row
        return {name: value for name, value in row.items() if stored.get(name) != value}

    def audit_state(self) -> dict[str, Any]:
        """The entity as JSON for an audit entry, secrets left out."""
        state: dict[str, Any] = self.model_dump(mode="json", exclude=set(self.secret_fields))
        return state

    def stored_value(self, name: str) -> Any:
        return None if self._stored is None else self._stored.get(name)

    def check_transitions(self) -> None:
        """Refuse a state-machine field moved to a state not reachable from its stored one."""
        for field_name, graph in self.transitions.items():
            old, new = self.stored_value(field_name), getattr(self, field_name)
            new = new.value if isinstance(new, StrEnum) else new
            if old is not None and old != new and new not in graph.get(old, frozenset()):
                raise InvalidTransition(self.label(), field_name, old, new)


RowVersion = Annotated[int, Strict(), IntRule(minimum=1)]
"""The `row_version` column: 1 when a row is added, one more on every update of it."""


class Timestamped(Entity):
    """An entity that changes after it is stored: `created_at` (set on insert), `updated_at`
    (set on every write) and `row_version` (1 when added, one more on every write), which
    the repositories check so that an update based on a stale read is refused."""

    stamped_on_insert: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    stamped_on_update: ClassVar[tuple[str, ...]] = ("updated_at",)
    version_field = "row_version"

    created_at: UtcDateTime = Field(default_factory=utc_now)
    updated_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1


@cache
def _json_fields(entity: type[Entity]) -> tuple[str, ...]:
    """The entity's fields that may hold a JSON container."""
    return tuple(
        name
        for name, info in entity.model_fields.items()
        if any(isinstance(rule, JsonRule) for rule in _rules_of(info.annotation, info.metadata))
    )


def _rules_of(annotation: Any, metadata: list[Any]) -> list[Any]:
    rules = list(metadata)
    for part in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(part) is Annotated:
            rules.extend(typing.get_args(part)[1:])
    return rules


# What `from_row` needs of each entity class, worked out once (one dict lookup a row):
# its JSON fields; its enum fields, each with its members by stored text (a dict lookup is
# a tenth of the cost of calling the enum, which counts on listings: five enums a task;
# text that is no member is left to the enum to refuse); and the set of all its field
# names, which every entity built from a whole row shares as its fields set (never changed:
# every name pydantic could add is in it); and the fields `to_row` looks at for enum members.
_ReadPlan = tuple[
    tuple[str, ...],
    tuple[tuple[str, Mapping[str, StrEnum], type[StrEnum]], ...],
    set[str],
    tuple[str, ...],
    Callable[[dict[str, Any]], Any],
]
_READ_PLANS: dict[type[Entity], _ReadPlan] = {}


def _read_plan(entity: type[Entity]) -> _ReadPlan:
    enums = tuple(
        (name, {member.value: member for member in enum}, enum)
        for name, enum in _enum_fields(entity)
    )
    may_hold_enums = (*(name for name, _, _ in enums), *_json_fields(entity))
    every = set(entity.model_fields)
    build = _builder(entity, _json_fields(entity), enums, every)
    plan = (_json_fields(entity), enums, every, may_hold_enums, build)
    _READ_PLANS[entity] = plan
    return plan


def _builder(
    entity: type[Entity],
    json_fields: tuple[str, ...],
    enums: tuple[tuple[str, Mapping[str, StrEnum], type[StrEnum]], ...],
    every: set[str],
) -> Callable[[dict[str, Any]], Any]:
    """`from_row` for a whole row a store handed over (one value per field), written out as
    Python once per entity class: the row kept as the remembered one, the entity's values
    one dict display over it (enum text as members, JSON containers copied). A third
    cheaper a row than the general path's loops, which counts on listings."""
    namespace: dict[str, Any] = {
        "_new": _new,
        "_set": _set,
        "entity": entity,
        "every": every,
        "member": _member,
        "copied": _json_copy,
    }
    items = []
    for i, (name, members, enum) in enumerate(enums):
        namespace[f"members_{i}"], namespace[f"enum_{i}"] = members, enum
        items.append(
            f"{name!r}: members_{i}[v{i}] if (v{i} := row[{name!r}]) in members_{i}"
            f" else member(enum_{i}, v{i})"
        )
    items.extend(f"{name!r}: copied(row[{name!r}])" for name in json_fields)
    source = (
        "def from_row(row):\n"
        f"    values = {{**row, {', '.join(items)}}}\n"
        "    made = _new(entity)\n"
        "    _set(made, '__dict__', values)\n"
        "    _set(made, '__pydantic_fields_set__', every)\n"
        "    _set(made, '__pydantic_extra__', None)\n"
        "    _set(made, '__pydantic_private__', {'_stored': row, '_checked': True})\n"
        "    return made\n"
    )
    exec(compile(source, f"<agentkeel from_row of {entity.__name__}>", "exec"), namespace)
    build: Callable[[dict[str, Any]], Any] = namespace["from_row"]
    return build


def _member(enum: type[StrEnum], value: Any) -> StrEnum | None:
    # Text that is no member: the enum refuses it (ValueError), as it would on any path.
    return None if value is None else enum(value)


def _json_copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


@cache
def _enum_fields(entity: type[Entity]) -> tuple[tuple[str, type[StrEnum]], ...]:
    """The entity's enum fields (text in storage, members on the entity)."""
    found = []
    for name, info in entity.model_fields.items():
        for part in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(part, type) and issubclass(part, StrEnum):
                found.append((name, part))
    return tuple(found)


@cache
def _field_adapter(entity: type[Entity], field: str) -> TypeAdapter[Any]:
    info = entity.model_fields[field]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return TypeAdapter(annotation)


_CONTAINERS = (list, dict, tuple, set, frozenset)
_NOTHING = object()


def _too_deep(entity: type[Entity], field: str) -> InvalidValue:
    problem = "is nested too deeply to be a value of this field"
    return InvalidValue(entity.label(), field, "<too deeply nested>", problem)


def invalid_value(entity: type[Entity], exc: ValidationError, field: str = "") -> DomainError:
    """The first problem pydantic found, as an InvalidValue naming the field (a secret
    field's value is not shown). `field` names it when pydantic's error does not."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or field or "value"
    value = "<secret>" if field in entity.secret_fields else error.get("input")
    if error["type"] == "agentkeel":
        problem = error["msg"]
    elif error["type"] == "extra_forbidden":
        problem = "is not a field"
    elif error["type"] == "missing":
        problem = "is required"
    elif error["type"] == "enum":
        problem = f"must be one of {error.get('ctx', {}).get('expected', '?')}"
    else:
        problem = f"is invalid: {error['msg'][0].lower()}{error['msg'][1:]}"
    return InvalidValue(entity.label(), field, value, problem)


def enum_values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def member_of(enum: type[S], value: object, entity: str, field: str) -> S:
    """`value` as a member of `enum` (a member, or its text), for an argument that is no
    entity field (`unit_of_work(source=...)`). Anything else is InvalidValue naming `field`,
    worded as an entity field's is; only text is looked up (the enum's own error would
    repr the value, which a value nested deep enough cannot survive)."""
    if isinstance(value, str):
        for member in enum:
            if member.value == value:
                return member
    quoted = [repr(text) for text in enum_values(enum)]
    allowed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    raise InvalidValue(entity, field, value, f"must be one of {allowed}")
