"""The building blocks of every entity: field rules, the Entity base, flags and transitions.

Field rules are `Annotated` metadata that do two jobs: they validate values in the domain
(raising `InvalidValue` that names the field), and `schema/` reads them to size columns.
"""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) writes
from typing import Annotated, Any, ClassVar, Self, overload

from pydantic import (
    ConfigDict,
    GetCoreSchemaHandler,
    JsonValue,
    PrivateAttr,
    Strict,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema
from sqlmodel import Field, SQLModel

from agentkeel.domain.clock import utc_now
from agentkeel.domain.errors import DomainError, InvalidTransition, InvalidValue
from agentkeel.domain.ids import ID_MAX_LENGTH, ID_PATTERN, new_id

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def text_problem(value: str) -> str | None:
    """What makes a string unstorable on some backend: NUL (PostgreSQL refuses it) or a lone
    surrogate (no database driver can encode it). None when it is fine everywhere."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (it holds a lone surrogate)"
    return None


LONG_TEXT_MAX_LENGTH = 1_000_000
# A JSON payload nests lists and objects at most this deep, and its compact JSON text
# (json.dumps with separators (",", ":") and ensure_ascii=False) is at most this long.
JSON_MAX_DEPTH = 64
JSON_MAX_LENGTH = LONG_TEXT_MAX_LENGTH


def json_problem(value: object) -> str | None:
    """What keeps `value` from being a JSON payload that every backend stores and reads back
    exactly; None when it is fine. It must be made of None, bool, int, float, str, list and
    dict only, with string keys; integers 64-bit (-2**63 to 2**63-1), floats finite, strings
    without NUL or lone surrogates (as `text_problem`); lists and objects nested at most
    `JSON_MAX_DEPTH` deep; and its compact JSON text at most `JSON_MAX_LENGTH` characters.

    Never raises. The walk is iterative and stops at the first problem, so it takes time in
    proportion to the value's size, capped by the length limit (a part shared by reference
    counts each time it would be written out), and a value that contains itself is too deep.
    """
    too_long = f"must be at most {JSON_MAX_LENGTH} characters long as JSON"
    length = 0
    todo: list[tuple[object, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if item is None or isinstance(item, bool):
            length += 5 if item is False else 4
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return f"must hold only integers from {INT64_MIN} to {INT64_MAX} (64-bit)"
            length += len(int.__repr__(item))
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "must not contain NaN or infinity"
            length += len(float.__repr__(item))
        elif isinstance(item, str):
            if (problem := text_problem(item)) is not None:
                return problem
            length += len(encode_basestring(item))
        elif isinstance(item, list | dict):
            if depth == JSON_MAX_DEPTH:
                return f"must not nest lists and objects more than {JSON_MAX_DEPTH} deep"
            # Brackets, commas and a colon per key, counted before the items are queued: a
            # container too long is refused without queueing them.
            length += 2 + max(len(item) - 1, 0) + (len(item) if isinstance(item, dict) else 0)
            if length > JSON_MAX_LENGTH:
                return too_long
            if isinstance(item, list):
                todo.extend((child, depth + 1) for child in item)
                continue
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"must have only string keys in its objects, not {type(key).__name__}"
                todo += ((key, depth), (child, depth + 1))
        else:
            return (
                "must hold only JSON values (null, booleans, numbers, strings, lists, objects),"
                f" not {type(item).__name__}"
            )
        if length > JSON_MAX_LENGTH:
            return too_long
    return None


class _Rule:
    """A value rule: `clean` puts a value in its canonical form, `check` returns the problem
    with the cleaned value, or None when it is fine."""

    def clean(self, value: Any) -> Any:
        return value

    def check(self, value: Any) -> str | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def validate(self, value: Any) -> Any:
        """The value in its canonical form, or a pydantic error carrying the problem."""
        value = self.clean(value)
        problem = self.check(value)
        if problem is not None:
            # Re-raised as InvalidValue (with entity and field) by Entity._domain_errors.
            raise PydanticCustomError("agentkeel", problem)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.validate, handler(source))


# Format characters that render as nothing (zero-width space, soft hyphen, byte-order mark,
# direction marks) are dropped from names; the joiners and tag characters that build emoji
# and some scripts' letters are kept.
_KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))


def normalise_name(value: str) -> str:
    """A name as users see it: invisible format characters dropped, Unicode NFC (so "é" typed
    either way is one name), white space trimmed at both ends and runs of it made one space.
    Two names that render alike are then equal, and unique rules treat them as one."""
    if not value.isascii():
        value = "".join(
            char
            for char in value
            if char in _KEPT_FORMAT_CHARACTERS or unicodedata.category(char) != "Cf"
        )
        value = unicodedata.normalize("NFC", value)
    return " ".join(value.split())


@dataclass(frozen=True)
class TextRule(_Rule):
    """Text: at most `max_length` characters, no NUL, optionally not blank and matching.

    With `name=True` the text is a name and is stored normalised (see `normalise_name`)."""

    max_length: int
    blank: bool = True
    pattern: str | None = None
    name: bool = False
    # A limit in bytes of UTF-8, for text an index holds (PostgreSQL cannot index an entry
    # of more than 2,704 bytes; the schema checks every index against these limits).
    max_bytes: int | None = None

    def clean(self, value: str) -> str:
        # Text with NUL or a lone surrogate is left as it is for `check` to refuse.
        if self.name and text_problem(value) is None:
            return normalise_name(value)
        return value

    def check(self, value: str) -> str | None:
        if (problem := text_problem(value)) is not None:
            return problem
        if len(value) > self.max_length:
            return f"must be at most {self.max_length} characters long, not {len(value)}"
        if self.max_bytes is not None and len(value) * 4 > self.max_bytes:
            size = len(value.encode("utf-8"))
            if size > self.max_bytes:
                return f"must be at most {self.max_bytes} bytes of UTF-8, not {size}"
        if not self.blank and not value.strip():
            return "must not be blank"
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return f"must match {self.pattern}"
        return None


@dataclass(frozen=True)
class IntRule(_Rule):
    """A whole number between `minimum` and `maximum` (64-bit by default)."""

    minimum: int = INT64_MIN
    maximum: int = INT64_MAX

    def check(self, value: int) -> str | None:
        if not self.minimum <= value <= self.maximum:
            return f"must be between {self.minimum} and {self.maximum}"
        return None


@dataclass(frozen=True)
class FloatRule(_Rule):
    """A finite real number."""

    def check(self, value: float) -> str | None:
        return None if math.isfinite(value) else "must be a finite number"


@dataclass(frozen=True)
class IdRule(_Rule):
    """A primary or foreign key: URL-safe characters, at most 64 of them."""

    def check(self, value: str) -> str | None:
        if len(value) > ID_MAX_LENGTH or ID_PATTERN.fullmatch(value) is None:
            return f"must be 1 to {ID_MAX_LENGTH} URL-safe characters (A-Z a-z 0-9 _ -)"
        return None


@dataclass(frozen=True)
class UtcRule:
    """A timezone-aware datetime, normalised to UTC (naive datetimes are refused, and so are
    those whose UTC time falls outside years 1 to 9999)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def to_utc(value: datetime) -> datetime:
            if value.tzinfo is None or value.utcoffset() is None:
                raise PydanticCustomError("agentkeel", "must be timezone-aware")
            try:
                return value.astimezone(UTC)
            except OverflowError:  # e.g. 0001-01-01 01:00+05:00 is before year 1 in UTC
                raise PydanticCustomError(
                    "agentkeel", "is out of range when converted to UTC"
                ) from None

        return core_schema.no_info_after_validator_function(to_utc, handler(source))


@dataclass(frozen=True)
class JsonRule(_Rule):
    """A JSON payload within the bounds of `json_problem`."""

    def check(self, value: Any) -> str | None:
        return json_problem(value)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Before pydantic's own JsonValue validation, which recurses: input nested a few
        # hundred deep would fail there with a raw error, deeper with a RecursionError.
        return core_schema.no_info_before_validator_function(self.validate, handler(source))


# The field types entities are made of. Lengths are documented in docs/schema.md.
Id = Annotated[str, Strict(), IdRule()]
Name = Annotated[str, Strict(), TextRule(200, blank=False, name=True)]
Label = Annotated[str, Strict(), TextRule(100, blank=False, name=True)]
ShortText = Annotated[str, Strict(), TextRule(500)]
BranchName = Annotated[str, Strict(), TextRule(255, blank=False)]
FilePath = Annotated[str, Strict(), TextRule(4096, blank=False)]
IndexedPath = Annotated[str, Strict(), TextRule(4096, blank=False, max_bytes=2000)]
Url = Annotated[str, Strict(), TextRule(2048, blank=False)]
Description = Annotated[str, Strict(), TextRule(10_000)]
LongText = Annotated[str, Strict(), TextRule(LONG_TEXT_MAX_LENGTH)]
Count = Annotated[int, Strict(), IntRule(minimum=0)]
Integer = Annotated[int, Strict(), IntRule()]
Real = Annotated[float, FloatRule()]
UtcDateTime = Annotated[datetime, UtcRule()]
Json = Annotated[JsonValue, JsonRule()]


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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
    # The field that counts the stored entity's writes, for refusing stale updates (if any).
    version_field: ClassVar[str | None] = None

    id: Id = Field(default_factory=new_id)

    # The stored values this entity was read with; None until it is stored.
    _stored: dict[str, Any] | None = PrivateAttr(default=None)

    @classmethod
    def label(cls) -> str:
        """The entity's name in messages: `TemplatePlaceholder` -> `template_placeholder`."""
        return snake_case(cls.__name__)

    @model_validator(mode="wrap")
    @classmethod
    def _domain_errors(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise invalid_value(cls, exc) from None

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
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """The entity for a stored row, remembering the row to tell changes later."""
        # pydantic's validator directly: SQLModel's model_validate wrapper costs a third more
        # on every row read, for table-model support that entities do not use.
        entity: Self = cls.__pydantic_validator__.validate_python(row)
        entity.remember_stored(row)
        return entity

    def remember_stored(self, row: Mapping[str, Any]) -> None:
        """Keep `row` as what storage holds; JSON containers are copied so that changing
        the entity's payload in place still shows as a change."""
        private = self.__pydantic_private__
        assert private is not None  # Entity declares a private attribute, so pydantic made it
        private["_stored"] = {
            name: copy.deepcopy(value) if isinstance(value, dict | list) else value
            for name, value in row.items()
        }

    def to_row(self) -> dict[str, Any]:
        """The entity as column values (enums as plain strings)."""
        row = dict(self.__dict__)
        for name, value in row.items():
            if isinstance(value, StrEnum):
                row[name] = value.value
        return row

    def changed_columns(self) -> dict[str, Any]:
        """Columns that differ from what was read (all of them for an entity never stored)."""
        row = self.to_row()
        if self._stored is None:
            return row
        return {name: value for name, value in row.items() if self._stored.get(name) != value}

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


class Timestamped(Entity):
    """An entity that changes after it is stored: `created_at` (set on insert), `updated_at`
    (set on every write) and `row_version` (1 when added, one more on every write), which
    the repositories check so that an update based on a stale read is refused."""

    stamped_on_insert = ("created_at", "updated_at")
    stamped_on_update = ("updated_at",)
    version_field = "row_version"

    created_at: UtcDateTime = Field(default_factory=utc_now)
    updated_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: Annotated[int, Strict(), IntRule(minimum=1)] = 1


@cache
def _field_adapter(entity: type[Entity], field: str) -> TypeAdapter[Any]:
    info = entity.model_fields[field]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return TypeAdapter(annotation)


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
