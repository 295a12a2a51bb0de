"""The workspace context: projects, their git repositories and worktrees, settings, templates."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Self, assert_never, get_args

import regex
from pydantic import Strict, model_validator

from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.model import (
    BranchName,
    Count,
    Description,
    FilePath,
    Flag,
    Id,
    IndexedPath,
    Integer,
    Label,
    LongText,
    Name,
    TextRule,
    Timestamped,
    Url,
    UtcDateTime,
    json_problem,
)

# -- projects ----------------------------------------------------------------------------------


class ProjectMode(StrEnum):
    """Nexus: a project built from nothing (genesis) or grown from existing code (evolution)."""

    GENESIS = "genesis"
    EVOLUTION = "evolution"


class Project(Timestamped):
    """A grouping of repositories, workflows, initiatives and tasks (CO + Nexus projects)."""

    name: Name
    description: Description | None = None
    mode: ProjectMode | None = None
    status: Label | None = None
    root_path: FilePath | None = None
    repository_url: Url | None = None
    completed_at: UtcDateTime | None = None
    archived_at: UtcDateTime | None = None

    is_archived: ClassVar[Flag] = Flag("archived_at")

    is_completed: ClassVar[Flag] = Flag("completed_at")

    def archive(self, at: datetime) -> None:
        self._raise_flag("archived_at", at)

    def unarchive(self) -> None:
        self._lower_flag("archived_at")


# -- repositories ------------------------------------------------------------------------------


class Repository(Timestamped):
    """A git repository of a project (CO repositories + Codewalkers' projects).

    It has a local `path`, a remote `url`, or both. At most one repository of a project is its
    default (`set_as_default_at`); the repository port switches it atomically.
    """

    project_id: Id
    name: Name
    path: IndexedPath | None = None
    url: Url | None = None
    default_branch: BranchName = "main"
    set_as_default_at: UtcDateTime | None = None
    last_fetched_at: UtcDateTime | None = None

    @model_validator(mode="after")
    def _located(self) -> Self:
        if self.path is None and self.url is None:
            raise InvalidValue(self.label(), "path", None, "or url must be given")
        return self

    is_default: ClassVar[Flag] = Flag("set_as_default_at")


# -- worktrees ---------------------------------------------------------------------------------


class WorktreeStatus(StrEnum):
    ACTIVE = "active"
    CLEANING = "cleaning"
    REMOVED = "removed"


class Worktree(Timestamped):
    """A git worktree checked out from a repository for concurrent work.

    Status moves active -> cleaning -> removed; a cleanup that is given up returns to active.
    """

    transitions = {
        "status": {
            WorktreeStatus.ACTIVE: frozenset({WorktreeStatus.CLEANING, WorktreeStatus.REMOVED}),
            WorktreeStatus.CLEANING: frozenset({WorktreeStatus.REMOVED, WorktreeStatus.ACTIVE}),
            WorktreeStatus.REMOVED: frozenset(),
        }
    }

    repository_id: Id
    path: IndexedPath
    branch_name: BranchName
    status: WorktreeStatus = WorktreeStatus.ACTIVE


# -- settings ----------------------------------------------------------------------------------


class SettingCategory(StrEnum):
    WORKFLOW = "workflow"
    WORKTREE = "worktree"
    LOGGING = "logging"
    UI = "ui"
    ADVANCED = "advanced"


class SettingValueType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


SettingValue = str | int | float | bool | list[Any] | dict[str, Any] | None
SettingKey = Annotated[str, Strict(), TextRule(200, pattern=r"[A-Za-z][A-Za-z0-9_.-]*")]
EncodedValue = Annotated[str, Strict(), TextRule(100_000)]


def encode_setting(value: SettingValue) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def setting_problem(value_type: SettingValueType, value: Any) -> str | None:
    """Why `value` cannot be a value of `value_type`, or None when it can. Every value must
    be a JSON value (see `json_problem`), since it is stored as JSON text."""
    if (problem := json_problem(value)) is not None:
        return problem
    match value_type:
        case SettingValueType.STRING:
            ok = isinstance(value, str)
        case SettingValueType.NUMBER:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        case SettingValueType.BOOLEAN:
            ok = isinstance(value, bool)
        case SettingValueType.JSON:
            ok = True
        case _:
            assert_never(value_type)
    return None if ok else f"must be a {value_type.value}"


class Setting(Timestamped):
    """A typed application setting. `value` and `default_value` hold JSON text.

    `user_modified_at` is set while the user's value is in force; reset clears it.
    """

    key: SettingKey
    value: EncodedValue
    value_type: SettingValueType = SettingValueType.STRING
    category: SettingCategory
    display_name: Name
    description: Description | None = None
    default_value: EncodedValue | None = None
    user_modified_at: UtcDateTime | None = None

    @model_validator(mode="after")
    def _typed(self) -> Self:
        for field_name in ("value", "default_value"):
            text = getattr(self, field_name)
            if text is None:
                continue
            try:
                decoded = json.loads(text)
            except ValueError:
                raise InvalidValue(self.label(), field_name, text, "must be JSON text") from None
            problem = setting_problem(self.value_type, decoded)
            if problem is not None:
                raise InvalidValue(self.label(), field_name, decoded, problem)
        return self

    is_user_modified: ClassVar[Flag] = Flag("user_modified_at")

    @property
    def typed_value(self) -> SettingValue:
        decoded: SettingValue = json.loads(self.value)
        return decoded

    @property
    def typed_default(self) -> SettingValue:
        if self.default_value is None:
            return None
        decoded: SettingValue = json.loads(self.default_value)
        return decoded


@dataclass(frozen=True)
class SettingDefinition:
    """A setting the application knows, with its default and the rule its values follow."""

    key: str
    default: SettingValue
    value_type: SettingValueType
    category: SettingCategory
    display_name: str
    description: str
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Counts, days and timeouts in whole seconds take integers only.
    whole: bool = False

    def check(self, value: SettingValue) -> None:
        """Raise InvalidValue (field = the key) unless `value` is a valid value of this
        setting: its type, allowed values, bounds, and whole numbers where it counts."""
        problem = setting_problem(self.value_type, value)
        if problem is None and self.allowed is not None and value not in self.allowed:
            problem = f"must be one of {', '.join(self.allowed)}"
        if problem is None and self.whole and not isinstance(value, int):
            problem = "must be a whole number"
        if problem is None and isinstance(value, int | float):
            if self.minimum is not None and value < self.minimum:
                problem = f"must be at least {self.minimum:g}"
            elif self.maximum is not None and value > self.maximum:
                problem = f"must be at most {self.maximum:g}"
        if problem is not None:
            raise InvalidValue("setting", self.key, value, problem)

    def check_setting(self, setting: Setting) -> None:
        """Raise InvalidValue unless `setting` is this setting as it may be stored: the
        defined `value_type` and `default_value`, and a valid value."""
        if setting.value_type != self.value_type:
            raise InvalidValue(
                "setting",
                "value_type",
                setting.value_type.value,
                f"of {self.key} is {self.value_type.value} and cannot change",
            )
        if setting.default_value != encode_setting(self.default):
            raise InvalidValue(
                "setting",
                "default_value",
                setting.default_value,
                f"of {self.key} is {encode_setting(self.default)} and cannot change",
            )
        self.check(setting.typed_value)

    def new_setting(self) -> Setting:
        encoded = encode_setting(self.default)
        return Setting(
            key=self.key,
            value=encoded,
            value_type=self.value_type,
            category=self.category,
            display_name=self.display_name,
            description=self.description,
            default_value=encoded,
        )


def _seconds(key: str, default: int, name: str, description: str) -> SettingDefinition:
    return SettingDefinition(
        key,
        default,
        SettingValueType.NUMBER,
        SettingCategory.WORKFLOW,
        name,
        description,
        minimum=1,
        maximum=WEEK_IN_SECONDS,
        whole=True,
    )


WEEK_IN_SECONDS = 7 * 24 * 3600


def _switch(key: str, default: bool, name: str, description: str) -> SettingDefinition:
    category = SettingCategory(key.split(".")[0])
    return SettingDefinition(key, default, SettingValueType.BOOLEAN, category, name, description)


# The 16 default settings of the Claude Orchestrator design, in its order.
DEFAULT_SETTINGS: tuple[SettingDefinition, ...] = (
    SettingDefinition(
        "workflow.defaultPauseBehavior",
        "auto_pause",
        SettingValueType.STRING,
        SettingCategory.WORKFLOW,
        "Default pause behavior",
        "Default pause mode",
        allowed=("continuous", "auto_pause", "gates_only"),
    ),
    SettingDefinition(
        "workflow.maxConcurrentImplementations",
        3,
        SettingValueType.NUMBER,
        SettingCategory.WORKFLOW,
        "Max concurrent implementations",
        "Max parallel workflows",
        minimum=1,
        maximum=1000,
        whole=True,
    ),
    _seconds(
        "workflow.clarificationTimeout",
        60,
        "Clarification timeout",
        "Clarification timeout (seconds)",
    ),
    _seconds(
        "workflow.refinementTimeout", 30, "Refinement timeout", "Refinement timeout (seconds)"
    ),
    _seconds("workflow.discoveryTimeout", 120, "Discovery timeout", "Discovery timeout (seconds)"),
    _seconds("workflow.planningTimeout", 180, "Planning timeout", "Planning timeout (seconds)"),
    _seconds(
        "workflow.implementationTimeout",
        300,
        "Implementation timeout",
        "Per-step implementation timeout (seconds)",
    ),
    _seconds(
        "workflow.qualityGateTimeout", 120, "Quality gate timeout", "Quality gate timeout (seconds)"
    ),
    _seconds(
        "workflow.geminiReviewTimeout",
        180,
        "Gemini review timeout",
        "Gemini review timeout (seconds)",
    ),
    SettingDefinition(
        "worktree.locationPattern",
        ".worktrees/{feature-slug}",
        SettingValueType.STRING,
        SettingCategory.WORKTREE,
        "Worktree location pattern",
        "Worktree location pattern",
    ),
    _switch(
        "worktree.autoCleanup", True, "Auto-cleanup worktrees", "Auto-cleanup after completion"
    ),
    _switch("worktree.autoCreateBranch", True, "Auto-create branch", "Auto-create feature branch"),
    _switch("worktree.pushOnCompletion", False, "Push on completion", "Push branch when done"),
    SettingDefinition(
        "logging.retentionDays",
        30,
        SettingValueType.NUMBER,
        SettingCategory.LOGGING,
        "Log retention (days)",
        "Log retention period",
        minimum=1,
        maximum=36_500,
        whole=True,
    ),
    _switch("logging.includeCliOutput", True, "Include CLI output", "Include raw CLI output"),
    SettingDefinition(
        "logging.exportLocation",
        "~/Documents/claude-orchestrator-logs",
        SettingValueType.STRING,
        SettingCategory.LOGGING,
        "Log export location",
        "Export location",
    ),
)
SETTING_DEFINITIONS = {definition.key: definition for definition in DEFAULT_SETTINGS}


# -- templates ---------------------------------------------------------------------------------


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
