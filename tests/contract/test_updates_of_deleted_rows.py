"""An update of a row deleted since it was read is NotFound on every table, also when the row
went with its parent (a cascade), whose absence the table's own rules would notice first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from agentkeel.domain.errors import NotFound
from agentkeel.domain.planning import InitiativeRepositoryLink, ReviewComment
from agentkeel.domain.workflows import DiscoveredFile
from agentkeel.ports.store import Eq
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories, factories_tree
from tests.contract.workflows import plan_data


@dataclass(frozen=True)
class Case:
    """A row of `port` whose delete goes with the delete of a row of `parent_port`."""

    port: str
    parent_port: str
    # Stores both; returns the row's key, the parent's key, and a change to the row.
    setup: Callable[[UnitOfWork], tuple[str, str, Callable[[Any], None]]]


def _change(**values: Any) -> Callable[[Any], None]:
    def change(entity: Any) -> None:
        for name, value in values.items():
            setattr(entity, name, value)

    return change


def _plan_step(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    plan = plan_data.plan(uow)
    step = plan_data.plan_step(uow, plan)
    return step.id, plan.id, _change(title="Renamed")


def _plan_step_file(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    plan = plan_data.plan(uow)
    step = plan_data.plan_step(uow, plan)
    file = plan_data.step_file(uow, step)
    return file.id, step.id, _change(description="Touched")


def _sub_feature(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    feature = factories.feature(uow, factories.project(uow))
    form = factories.sub_feature(uow, feature)
    return form.id, feature.id, _change(name="Renamed")


def _placeholder(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    template = factories.template(uow)
    placeholder = factories.placeholder(uow, template, "entity")
    return placeholder.id, template.id, _change(display_name="Thing")


def _phase_dependency(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    initiative = factories.initiative(uow, factories.project(uow))
    a, b, c = (factories.phase(uow, initiative, name) for name in "abc")
    edge = uow.phase_dependencies.create(a.id, b.id)
    return edge.id, initiative.id, _change(depends_on_phase_id=c.id)


def _task_dependency(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    project = factories.project(uow)
    a, b, c = (factories.task(uow, project, name) for name in "abc")
    edge = uow.task_dependencies.create(a.id, b.id)
    return edge.id, project.id, _change(depends_on_task_id=c.id)


def _requirement_feature(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    project = factories.project(uow)
    requirement = factories.requirement(uow, project)
    one, two = factories.feature(uow, project, "One"), factories.feature(uow, project, "Two")
    link = uow.requirement_features.link(requirement.id, one.id)
    return link.id, requirement.id, _change(feature_id=two.id)


def _initiative_repository(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    project = factories.project(uow)
    api, web = factories.repository(uow, project), factories.repository(uow, project, "web")
    initiative = factories.initiative(uow, project)
    link = uow.initiative_repositories.add(
        InitiativeRepositoryLink(initiative_id=initiative.id, repository_id=api.id)
    )
    return link.id, initiative.id, _change(repository_id=web.id)


def _workflow_repository(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    project = factories.project(uow)
    api, web = factories.repository(uow, project), factories.repository(uow, project, "web")
    workflow = factories.workflow(uow, project)
    uow.workflow_repositories.link(workflow.id, api.id)
    link = uow.workflow_repositories.link(workflow.id, web.id)
    return link.id, workflow.id, _change(set_primary_at=datetime(2026, 3, 1, tzinfo=UTC))


def _discovered_file(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    workflow = plan_data.workflow(uow)
    step = plan_data.step(uow, workflow)
    file = uow.discovered_files.add(DiscoveredFile(workflow_step_id=step.id, file_path="a.py"))
    return file.id, workflow.id, _change(description="Found again")


def _worktree(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    repository = factories.repository(uow, factories.project(uow))
    worktree = factories.worktree(uow, repository)
    return worktree.id, repository.id, _change(branch_name="feature/two")


def _page(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    initiative = factories_tree.initiative(uow, factories.project(uow))
    root = factories_tree.page(uow, initiative, None, "Root")
    child = factories_tree.page(uow, initiative, root, "Child")
    return child.id, initiative.id, _change(title="Renamed")


def _review_comment(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    phase = factories.phase(uow, factories.initiative(uow, factories.project(uow)))
    comment = uow.review_comments.add(
        ReviewComment(
            phase_id=phase.id,
            file_path="a.py",
            line_number=1,
            line_type="added",  # type: ignore[arg-type]
            body="why?",
        )
    )
    return comment.id, phase.id, _change(body="why not?")


def _tool(uow: UnitOfWork) -> tuple[str, str, Callable[[Any], None]]:
    profile = factories.profile(uow)
    tool = factories.tool(uow, profile)
    return tool.id, profile.id, _change(tool_pattern="src/**")


CASES = [
    Case("implementation_plan_steps", "implementation_plans", _plan_step),
    Case("implementation_plan_step_files", "implementation_plan_steps", _plan_step_file),
    Case("sub_features", "features", _sub_feature),
    Case("template_placeholders", "templates", _placeholder),
    Case("phase_dependencies", "initiatives", _phase_dependency),
    Case("task_dependencies", "projects", _task_dependency),
    Case("requirement_features", "requirements", _requirement_feature),
    Case("initiative_repositories", "initiatives", _initiative_repository),
    Case("workflow_repositories", "workflows", _workflow_repository),
    Case("discovered_files", "workflows", _discovered_file),
    Case("worktrees", "repositories", _worktree),
    Case("pages", "initiatives", _page),
    Case("review_comments", "phases", _review_comment),
    Case("agent_profile_tools", "agent_profiles", _tool),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.port)
def test_updating_a_row_deleted_with_its_parent_is_not_found(uow: UnitOfWork, case: Case) -> None:
    key, parent, change = case.setup(uow)
    port = getattr(uow, case.port)
    read = port.get(key)
    getattr(uow, case.parent_port).delete(parent)
    assert port.find(key) is None, "the parent's delete takes the row with it"
    change(read)
    with pytest.raises(NotFound) as caught:
        port.update(read)
    assert (caught.value.key, caught.value.field) == (key, "id")
    assert caught.value.entity == type(read).label()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.port)
def test_updating_a_row_deleted_alone_is_not_found(uow: UnitOfWork, case: Case) -> None:
    key, _, change = case.setup(uow)
    port = getattr(uow, case.port)
    read = port.get(key)
    # Below the ports, as another unit of work's delete would be seen on PostgreSQL.
    factories.store_of(uow).delete(table_of(type(read)), [Eq("id", key)])
    change(read)
    with pytest.raises(NotFound) as caught:
        port.update(read)
    assert (caught.value.entity, caught.value.key) == (type(read).label(), key)
