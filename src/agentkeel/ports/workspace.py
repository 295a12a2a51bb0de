"""Ports of the workspace context."""

from __future__ import annotations

import builtins
from typing import Protocol, TypeVar

from agentkeel.domain.workspace import (
    Project,
    Repository,
    Setting,
    SettingCategory,
    SettingValue,
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    Worktree,
    WorktreeStatus,
)
from agentkeel.ports.base import EntityRepository

T = TypeVar("T")


class Projects(EntityRepository[Project], Protocol):
    """Projects; archived ones are hidden from listings but stay readable by id. Archiving
    or unarchiving, by any path, records `ProjectArchived` / `ProjectUnarchived`."""

    def list(
        self, *, include_archived: bool = False, limit: int | None = None, offset: int = 0
    ) -> builtins.list[Project]:
        """Projects oldest first; archived ones only when `include_archived`."""
        ...

    def archive(self, key: str) -> Project:
        """Set `archived_at` (kept if already set). Raises NotFound."""
        ...

    def unarchive(self, key: str) -> Project:
        """Clear `archived_at`. Raises NotFound."""
        ...


class Repositories(EntityRepository[Repository], Protocol):
    """Git repositories of projects; names are unique within a project, and at most one
    repository of a project is its default (setting one clears the others, by any path, and
    records `DefaultRepositoryChanged`)."""

    def list(self, *, project_id: str | None = None) -> builtins.list[Repository]:
        """Repositories (of one project, if given), by name."""
        ...

    def find_by_name(self, project_id: str, name: str) -> Repository | None:
        """The project's repository of that name (names are unique within a project)."""
        ...

    def find_by_url(self, url: str) -> builtins.list[Repository]:
        """Repositories with this remote URL, in any project, by id."""
        ...

    def default_of(self, project_id: str) -> Repository | None:
        """The project's default repository, if it has one."""
        ...

    def set_default(self, key: str) -> Repository:
        """Make this repository its project's default and clear the flag on the project's
        other repositories, in one step. An existing default keeps its `set_as_default_at`.
        (Adding or updating a repository with the flag set does the same.)
        Raises NotFound; Conflict if a concurrent unit of work set another default first.
        """
        ...

    def mark_fetched(self, key: str) -> Repository:
        """Record that the repository was fetched now (`last_fetched_at`). Raises NotFound."""
        ...


class Worktrees(EntityRepository[Worktree], Protocol):
    """Git worktrees of repositories; paths are unique, and the status follows its state
    machine whichever method writes it."""

    def list(
        self, *, repository_id: str | None = None, status: WorktreeStatus | None = None
    ) -> builtins.list[Worktree]:
        """Worktrees, oldest first, optionally of one repository and/or in one status."""
        ...

    def find_by_path(self, path: str) -> Worktree | None:
        """The worktree at this path (paths are unique)."""
        ...

    def move_to(self, key: str, status: WorktreeStatus) -> Worktree:
        """Change the status: active -> cleaning | removed, cleaning -> removed | active.

        Raises NotFound, InvalidTransition, Conflict (it moved concurrently).
        """
        ...


class Settings(EntityRepository[Setting], Protocol):
    """Typed settings. Every write, `update` included, obeys a default setting's rules (its
    type, allowed values, bounds, whole numbers; key, type and default fixed); a default
    setting cannot be deleted (Protected); a changed value records `SettingChanged`."""

    def list(self, *, category: SettingCategory | None = None) -> builtins.list[Setting]:
        """Settings by key, optionally of one category."""
        ...

    def by_key(self, key: str) -> Setting:
        """The setting with this key. Raises NotFound (field `key`)."""
        ...

    def value(self, key: str) -> SettingValue:
        """The setting's current value, decoded. Raises NotFound."""
        ...

    def value_as(self, key: str, kind: type[T]) -> T:
        """The value, checked to be a `kind` (int, float, str, bool, list, dict).

        Raises NotFound; InvalidValue if the stored value is of another type.
        """
        ...

    def set_value(self, key: str, value: SettingValue) -> Setting:
        """Store a user's value: checked against the setting's `value_type` (and, for a
        known default setting, its allowed values or minimum); sets `user_modified_at`.
        Raises NotFound, InvalidValue.
        """
        ...

    def reset(self, key: str) -> Setting:
        """Restore the default value and clear `user_modified_at`.

        Raises NotFound; InvalidValue if the setting has no default.
        """
        ...


class Templates(EntityRepository[Template], Protocol):
    """Feature-request templates; names are unique. A built-in template cannot be deleted
    (Protected, by any path): deactivate it. Their placeholders have a port of their own,
    `TemplatePlaceholders`."""

    def list(
        self, *, category: TemplateCategory | None = None, include_deactivated: bool = False
    ) -> builtins.list[Template]:
        """Templates by name; deactivated ones only when asked."""
        ...

    def find_by_name(self, name: str) -> Template | None:
        """The template with this name (names are unique)."""
        ...

    def record_use(self, key: str) -> Template:
        """Add one to `usage_count`, atomically (safe under concurrent renders).

        Raises NotFound.
        """
        ...

    def deactivate(self, key: str) -> Template:
        """Hide the template from listings and refuse to render it (`Protected`); this is how
        a built-in template is retired. A deactivated template keeps the time it was first
        deactivated. Raises NotFound."""
        ...

    def reactivate(self, key: str) -> Template:
        """Bring a deactivated template back into listings and rendering. Raises NotFound."""
        ...


class TemplatePlaceholders(EntityRepository[TemplatePlaceholder], Protocol):
    """The `{{name}}` placeholders of templates; they go with their template when it is
    deleted. `add` raises AlreadyExists (the name is taken in the template) and
    ReferenceMissing (no such template); `delete` is audited like every hard delete."""

    def list(self, *, template_id: str) -> builtins.list[TemplatePlaceholder]:
        """The template's placeholders by `order_index`, then name."""
        ...
