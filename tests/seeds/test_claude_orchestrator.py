"""Seed 000, Claude Orchestrator: its verification steps, as far as the workspace, audit and
agents contexts reach (workflows and plans arrive with later contexts)."""

from __future__ import annotations

from agentkeel.database import Database
from agentkeel.domain.workspace import CO_SETTINGS, SettingCategory
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import workspace
from tests import factories


def test_step_2_foreign_keys_refer_to_real_rows(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    tree = factories.worktree(uow, repo)
    assert uow.repositories.get(repo.id).project_id == project.id
    assert uow.worktrees.get(tree.id).repository_id == repo.id


def test_step_3_deleting_a_project_removes_all_its_children(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    for name in ("api", "web", "docs"):
        repo = factories.repository(uow, project, name)
        factories.worktree(uow, repo, f"/wt/{name}")
    workspace.delete_project(uow, project.id)
    assert uow.projects.count() == 0
    assert uow.repositories.count() == 0
    assert uow.worktrees.count() == 0
    [entry] = uow.audit_logs.list(entity_id=project.id)
    assert entry.event_data == {"removed": {"projects": 1, "repositories": 3, "worktrees": 3}}


def test_step_4_an_archived_project_is_queryable_but_hidden_by_default(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    workspace.archive_project(uow, project.id)
    assert uow.projects.list() == []
    assert uow.projects.get(project.id).is_archived
    assert [p.id for p in uow.projects.list(include_archived=True)] == [project.id]


def test_step_5_timestamps_work_as_booleans(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    assert not project.is_archived and project.archived_at is None
    archived = uow.projects.archive(project.id)
    assert archived.is_archived and archived.archived_at is not None
    assert not uow.projects.unarchive(project.id).is_archived

    setting = uow.settings.set_value("worktree.autoCleanup", False)
    assert setting.is_user_modified and setting.user_modified_at is not None
    assert not uow.settings.reset("worktree.autoCleanup").is_user_modified

    repo = uow.repositories.set_default(factories.repository(uow, project).id)
    assert repo.is_default and repo.set_as_default_at is not None


def test_step_6_default_settings_are_created(db: Database) -> None:
    with db.unit_of_work() as uow:
        settings = uow.settings.list()
    # CO's 16, all seeded (agentkeel adds its own, `tasks.maxCrashRetries`, beside them).
    co = [s for s in settings if s.key in {d.key for d in CO_SETTINGS}]
    assert [s.key for s in co] == sorted(d.key for d in CO_SETTINGS)
    by_category = {c: [s for s in co if s.category == c] for c in SettingCategory}
    assert [len(by_category[c]) for c in SettingCategory] == [9, 4, 3, 0, 0]


def test_cascade_matrix_of_the_workspace(uow: UnitOfWork) -> None:
    """CO's matrix rows that are implemented: projects → repositories, repositories →
    worktrees, templates → template_placeholders (all CASCADE)."""
    template = factories.template(uow)
    factories.placeholder(uow, template, "entity")
    assert uow.templates.delete(template.id) == {"templates": 1, "template_placeholders": 1}
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    factories.worktree(uow, repo)
    assert uow.repositories.delete(repo.id) == {"repositories": 1, "worktrees": 1}


def test_cascade_matrix_of_the_agent_profiles(uow: UnitOfWork) -> None:
    """CO's rows projects → agents (CASCADE: a project's custom profiles) and agents →
    agent_tools, agent_skills (CASCADE), on `agent_profiles` and its children; a global
    profile survives the project."""
    project = factories.project(uow)
    custom = factories.profile(uow, "custom", project_id=project.id)
    factories.tool(uow, custom, "Read")
    factories.tool(uow, custom, "Bash", tool_pattern="pnpm lint")
    factories.skill(uow, custom, "tdd")
    shared = factories.profile(uow, "shared")
    factories.tool(uow, shared, "Read")
    factories.skill(uow, shared, "tdd")
    assert workspace.delete_project(uow, project.id) == {
        "projects": 1,
        "agent_profiles": 1,
        "agent_profile_tools": 2,
        "agent_profile_skills": 1,
    }
    assert uow.agent_profiles.delete(shared.id) == {
        "agent_profiles": 1,
        "agent_profile_tools": 1,
        "agent_profile_skills": 1,
    }
    assert (uow.agent_profile_tools.count(), uow.agent_profile_skills.count()) == (0, 0)


def test_step_5_timestamps_work_as_booleans_on_profiles(uow: UnitOfWork) -> None:
    """`built_in_at`, `deactivated_at`, `disallowed_at`, `required_at` (CO §8-10)."""
    built_in = factories.profile(uow, "planner", built_in_at=uow.clock.now())
    assert built_in.is_built_in and not built_in.is_deactivated
    assert uow.agent_profiles.deactivate(built_in.id).is_deactivated
    custom = uow.agent_profiles.customize(built_in.id)
    assert not custom.is_built_in
    tool = factories.tool(uow, custom, "Bash")
    assert uow.agent_profile_tools.disallow(tool.id).is_disallowed
    skill = factories.skill(uow, custom, "tdd")
    assert uow.agent_profile_skills.require(skill.id).is_required
