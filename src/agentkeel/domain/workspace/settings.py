"""Typed application settings: the 16 defaults of the Claude Orchestrator design and the
ones agentkeel adds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self, assert_never

from pydantic import Strict, model_validator

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.fields import (
    JSON_MAX_DEPTH,
    Description,
    Name,
    TextRule,
    UtcDateTime,
    json_problem,
)


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
            except RecursionError:
                # Nested past what Python's parser can read, and so far past what a value
                # may be (JSON_MAX_DEPTH, which `setting_problem` checks of what it reads).
                too_deep = f"must not nest lists and objects more than {JSON_MAX_DEPTH} deep"
                raise InvalidValue(self.label(), field_name, text, too_deep) from None
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
        """The setting as it is first stored: its default as its value, not user-modified."""
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
CO_SETTINGS: tuple[SettingDefinition, ...] = (
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

# The most days a retention may be: a hundred years, as `logging.retentionDays` allows.
MAX_RETENTION_DAYS = 36_500


def _retention(key: str, default: int, name: str, description: str) -> SettingDefinition:
    """A retention in whole days, 0 meaning "keep forever" (see docs/retention.md)."""
    return SettingDefinition(
        key,
        default,
        SettingValueType.NUMBER,
        SettingCategory.LOGGING,
        name,
        f"{description} (days; 0 keeps them forever)",
        minimum=0,
        maximum=MAX_RETENTION_DAYS,
        whole=True,
    )


# What agentkeel adds: the crash-retry limit of tasks (later CW code's 3), and
# how long what grows with time is kept (the retention purge, `services.retention`; the
# audit trail keeps CO's `logging.retentionDays`). Defaults and why: docs/decisions.md,
# "Retention".
OWN_SETTINGS: tuple[SettingDefinition, ...] = (
    SettingDefinition(
        "tasks.maxCrashRetries",
        3,
        SettingValueType.NUMBER,
        SettingCategory.ADVANCED,
        "Max crash retries",
        "Times a task whose agent crashed goes back to pending before a person must look",
        minimum=0,
        maximum=1000,
        whole=True,
    ),
    _retention(
        "retention.eventLogDays",
        7,
        "Event log retention (days)",
        "How long the event log keeps an event no registered consumer still needs",
    ),
    _retention(
        "retention.idempotencyKeyDays",
        30,
        "Idempotency key retention (days)",
        "How long a command's idempotency key is remembered: a retry after that creates again",
    ),
    _retention(
        "retention.agentLogDays",
        30,
        "Agent log retention (days)",
        "How long agents' output (log chunks) is kept",
    ),
    _retention(
        "retention.metricsDays",
        365,
        "Metrics retention (days)",
        "How long metrics (token usage, durations, QA iterations) are kept",
    ),
)
DEFAULT_SETTINGS = CO_SETTINGS + OWN_SETTINGS
SETTING_DEFINITIONS = {definition.key: definition for definition in DEFAULT_SETTINGS}
