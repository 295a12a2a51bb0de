"""Workspace rules that span more than one repository call, or decide policy."""

from __future__ import annotations

from collections.abc import Mapping

from agentkeel.domain.errors import AlreadyExists, Protected
from agentkeel.domain.workspace import (
    DEFAULT_SETTINGS,
    Setting,
    SettingDefinition,
    render_template,
)
from agentkeel.ports.unit_of_work import UnitOfWork


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
