"""Workspace rules that span more than one repository call, or decide policy."""

from __future__ import annotations

from collections.abc import Mapping

from agentkeel.domain.errors import AlreadyExists, Protected
from agentkeel.domain.workspace import (
    DEFAULT_SETTINGS,
    Project,
    Repository,
    Setting,
    SettingDefinition,
    SettingValue,
    Template,
    render_template,
)
from agentkeel.ports.unit_of_work import UnitOfWork


def archive_project(uow: UnitOfWork, project_id: str) -> Project:
    """Hide a project from default listings; it stays readable by id. Raises NotFound."""
    return uow.projects.archive(project_id)


def unarchive_project(uow: UnitOfWork, project_id: str) -> Project:
    """Bring an archived project back into listings. Raises NotFound."""
    return uow.projects.unarchive(project_id)


def delete_project(uow: UnitOfWork, project_id: str) -> dict[str, int]:
    """Hard-delete a project with all it holds (repositories, worktrees, ...).

    Returns the rows removed per table. One audit entry records those counts and the
    project's state before, and outlives it. Raises NotFound.
    """
    return uow.projects.delete(project_id)


def set_default_repository(uow: UnitOfWork, repository_id: str) -> Repository:
    """Make a repository its project's default, clearing the previous default at once."""
    return uow.repositories.set_default(repository_id)


def missing_default_settings(uow: UnitOfWork) -> list[SettingDefinition]:
    """The default settings the database lacks (only reads: a read-only unit of work will do)."""
    present = {setting.key for setting in uow.settings.list()}
    return [definition for definition in DEFAULT_SETTINGS if definition.key not in present]


def seed_default_settings(uow: UnitOfWork) -> list[Setting]:
    """Insert whichever default settings (CO's 16, ours) are missing; return those inserted.

    Existing settings, and the values users gave them, are left alone, so this is safe to
    run at every start-up, even by several processes at once.
    """
    added = []
    for definition in missing_default_settings(uow):
        try:
            added.append(uow.settings.add(definition.new_setting()))
        except AlreadyExists:
            continue  # a concurrent start-up seeded it first
    return added


def change_setting(uow: UnitOfWork, key: str, value: SettingValue) -> Setting:
    """Set a setting to a user's value (validated). Raises NotFound, InvalidValue."""
    return uow.settings.set_value(key, value)


def reset_setting(uow: UnitOfWork, key: str) -> Setting:
    """Restore a setting's default and clear `user_modified_at`."""
    return uow.settings.reset(key)


def render(uow: UnitOfWork, template_id: str, values: Mapping[str, str]) -> str:
    """Render a template with `values` and count the use (`domain.workspace.render_template`
    says how values are chosen and checked).

    A blank value (empty or only whitespace) does not satisfy a required placeholder, and a
    placeholder's pattern checks only values that are not blank, giving up after
    PATTERN_TIMEOUT seconds. Raises NotFound; Protected if the template is deactivated;
    InvalidValue (naming the placeholder) for a required value missing or blank, a value not
    a string, too long, not matching its pattern (or too slow to), a value for no
    placeholder; InvalidValue for `values` not a mapping of strings, a `{{name}}` in the text
    with no placeholder, or a rendered text over 1,000,000 characters. A render that fails
    counts nothing.
    """
    template = uow.templates.get(template_id)
    if template.is_deactivated:
        raise Protected("template", template_id, "is deactivated and cannot be rendered")
    placeholders = uow.template_placeholders.list(template_id=template_id)
    text = render_template(template, placeholders, values)
    uow.templates.record_use(template_id)
    return text


def deactivate_template(uow: UnitOfWork, template_id: str) -> Template:
    """Hide a template from listings and refuse to render it (kept if already set); this is
    how a built-in template is retired. Raises NotFound."""
    template = uow.templates.get(template_id)
    template.deactivate(uow.clock.now())
    return uow.templates.update(template)


def delete_template(uow: UnitOfWork, template_id: str) -> dict[str, int]:
    """Hard-delete a custom template and its placeholders (audited).

    Raises NotFound; Protected for a built-in template, which is deactivated instead.
    """
    return uow.templates.delete(template_id)
