"""Workflow repositories: links within the workflow's project, one primary always."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, ReferenceMissing
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def _tick(uow: UnitOfWork) -> None:
    uow.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]


def _primaries(uow: UnitOfWork, workflow_id: str) -> list[str]:
    return [
        link.repository_id
        for link in uow.workflow_repositories.of_workflow(workflow_id)
        if link.is_primary
    ]


def test_the_first_link_is_primary_and_setting_one_clears_the_others(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api, web, docs = (factories.repository(uow, project, n) for n in ("api", "web", "docs"))
    workflow = factories.workflow(uow, project)
    assert uow.workflow_repositories.primary_of(workflow.id) is None
    first = uow.workflow_repositories.link(workflow.id, api.id)
    assert first.is_primary
    _tick(uow)
    assert not uow.workflow_repositories.link(workflow.id, web.id).is_primary
    _tick(uow)
    assert uow.workflow_repositories.link(workflow.id, docs.id, primary=True).is_primary
    assert _primaries(uow, workflow.id) == [docs.id]
    assert uow.workflow_repositories.set_primary(workflow.id, web.id).is_primary
    assert _primaries(uow, workflow.id) == [web.id]
    assert uow.workflow_repositories.set_primary(workflow.id, web.id).is_primary  # idempotent
    primary = uow.workflow_repositories.primary_of(workflow.id)
    assert primary is not None and primary.id == web.id
    assert [link.repository_id for link in uow.workflow_repositories.of_workflow(workflow.id)] == [
        api.id,
        web.id,
        docs.id,
    ]


def test_unlinking_the_primary_promotes_the_oldest_link_left(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api, web, docs = (factories.repository(uow, project, n) for n in ("api", "web", "docs"))
    workflow = factories.workflow(uow, project)
    for repo in (api, web, docs):
        uow.workflow_repositories.link(workflow.id, repo.id)
        _tick(uow)
    uow.workflow_repositories.set_primary(workflow.id, docs.id)
    uow.workflow_repositories.unlink(workflow.id, web.id)  # not the primary: nothing moves
    assert _primaries(uow, workflow.id) == [docs.id]
    uow.workflow_repositories.unlink(workflow.id, docs.id)
    assert _primaries(uow, workflow.id) == [api.id]
    [link] = uow.workflow_repositories.of_workflow(workflow.id)
    uow.workflow_repositories.delete(link.id)  # the generic path promotes too (none left)
    assert uow.workflow_repositories.of_workflow(workflow.id) == []
    with pytest.raises(NotFound):
        uow.workflow_repositories.unlink(workflow.id, api.id)
    with pytest.raises(NotFound):
        uow.workflow_repositories.set_primary(workflow.id, api.id)


def test_links_stay_within_the_project_and_are_unique(uow: UnitOfWork) -> None:
    project, other = factories.project(uow), factories.project(uow, "Other")
    api = factories.repository(uow, project)
    foreign = factories.repository(uow, other, "foreign")
    workflow = factories.workflow(uow, project)
    with pytest.raises(InvalidValue) as error:
        uow.workflow_repositories.link(workflow.id, foreign.id)
    assert error.value.field == "repository_id"
    uow.workflow_repositories.link(workflow.id, api.id)
    with pytest.raises(AlreadyExists):
        uow.workflow_repositories.link(workflow.id, api.id)
    with pytest.raises(ReferenceMissing):
        uow.workflow_repositories.link("x" * 21, api.id)


def test_deleting_the_primary_repository_promotes_the_oldest_link_left(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api, web, docs = (factories.repository(uow, project, n) for n in ("api", "web", "docs"))
    workflow, other = factories.workflow(uow, project), factories.workflow(uow, project, name="x")
    for repo in (api, web, docs):
        uow.workflow_repositories.link(workflow.id, repo.id)
        _tick(uow)
    uow.workflow_repositories.link(other.id, docs.id)
    uow.workflow_repositories.set_primary(workflow.id, docs.id)
    removed = uow.repositories.delete(docs.id)
    assert removed["workflow_repositories"] == 2
    assert _primaries(uow, workflow.id) == [api.id]
    assert uow.workflow_repositories.of_workflow(other.id) == []
    uow.repositories.delete(web.id)  # not the primary: nothing moves
    assert _primaries(uow, workflow.id) == [api.id]


def test_update_cannot_clear_the_primary_or_move_a_link(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api, web = factories.repository(uow, project), factories.repository(uow, project, "web")
    workflow = factories.workflow(uow, project)
    link = uow.workflow_repositories.link(workflow.id, api.id)
    link.set_primary_at = None
    with pytest.raises(InvalidValue) as error:
        uow.workflow_repositories.update(link)
    assert error.value.field == "set_primary_at"
    link = uow.workflow_repositories.get(link.id)
    link.repository_id = web.id
    with pytest.raises(InvalidValue):
        uow.workflow_repositories.update(link)
    assert _primaries(uow, workflow.id) == [api.id]


def test_deleting_the_workflow_removes_its_links(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    workflow = factories.workflow(uow, project)
    uow.workflow_repositories.link(workflow.id, api.id)
    assert uow.workflows.delete(workflow.id) == {"workflows": 1, "workflow_repositories": 1}
    assert uow.repositories.get(api.id).id == api.id
