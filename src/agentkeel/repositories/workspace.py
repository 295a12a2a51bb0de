"""Repositories of the workspace context: only what is particular to each aggregate.

The rules and events of an aggregate live in its `_before_write` / `_after_write` /
`_before_delete`, so that `add`, `update`, `delete` and every finder-specific method obey
them alike; services add only policy that spans aggregates.
"""

from __future__ import annotations

import builtins
from typing import TypeVar

from agentkeel.domain.errors import InvalidValue, NotFound, Protected
from agentkeel.domain.workspace import (
    SETTING_DEFINITIONS,
    DefaultRepositoryChanged,
    Project,
    ProjectArchived,
    ProjectUnarchived,
    Repository,
    Setting,
    SettingCategory,
    SettingChanged,
    SettingValue,
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    TemplateRendered,
    Worktree,
    WorktreeStatus,
    encode_setting,
    setting_problem,
)
from agentkeel.ports.store import Asc, Eq, IsNull, NotNull, Row, Where
from agentkeel.repositories.base import TableRepository

T = TypeVar("T")


def _was_set(stored: Row | None, flag: str) -> bool:
    return stored is not None and stored[flag] is not None


class ProjectsTable(TableRepository[Project]):
    entity = Project

    def list(
        self, *, include_archived: bool = False, limit: int | None = None, offset: int = 0
    ) -> builtins.list[Project]:
        where: builtins.list[Where] = [] if include_archived else [IsNull("archived_at")]
        return self._select(where, [Asc("created_at")], limit, offset)

    def archive(self, key: str) -> Project:
        project = self.get(key)
        project.archive(self._store.clock.now())
        return self.update(project)

    def unarchive(self, key: str) -> Project:
        project = self.get(key)
        project.unarchive()
        return self.update(project)

    def _after_write(self, project: Project, stored: Row | None) -> None:
        was_archived = _was_set(stored, "archived_at")
        if project.is_archived and not was_archived:
            self._record(ProjectArchived(project.id))
        elif was_archived and not project.is_archived:
            self._record(ProjectUnarchived(project.id))


class RepositoriesTable(TableRepository[Repository]):
    entity = Repository

    def list(self, *, project_id: str | None = None) -> builtins.list[Repository]:
        return self._select(self._eq_filters(project_id=project_id), [Asc("name")])

    def find_by_name(self, project_id: str, name: str) -> Repository | None:
        return self._first([Eq("project_id", project_id), Eq("name", name)])

    def find_by_url(self, url: str) -> builtins.list[Repository]:
        return self._select([Eq("url", url)])

    def default_of(self, project_id: str) -> Repository | None:
        return self._first([Eq("project_id", project_id), NotNull("set_as_default_at")])

    def set_default(self, key: str) -> Repository:
        repository = self.get(key)
        repository.set_as_default_at = repository.set_as_default_at or self._store.clock.now()
        return self.update(repository)

    def mark_fetched(self, key: str) -> Repository:
        repository = self.get(key)
        repository.last_fetched_at = self._store.clock.now()
        return self.update(repository)

    def delete(self, key: str) -> dict[str, int]:
        # The workflows whose primary repository this is keep one: their oldest link left
        # becomes it, as `workflow_repositories.unlink` does. (Imported here: the workflows
        # repositories build on this module.)
        from agentkeel.repositories.workflows import WorkflowRepositoriesTable

        links = WorkflowRepositoriesTable(self._state)
        primary: list[Where] = [Eq("repository_id", self._key(key)), NotNull("set_primary_at")]
        with self._store.atomic():
            held = [row["workflow_id"] for row in self._store.select(links._table, primary)]
            removed = super().delete(key)
            for workflow_id in held:
                links.promote_oldest(workflow_id)
        return removed

    def _after_write(self, repository: Repository, stored: Row | None) -> None:
        kept = _was_set(stored, "set_as_default_at") and (
            stored is not None and stored["project_id"] == repository.project_id
        )
        if repository.is_default and not kept:
            self._record(DefaultRepositoryChanged(repository.project_id, repository.id))


class WorktreesTable(TableRepository[Worktree]):
    entity = Worktree

    def list(
        self, *, repository_id: str | None = None, status: WorktreeStatus | None = None
    ) -> builtins.list[Worktree]:
        where = self._eq_filters(repository_id=repository_id, status=status)
        return self._select(where, [Asc("created_at")])

    def find_by_path(self, path: str) -> Worktree | None:
        return self._first([Eq("path", path)])

    def move_to(self, key: str, status: WorktreeStatus) -> Worktree:
        worktree = self.get(key)
        worktree.status = status
        return self.update(worktree)


class SettingsTable(TableRepository[Setting]):
    entity = Setting

    def list(self, *, category: SettingCategory | None = None) -> builtins.list[Setting]:
        return self._select(self._eq_filters(category=category), [Asc("key")])

    def by_key(self, key: str) -> Setting:
        setting = self._first([Eq("key", key)])
        if setting is None:
            raise NotFound("setting", key, field="key")
        return setting

    def value(self, key: str) -> SettingValue:
        return self.by_key(key).typed_value

    def value_as(self, key: str, kind: type[T]) -> T:
        if kind not in (int, float, str, bool, list, dict):
            raise InvalidValue(
                "setting", "kind", kind, "must be int, float, str, bool, list or dict"
            )
        value = self.value(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidValue(
                "setting", key, value, f"holds {_a(type(value).__name__)}, not {_a(kind.__name__)}"
            )
        return value

    def set_value(self, key: str, value: SettingValue) -> Setting:
        setting = self.by_key(key)
        _check_setting_value(setting, value)
        setting.value = encode_setting(value)
        setting.user_modified_at = setting.user_modified_at or self._store.clock.now()
        return self.update(setting)

    def reset(self, key: str) -> Setting:
        setting = self.by_key(key)
        if setting.default_value is None:
            raise InvalidValue("setting", key, None, "has no default value to reset to")
        setting.value = setting.default_value
        setting.user_modified_at = None
        return self.update(setting)

    def _before_write(self, setting: Setting, stored: Row | None) -> None:
        if stored is not None and stored["key"] != setting.key and stored["key"] in DEFINED:
            raise Protected("setting", stored["key"], "is a default setting: its key is fixed")
        definition = SETTING_DEFINITIONS.get(setting.key)
        if definition is not None:
            definition.check_setting(setting)
        # A changed value other than the default is a user's value in force.
        user_value = setting.default_value is None or setting.value != setting.default_value
        if stored is not None and stored["value"] != setting.value and user_value:
            setting.user_modified_at = setting.user_modified_at or self._store.clock.now()

    def _after_write(self, setting: Setting, stored: Row | None) -> None:
        if stored is not None and stored["value"] != setting.value:
            self._record(SettingChanged(setting.key, setting.typed_value))

    def _before_delete(self, setting: Setting) -> None:
        if setting.key in DEFINED:
            raise Protected(
                "setting", setting.key, "is a default setting: reset it instead of deleting it"
            )


DEFINED = frozenset(SETTING_DEFINITIONS)


def _check_setting_value(setting: Setting, value: SettingValue) -> None:
    """Refuse a value the setting cannot take, naming the setting's key as the field."""
    definition = SETTING_DEFINITIONS.get(setting.key)
    if definition is not None:
        definition.check(value)
    elif (problem := setting_problem(setting.value_type, value)) is not None:
        raise InvalidValue("setting", setting.key, value, problem)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


class TemplatesTable(TableRepository[Template]):
    entity = Template

    def list(
        self, *, category: TemplateCategory | None = None, include_deactivated: bool = False
    ) -> builtins.list[Template]:
        where: builtins.list[Where] = [] if include_deactivated else [IsNull("deactivated_at")]
        where += self._eq_filters(category=category)
        return self._select(where, [Asc("name")])

    def find_by_name(self, name: str) -> Template | None:
        return self._first([Eq("name", name)])

    def record_use(self, key: str) -> Template:
        template = self._increment(key, "usage_count")
        self._record(TemplateRendered(template.id))
        return template

    def _before_delete(self, template: Template) -> None:
        if template.is_built_in:
            raise Protected(
                "template", template.id, "is built in: deactivate it instead of deleting it"
            )


class TemplatePlaceholdersTable(TableRepository[TemplatePlaceholder]):
    entity = TemplatePlaceholder

    def list(self, *, template_id: str) -> builtins.list[TemplatePlaceholder]:
        return self._select([Eq("template_id", template_id)], [Asc("order_index"), Asc("name")])
