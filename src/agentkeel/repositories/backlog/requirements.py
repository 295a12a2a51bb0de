"""Requirements of a project and the features that meet them."""

from __future__ import annotations

import builtins

from agentkeel.domain.backlog import (
    Feature,
    Requirement,
    RequirementFeature,
    RequirementPriority,
)
from agentkeel.domain.errors import (
    InvalidValue,
    NotFound,
)
from agentkeel.ports.store import (
    AnyRelated,
    Eq,
    IsNull,
    NotNull,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import OLDEST_FIRST, fixed
from agentkeel.schema import table_of
from agentkeel.schema.columns import FEATURES, REQUIREMENT_FEATURES, REQUIREMENTS


class RequirementsTable(TableRepository[Requirement]):
    entity = Requirement

    def find_by_project(
        self,
        project_id: str,
        *,
        category: str | None = None,
        priority: RequirementPriority | None = None,
        validated: bool | None = None,
    ) -> builtins.list[Requirement]:
        filters = self._eq_filters(category=category, priority=priority)
        match validated:
            case None:
                pass
            case True:
                filters.append(NotNull(REQUIREMENTS.validated_at))
            case False:
                filters.append(IsNull(REQUIREMENTS.validated_at))
            case _:
                raise InvalidValue(
                    self._label, "validated", validated, "must be True, False or None"
                )
        return self._select([Eq(REQUIREMENTS.project_id, project_id), *filters], OLDEST_FIRST)

    def validate(self, key: str) -> Requirement:
        requirement = self.get(key)
        requirement._raise_flag("validated_at", self._store.clock.now())
        return self.update(requirement)

    def invalidate(self, key: str) -> Requirement:
        requirement = self.get(key)
        requirement._lower_flag("validated_at")
        return self.update(requirement)

    def _before_write(self, requirement: Requirement, stored: Row | None) -> None:
        fixed(self._label, requirement, stored, (REQUIREMENTS.project_id,))


class RequirementFeaturesTable(TableRepository[RequirementFeature]):
    entity = RequirementFeature

    def link(self, requirement_id: str, feature_id: str) -> RequirementFeature:
        return self.add(RequirementFeature(requirement_id=requirement_id, feature_id=feature_id))

    def unlink(self, requirement_id: str, feature_id: str) -> None:
        pair = [
            Eq(REQUIREMENT_FEATURES.requirement_id, requirement_id),
            Eq(REQUIREMENT_FEATURES.feature_id, feature_id),
        ]
        link = self._first(pair)
        if link is None:
            raise NotFound(self._label, f"{requirement_id}->{feature_id}")
        self.delete(link.id)

    def features_of(self, requirement_id: str) -> builtins.list[Feature]:
        linked = AnyRelated(
            REQUIREMENT_FEATURES.TABLE,
            REQUIREMENT_FEATURES.feature_id,
            (Eq(REQUIREMENT_FEATURES.requirement_id, requirement_id),),
        )
        return self._uow.features.matching([linked], OLDEST_FIRST)

    def requirements_of(self, feature_id: str) -> builtins.list[Requirement]:
        linked = AnyRelated(
            REQUIREMENT_FEATURES.TABLE,
            REQUIREMENT_FEATURES.requirement_id,
            (Eq(REQUIREMENT_FEATURES.feature_id, feature_id),),
        )
        return self._uow.requirements.matching([linked], OLDEST_FIRST)

    def _before_write(self, link: RequirementFeature, stored: Row | None) -> None:
        requirement = self._store.get(table_of(Requirement), link.requirement_id)
        feature = self._store.get(table_of(Feature), link.feature_id)
        if (
            requirement is not None
            and feature is not None
            and requirement[REQUIREMENTS.project_id] != feature[FEATURES.project_id]
        ):
            raise InvalidValue(
                self._label,
                "feature_id",
                link.feature_id,
                f"is a feature of project {feature[FEATURES.project_id]!r}, not of the "
                f"requirement's project {requirement[REQUIREMENTS.project_id]!r}",
            )
