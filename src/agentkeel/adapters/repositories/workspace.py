"""Repositories of the workspace context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
from typing import TypeVar

from agentkeel.adapters.repositories.base import TableRepository, Work
from agentkeel.adapters.store import Asc, Eq, IsNull, NotNull, Where
from agentkeel.domain.errors import InvalidValue, NotFound
from agentkeel.domain.workspace import (
    SETTING_DEFINITIONS,
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
    encode_setting,
    setting_problem,
)
from agentkeel.schema import table_of

T = TypeVar("T")


class ProjectRepository(TableRepository[Project]):
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


class RepositoryRepository(TableRepository[Repository]):
    entity = Repository

    def list(self, *, project_id: str | None = None) -> builtins.list[Repository]:
        where = [] if project_id is None else [Eq("project_id", project_id)]
        return self._select(where, [Asc("name")])

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


class WorktreeRepository(TableRepository[Worktree]):
    entity = Worktree

    def list(
        self, *, repository_id: str | None = None, status: WorktreeStatus | None = None
    ) -> builtins.list[Worktree]:
        where: builtins.list[Where] = []
        if repository_id is not None:
            where.append(Eq("repository_id", repository_id))
        if status is not None:
            where.append(Eq("status", WorktreeStatus(status).value))
        return self._select(where, [Asc("created_at")])

    def find_by_path(self, path: str) -> Worktree | None:
        return self._first([Eq("path", path)])

    def move_to(self, key: str, status: WorktreeStatus) -> Worktree:
        worktree = self.get(key)
        worktree.status = status
        return self.update(worktree)


class SettingRepository(TableRepository[Setting]):
    entity = Setting

    def list(self, *, category: SettingCategory | None = None) -> builtins.list[Setting]:
        where = [] if category is None else [Eq("category", SettingCategory(category).value)]
        return self._select(where, [Asc("key")])

    def by_key(self, key: str) -> Setting:
        setting = self._first([Eq("key", key)])
        if setting is None:
            raise NotFound("setting", key, field="key")
        return setting

    def value(self, key: str) -> SettingValue:
        return self.by_key(key).typed_value

    def value_as(self, key: str, kind: type[T]) -> T:
        value = self.value(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidValue("setting", key, value, f"is not a {kind.__name__}")
        return value

    def set_value(self, key: str, value: SettingValue) -> Setting:
        setting = self.by_key(key)
        definition = SETTING_DEFINITIONS.get(key)
        if definition is not None:
            definition.check(value)
        elif (problem := setting_problem(setting.value_type, value)) is not None:
            raise InvalidValue("setting", key, value, problem)
        try:
            setting.value = encode_setting(value)
        except (TypeError, ValueError) as exc:
            raise InvalidValue("setting", key, value, f"is not JSON: {exc}") from None
        setting.user_modified_at = setting.user_modified_at or self._store.clock.now()
        return self.update(setting)

    def reset(self, key: str) -> Setting:
        setting = self.by_key(key)
        if setting.default_value is None:
            raise InvalidValue("setting", key, None, "has no default value to reset to")
        setting.value = setting.default_value
        setting.user_modified_at = None
        return self.update(setting)


class PlaceholderRepository(TableRepository[TemplatePlaceholder]):
    entity = TemplatePlaceholder


class TemplateRepository(TableRepository[Template]):
    entity = Template

    def __init__(self, work: Work) -> None:
        super().__init__(work)
        self._placeholders = PlaceholderRepository(work)

    def list(
        self, *, category: TemplateCategory | None = None, include_deactivated: bool = False
    ) -> builtins.list[Template]:
        where: builtins.list[Where] = [] if include_deactivated else [IsNull("deactivated_at")]
        if category is not None:
            where.append(Eq("category", TemplateCategory(category).value))
        return self._select(where, [Asc("name")])

    def find_by_name(self, name: str) -> Template | None:
        return self._first([Eq("name", name)])

    def placeholders(self, template_id: str) -> builtins.list[TemplatePlaceholder]:
        return self._placeholders._select(
            [Eq("template_id", template_id)], [Asc("order_index"), Asc("name")]
        )

    def add_placeholder(self, placeholder: TemplatePlaceholder) -> TemplatePlaceholder:
        return self._placeholders.add(placeholder)

    def update_placeholder(self, placeholder: TemplatePlaceholder) -> TemplatePlaceholder:
        return self._placeholders.update(placeholder)

    def remove_placeholder(self, key: str) -> None:
        self._placeholders.delete(key)

    def record_use(self, key: str) -> Template:
        self._check_query([Eq("id", key)])
        stamps = {column: self._store.clock.now() for column in Template.stamped_on_update}
        if not self._store.update(table_of(Template), [Eq("id", key)], stamps, {"usage_count": 1}):
            raise NotFound(self._label, key)
        return self.get(key)
