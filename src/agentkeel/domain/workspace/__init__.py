"""The workspace context: projects, their git repositories and worktrees, settings and
templates, with the events their repositories record.

One module per aggregate; everything is importable from this package."""

from __future__ import annotations

from agentkeel.domain.workspace.events import (
    DefaultRepositoryChanged,
    ProjectArchived,
    ProjectUnarchived,
    SettingChanged,
    TemplateRendered,
)
from agentkeel.domain.workspace.projects import (
    Project,
    ProjectMode,
)
from agentkeel.domain.workspace.repositories import (
    Repository,
)
from agentkeel.domain.workspace.settings import (
    CO_SETTINGS,
    DEFAULT_SETTINGS,
    OWN_SETTINGS,
    SETTING_DEFINITIONS,
    WEEK_IN_SECONDS,
    EncodedValue,
    Setting,
    SettingCategory,
    SettingDefinition,
    SettingKey,
    SettingValue,
    SettingValueType,
    encode_setting,
    setting_problem,
)
from agentkeel.domain.workspace.templates import (
    PATTERN_MAX_STEPS,
    PATTERN_TIMEOUT,
    PLACEHOLDER,
    Pattern,
    PlaceholderName,
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    render_template,
)
from agentkeel.domain.workspace.worktrees import (
    Worktree,
    WorktreeStatus,
)

__all__ = [
    "CO_SETTINGS",
    "DEFAULT_SETTINGS",
    "OWN_SETTINGS",
    "PATTERN_MAX_STEPS",
    "PATTERN_TIMEOUT",
    "PLACEHOLDER",
    "SETTING_DEFINITIONS",
    "WEEK_IN_SECONDS",
    "DefaultRepositoryChanged",
    "EncodedValue",
    "Pattern",
    "PlaceholderName",
    "Project",
    "ProjectArchived",
    "ProjectMode",
    "ProjectUnarchived",
    "Repository",
    "Setting",
    "SettingCategory",
    "SettingChanged",
    "SettingDefinition",
    "SettingKey",
    "SettingValue",
    "SettingValueType",
    "Template",
    "TemplateCategory",
    "TemplatePlaceholder",
    "TemplateRendered",
    "Worktree",
    "WorktreeStatus",
    "encode_setting",
    "render_template",
    "setting_problem",
]
