"""Feature-request templates, their `{{placeholder}}`s, and rendering."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, ClassVar, Self, get_args

import regex
from pydantic import Strict, model_validator

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.fields import (
    Count,
    Description,
    Id,
    Integer,
    LongText,
    Name,
    TextRule,
    UtcDateTime,
)


class TemplateCategory(StrEnum):
    DATA = "data"
    UI = "ui"
    BACKEND = "backend"
    SECURITY = "security"
    ELECTRON = "electron"


class Template(Timestamped):
    """A feature-request template whose text holds `{{placeholder}}` markers.

    Built-in templates (`built_in_at` set) are deactivated, never deleted.
    """

    name: Name
    category: TemplateCategory
    description: Description | None = None
    template_text: LongText
    usage_count: Count = 0
    built_in_at: UtcDateTime | None = None
    deactivated_at: UtcDateTime | None = None

    is_built_in: ClassVar[Flag] = Flag("built_in_at")

    is_deactivated: ClassVar[Flag] = Flag("deactivated_at")

    def deactivate(self, at: datetime) -> None:
        self._raise_flag("deactivated_at", at)

    def reactivate(self) -> None:
        self._lower_flag("deactivated_at")


PlaceholderName = Annotated[str, Strict(), TextRule(100, pattern=r"[A-Za-z_][A-Za-z0-9_]*")]
Pattern = Annotated[str, Strict(), TextRule(1000, blank=False)]
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class TemplatePlaceholder(Timestamped):
    """A `{{name}}` of a template: display name, default, whether required, a regex to match."""

    template_id: Id
    name: PlaceholderName
    display_name: Name
    description: Description | None = None
    default_value: LongText | None = None
    validation_pattern: Pattern | None = None
    order_index: Integer = 0
    required_at: UtcDateTime | None = None

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Self:
        if self.validation_pattern is not None:
            _compiled_pattern(self.validation_pattern)
        return self

    is_required: ClassVar[Flag] = Flag("required_at")


# Patterns are user input. They are compiled and matched by `regex` (the syntax of `re`, and
# more), whose matching can be given a time limit: a pattern that backtracks for too long on
# a value, like `(a+)+$`, gives up after PATTERN_TIMEOUT seconds instead of running for hours.
PATTERN_TIMEOUT = 0.1
# `regex` unrolls a counted repeat X{m}, X{m,} or X{m,n} into m copies of X when it compiles,
# nested ones multiplied: `(?:a{100000}){100000}` would take hours and all memory. The steps
# are bounded from above as if each count repeated everything before it, which needs only
# these tokens. Verbose mode is refused: it would let a count hide as `{1 0 0}` or in comments.
PATTERN_MAX_STEPS = 100_000
_PATTERN_TOKEN = re.compile(
    r"""\\.                            # an escape
      | \[\^?(?:\\.|[^\]\\])*\]        # a character class, to its first ] (never further)
      | \{(?P<count>\d*)(?:,\d*)?\}     # a counted repeat
      | (?P<verbose>\(\?\w*x)          # inline flags turning on verbose mode
      | .""",
    re.DOTALL | re.VERBOSE,
)


@lru_cache(maxsize=256)  # placeholders are validated on every read; compile each pattern once
def _compiled_pattern(pattern: str) -> regex.Pattern[str]:
    """A placeholder's `validation_pattern`, compiled by the engine that matches it.

    Raises InvalidValue (template_placeholder.validation_pattern) for a pattern that is not a
    valid regular expression, turns on verbose mode (x), or has counted repeats that could
    unroll into more than PATTERN_MAX_STEPS steps.
    """
    try:
        problem = _costly_pattern_problem(pattern)
        if problem is None:
            return regex.compile(pattern, regex.VERSION0)  # re's syntax, whatever the default
    except regex.error as exc:
        problem = f"is not a valid regular expression: {exc}"
    except RecursionError:
        problem = "is not a valid regular expression: it nests too deeply"
    raise InvalidValue(TemplatePlaceholder.label(), "validation_pattern", pattern, problem)


def _costly_pattern_problem(pattern: str) -> str | None:
    """Why `regex` could take too long to compile `pattern`, or None."""
    steps = 0
    for token in _PATTERN_TOKEN.finditer(pattern):
        if token["verbose"]:
            return "must not turn on verbose mode (x), which could hide a repeat count"
        count = token["count"]
        steps = steps * max(int(count), 1) if count else steps + 1
        if steps > PATTERN_MAX_STEPS:
            return f"repeats too much: it could unroll into over {PATTERN_MAX_STEPS} steps"
    return None


# A value and the rendered text are held to the rule of `template_text`: at most 1,000,000
# characters, no NUL.
_LONG_TEXT = next(rule for rule in get_args(LongText) if isinstance(rule, TextRule))


def render_template(
    template: Template, placeholders: list[TemplatePlaceholder], values: Mapping[str, str]
) -> str:
    """Fill every `{{name}}` of the template's text.

    A placeholder's value is the one given in `values`, else its default. A blank value
    (empty or only whitespace) counts as no value: a required placeholder refuses it, as it
    refuses a missing one, even when the blank value is its default; an optional placeholder
    renders it as it is ("" when left out without a default). Every other value must match
    the placeholder's `validation_pattern` in full, within PATTERN_TIMEOUT seconds. Raises
    InvalidValue (field = the placeholder's name) for a required value missing or blank, a
    value not matching the pattern or taking too long to, a value that is not a string
    (None too), holds NUL or is longer than `template_text` may be; for a value given for no
    placeholder; (field `values`) for `values` not a mapping or with a key not a string;
    (field `template_text`) for a `{{name}}` in the text with no placeholder; and (field
    `rendered_text`) for a result longer than `template_text` may be, before building it.
    """
    if not isinstance(values, Mapping):
        problem = "must be a mapping of placeholder names to strings"
        raise InvalidValue("template", "values", values, problem)
    by_name = {placeholder.name: placeholder for placeholder in placeholders}
    for name, value in values.items():
        if not isinstance(name, str):
            raise InvalidValue("template", "values", name, "must have placeholder names as keys")
        if name not in by_name:
            raise InvalidValue("template", name, value, "is not a placeholder of it")
    resolved = {placeholder.name: _value_of(placeholder, values) for placeholder in placeholders}
    text = template.template_text
    length = len(text)
    for marker in PLACEHOLDER.finditer(text):
        if marker[1] not in resolved:
            problem = "names an undefined placeholder"
            raise InvalidValue("template", "template_text", marker[0], problem)
        length += len(resolved[marker[1]]) - len(marker[0])
    if length > _LONG_TEXT.max_length:
        problem = f"must be at most {_LONG_TEXT.max_length} characters long, not {length}"
        raise InvalidValue("template", "rendered_text", length, problem)
    return PLACEHOLDER.sub(lambda marker: resolved[marker[1]], text)


def _value_of(placeholder: TemplatePlaceholder, values: Mapping[str, str]) -> str:
    """The placeholder's checked value (see render_template)."""
    name = placeholder.name
    if name in values:
        value: str | None = values[name]
        if not isinstance(value, str):
            raise InvalidValue("template", name, value, "must be a string")
        if (problem := _LONG_TEXT.check(value)) is not None:
            raise InvalidValue("template", name, value, problem)
    else:
        value = placeholder.default_value  # a LongText already
    if value is None or not value.strip():
        # Blank is no value, the same as missing: a form's empty field, not an answer.
        if placeholder.is_required:
            raise InvalidValue("template", name, value, "is required")
        return value or ""
    pattern = placeholder.validation_pattern
    if pattern is not None:
        try:
            matched = _compiled_pattern(pattern).fullmatch(value, timeout=PATTERN_TIMEOUT)
        except TimeoutError:
            problem = f"took too long to match {pattern} (over {PATTERN_TIMEOUT:g} s)"
            raise InvalidValue("template", name, value, problem) from None
        if matched is None:
            raise InvalidValue("template", name, value, f"must match {pattern}")
    return value
