"""Templates and their placeholders."""

from __future__ import annotations

import builtins

from agentkeel.domain.errors import Protected
from agentkeel.domain.workspace import (
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    TemplateRendered,
)
from agentkeel.ports.store import Asc, Eq, IsNull, Where
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import TEMPLATE_PLACEHOLDERS, TEMPLATES


class TemplatesTable(TableRepository[Template]):
    entity = Template

    def list(
        self, *, category: TemplateCategory | None = None, include_deactivated: bool = False
    ) -> builtins.list[Template]:
        where: builtins.list[Where] = (
            [] if include_deactivated else [IsNull(TEMPLATES.deactivated_at)]
        )
        where += self._eq_filters(category=category)
        return self._select(where, [Asc(TEMPLATES.name)])

    def find_by_name(self, name: str) -> Template | None:
        return self._first([Eq(TEMPLATES.name, name)])

    def record_use(self, key: str) -> Template:
        template = self._increment(key, TEMPLATES.usage_count)
        self._record(TemplateRendered(template.id))
        return template

    def deactivate(self, key: str) -> Template:
        template = self.get(key)
        template.deactivate(self._store.clock.now())
        return self.update(template)

    def reactivate(self, key: str) -> Template:
        template = self.get(key)
        template.reactivate()
        return self.update(template)

    def _before_delete(self, template: Template) -> None:
        if template.is_built_in:
            raise Protected(
                "template", template.id, "is built in: deactivate it instead of deleting it"
            )


class TemplatePlaceholdersTable(TableRepository[TemplatePlaceholder]):
    entity = TemplatePlaceholder

    def list(self, *, template_id: str) -> builtins.list[TemplatePlaceholder]:
        return self._select(
            [Eq(TEMPLATE_PLACEHOLDERS.template_id, template_id)],
            [Asc(TEMPLATE_PLACEHOLDERS.order_index), Asc(TEMPLATE_PLACEHOLDERS.name)],
        )
