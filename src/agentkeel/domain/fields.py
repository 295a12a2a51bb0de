"""Field rules and the field types entities are made of.

A field rule is `Annotated` metadata that does two jobs: it validates values in the domain
(raising `InvalidValue` that names the field), and `schema/` reads it to size the column.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) writes
from typing import Annotated, Any

from pydantic import (
    GetCoreSchemaHandler,
    JsonValue,
    Strict,
)
from pydantic_core import PydanticCustomError, core_schema

from agentkeel.domain.ids import ID_MAX_LENGTH, ID_PATTERN

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
