"""Requirements: required fields, priorities, validation flag, finders; their links to
features: same project, unique pair, both sides CASCADE."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.backlog import Requirement, RequirementFeature, RequirementPriority
from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, ReferenceMissing
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

P = RequirementPriority


def test_category_and_description_are_required_priority_defaults_to_medium(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match="category"):
        Requirement(project_id=project.id, description="x")  # type: ignore[call-arg]
    with pytest.raises(InvalidValue, match="description"):
        Requirement(project_id=project.id, category="functional")  # type: ignore[call-arg]
    with pytest.raises(InvalidValue, match="priority"):
        factories.requirement(uow, project, priority="must")
    requirement = factories.requirement(uow, project, source="interview 3")
    assert requirement.priority is P.MEDIUM and requirement.source == "interview 3"
    assert not requirement.is_validated and requirement.created_at is not None
    assert uow.requirements.get(requirement.id) == requirement


def test_validate_keeps_the_first_time_and_invalidate_clears(uow: UnitOfWork) -> None:
    requirement = factories.requirement(uow, factories.project(uow))
    first = uow.requirements.validate(requirement.id)
    assert first.is_validated
    uow.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
    assert uow.requirements.validate(requirement.id).validated_at == first.validated_at
    assert not uow.requirements.invalidate(requirement.id).is_validated
    with pytest.raises(NotFound):
        uow.requirements.validate("missing")


def test_finders_filter_by_category_priority_and_validation(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    a = factories.requirement(uow, project, "a", priority=P.CRITICAL)
    factories.requirement(uow, project, "b", category="security")
    factories.requirement(uow, factories.project(uow, "Other"), "elsewhere")
    uow.requirements.validate(a.id)

    def described(**filters: object) -> list[str]:
        found = uow.requirements.find_by_project(project.id, **filters)  # type: ignore[arg-type]
        return [r.description for r in found]

    assert described() == ["a", "b"]
    assert described(category="security") == ["b"]
    assert described(priority=P.CRITICAL) == ["a"]
    assert described(validated=True) == ["a"]
    assert described(validated=False) == ["b"]
    with pytest.raises(InvalidValue, match="validated"):
        described(validated="yes")


def test_a_requirement_stays_in_its_project(uow: UnitOfWork) -> None:
    requirement = factories.requirement(uow, factories.project(uow))
    requirement.project_id = factories.project(uow, "Other").id
    with pytest.raises(InvalidValue, match="project_id"):
        uow.requirements.update(requirement)


def test_links_same_project_unique_pair(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    requirement = factories.requirement(uow, project)
    login, export = factories.feature(uow, project), factories.feature(uow, project, "Export")
    other = factories.feature(uow, factories.project(uow, "Other"))
    uow.requirement_features.link(requirement.id, login.id)
    uow.requirement_features.link(requirement.id, export.id)
    with pytest.raises(AlreadyExists):
        uow.requirement_features.link(requirement.id, login.id)
    with pytest.raises(InvalidValue, match="feature_id"):
        uow.requirement_features.link(requirement.id, other.id)
    with pytest.raises(InvalidValue, match="feature_id"):
        uow.requirement_features.add(
            RequirementFeature(requirement_id=requirement.id, feature_id=other.id)
        )
    with pytest.raises(ReferenceMissing):
        uow.requirement_features.link(requirement.id, "missing")
    assert [f.name for f in uow.requirement_features.features_of(requirement.id)] == [
        "Login",
        "Export",
    ]
    assert [r.id for r in uow.requirement_features.requirements_of(login.id)] == [requirement.id]
    uow.requirement_features.unlink(requirement.id, login.id)
    assert [f.name for f in uow.requirement_features.features_of(requirement.id)] == ["Export"]
    with pytest.raises(NotFound):
        uow.requirement_features.unlink(requirement.id, login.id)
    assert uow.requirement_features.features_of("unknown") == []


def test_links_go_with_either_side(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    requirement = factories.requirement(uow, project)
    other = factories.requirement(uow, project, "other")
    feature = factories.feature(uow, project)
    uow.requirement_features.link(requirement.id, feature.id)
    uow.requirement_features.link(other.id, feature.id)
    assert uow.requirements.delete(requirement.id) == {"requirements": 1, "requirement_features": 1}
    assert uow.features.delete(feature.id) == {"features": 1, "requirement_features": 1}
    assert uow.requirement_features.count() == 0
