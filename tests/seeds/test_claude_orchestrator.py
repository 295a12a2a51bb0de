"""Seed 000, Claude Orchestrator: its seven verification steps, and its cascade table row
by row, on every backend."""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy_api

from agentkeel.database import Database
from agentkeel.domain.workflows import (
    DiscoveredFile,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    StepType,
    WorkflowType,
)
from agentkeel.domain.workspace import CO_SETTINGS, SettingCategory, WorktreeStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata
from tests import factories

# CO's 17 tables under their names here (CO's `agents`, `agent_tools` and `agent_skills`
# are agent profiles: `agents` are Codewalkers' running agents).
CO_TABLES = {
    "projects": "projects",
    "repositories": "repositories",
    "workflow_repositories": "workflow_repositories",
    "worktrees": "worktrees",
    "workflows": "workflows",
    "workflow_steps": "workflow_steps",
    "discovered_files": "discovered_files",
    "agents": "agent_profiles",
    "agent_tools": "agent_profile_tools",
    "agent_skills": "agent_profile_skills",
    "templates": "templates",
    "template_placeholders": "template_placeholders",
    "implementation_plans": "implementation_plans",
    "implementation_plan_steps": "implementation_plan_steps",
    "implementation_plan_step_files": "implementation_plan_step_files",
    "audit_logs": "audit_logs",
    "settings": "settings",
}


def test_step_1_migrations_create_every_table(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "co.db")) as db:
        tables = set(db.tables())
    assert set(CO_TABLES.values()) <= tables


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
    uow.projects.delete(project.id)
    assert uow.projects.count() == 0
    assert uow.repositories.count() == 0
    assert uow.worktrees.count() == 0
    [entry] = uow.audit_logs.list(entity_id=project.id)
    assert entry.event_data == {"removed": {"projects": 1, "repositories": 3, "worktrees": 3}}


def test_step_4_an_archived_project_is_queryable_but_hidden_by_default(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    uow.projects.archive(project.id)
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
    assert uow.projects.delete(project.id) == {
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


def test_step_3_deleting_a_project_removes_its_workflows_and_all_they_hold(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    planning = factories.workflow(uow, project, WorkflowType.PLANNING)
    implementation = factories.workflow(uow, project, parent_workflow_id=planning.id)
    uow.workflow_repositories.link(implementation.id, repo.id)
    step = factories.step(uow, planning, 1, StepType.DISCOVERY)
    uow.discovered_files.add(DiscoveredFile(workflow_step_id=step.id, file_path="src/a.py"))
    plan = uow.implementation_plans.add(
        ImplementationPlan(workflow_id=planning.id, title="Plan", raw_plan_text="1. a")
    )
    plan_step = uow.implementation_plan_steps.add(
        ImplementationPlanStep(plan_id=plan.id, step_number=1, title="a")
    )
    uow.implementation_plan_step_files.add(
        ImplementationPlanStepFile(plan_step_id=plan_step.id, file_path="src/a.py")
    )
    factories.worktree(uow, repo, workflow_id=implementation.id)
    removed = uow.projects.delete(project.id)
    assert removed == {
        "projects": 1,
        "repositories": 1,
        "worktrees": 1,
        "workflows": 2,
        "workflow_repositories": 1,
        "workflow_steps": 1,
        "discovered_files": 1,
        "implementation_plans": 1,
        "implementation_plan_steps": 1,
        "implementation_plan_step_files": 1,
    }
    for table in removed:
        assert factories.store_of(uow).count(metadata.tables[table]) == 0


def test_step_4_an_archived_workflow_is_queryable_but_hidden_by_default(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    uow.workflows.archive(workflow.id)
    assert uow.workflows.list() == []
    assert uow.workflows.get(workflow.id).is_archived
    assert [w.id for w in uow.workflows.list(include_archived=True)] == [workflow.id]


def test_step_5_timestamps_work_as_booleans_on_workflows(uow: UnitOfWork) -> None:
    """`archived_at`, `set_primary_at`, `output_edited_at`, `included_at`, `approved_at`,
    `quality_gate_at` (CO §3-7, §13-14)."""
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    assert not workflow.is_archived
    assert uow.workflows.archive(workflow.id).is_archived
    link = uow.workflow_repositories.link(workflow.id, factories.repository(uow, project).id)
    assert link.is_primary and link.set_primary_at is not None
    step = factories.step(uow, workflow, 1)
    assert not step.is_output_edited
    uow.workflow_steps.start(step.id)
    uow.workflow_steps.complete(step.id, output_text="x")
    assert uow.workflow_steps.edit_output(step.id, "y").is_output_edited
    now = uow.clock.now()
    found = uow.discovered_files.add(
        DiscoveredFile(workflow_step_id=step.id, file_path="a.py", included_at=now)
    )
    assert found.is_included
    planning = factories.workflow(uow, project, WorkflowType.PLANNING)
    plan = uow.implementation_plans.add(
        ImplementationPlan(workflow_id=planning.id, title="P", raw_plan_text="p")
    )
    assert not plan.is_approved
    plan_step = uow.implementation_plan_steps.add(
        ImplementationPlanStep(plan_id=plan.id, step_number=1, title="a")
    )
    assert not plan_step.has_quality_gate
    assert uow.implementation_plans.approve(plan.id).is_approved


def test_step_7_the_exported_types_type_check(tmp_path: Path) -> None:
    """CO's `pnpm typecheck`: a program using the workflow types passes mypy --strict, and
    one misusing them is caught."""
    good = tmp_path / "good.py"
    good.write_text(
        "from agentkeel.domain.workflows import Workflow, WorkflowStatus, WorkflowType\n"
        "from agentkeel.ports.unit_of_work import UnitOfWork\n"
        "def start(uow: UnitOfWork, project_id: str) -> WorkflowStatus:\n"
        "    workflow = uow.workflows.add(Workflow(project_id=project_id,\n"
        "        type=WorkflowType.PLANNING, feature_name='x', feature_request='y'))\n"
        "    return uow.workflows.start(workflow.id).status\n"
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from agentkeel.domain.workflows import Workflow\n"
        "from agentkeel.ports.unit_of_work import UnitOfWork\n"
        "def start(uow: UnitOfWork) -> int:\n"
        "    return uow.workflows.start(1).status\n"
    )
    options = ["--config-file=", "--strict", "--no-incremental", "--follow-imports=silent"]
    out, _, status = mypy_api.run([*options, str(good), str(bad)])
    assert status == 1
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert errors and all(line.startswith(str(bad)) for line in errors), out
    assert any("arg-type" in line for line in errors) and any(
        "return-value" in line for line in errors
    )


# -- CO's cascade table, row by row ------------------------------------------------------------


def test_cascade_projects_repositories(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.repository(uow, project)
    assert uow.projects.delete(project.id) == {"projects": 1, "repositories": 1}


def test_cascade_projects_workflows(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.workflow(uow, project)
    assert uow.projects.delete(project.id) == {"projects": 1, "workflows": 1}


def test_cascade_projects_agents(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.profile(uow, "custom", project_id=project.id)
    assert uow.projects.delete(project.id) == {"projects": 1, "agent_profiles": 1}


def test_cascade_repositories_worktrees(uow: UnitOfWork) -> None:
    repo = factories.repository(uow, factories.project(uow))
    factories.worktree(uow, repo)
    assert uow.repositories.delete(repo.id) == {"repositories": 1, "worktrees": 1}


def test_cascade_workflows_workflow_repositories(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    uow.workflow_repositories.link(workflow.id, factories.repository(uow, project).id)
    assert uow.workflows.delete(workflow.id) == {"workflows": 1, "workflow_repositories": 1}
    assert uow.repositories.count() == 1


def test_cascade_workflows_workflow_steps(uow: UnitOfWork) -> None:
    workflow = factories.workflow(uow, factories.project(uow))
    factories.step(uow, workflow, 1)
    factories.step(uow, workflow, 2)
    assert uow.workflows.delete(workflow.id) == {"workflows": 1, "workflow_steps": 2}


def test_cascade_workflows_audit_logs_is_set_null(uow: UnitOfWork) -> None:
    """Deviation (DESIGN.md): SET NULL, not CO's CASCADE, so that the trail outlives the
    workflow (CO's own "hard delete with audit logs")."""
    workflow = factories.workflow(uow, factories.project(uow))
    uow.workflows.start(workflow.id)
    assert uow.workflows.delete(workflow.id) == {"workflows": 1}
    entries = uow.audit_logs.list(entity_id=workflow.id)
    assert [e.event_type for e in entries] == [
        "workflow.deleted",
        "workflow.running",
        "workflow.created",
    ]
    assert all(e.workflow_id is None for e in entries)


def test_cascade_workflows_implementation_plans(uow: UnitOfWork) -> None:
    workflow = factories.workflow(uow, factories.project(uow), WorkflowType.PLANNING)
    uow.implementation_plans.add(
        ImplementationPlan(workflow_id=workflow.id, title="P", raw_plan_text="p")
    )
    assert uow.workflows.delete(workflow.id) == {"workflows": 1, "implementation_plans": 1}


def test_cascade_workflows_worktrees_is_set_null(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    tree = factories.worktree(uow, factories.repository(uow, project), workflow_id=workflow.id)
    assert uow.workflows.delete(workflow.id) == {"workflows": 1}
    survivor = uow.worktrees.get(tree.id)
    assert survivor.workflow_id is None and survivor.status == WorktreeStatus.ACTIVE


def test_cascade_workflow_steps_discovered_files(uow: UnitOfWork) -> None:
    step = factories.step(uow, factories.workflow(uow, factories.project(uow)), 1)
    uow.discovered_files.add(DiscoveredFile(workflow_step_id=step.id, file_path="a.py"))
    assert uow.workflow_steps.delete(step.id) == {"workflow_steps": 1, "discovered_files": 1}


def test_cascade_workflow_steps_audit_logs_is_set_null(uow: UnitOfWork) -> None:
    workflow = factories.workflow(uow, factories.project(uow))
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id)
    assert uow.workflow_steps.delete(step.id) == {"workflow_steps": 1}
    [started] = uow.audit_logs.list(event_type="workflow_step.running")
    assert started.workflow_step_id is None and started.workflow_id == workflow.id


def test_cascade_agents_agent_tools(uow: UnitOfWork) -> None:
    profile = factories.profile(uow)
    factories.tool(uow, profile, "Read")
    assert uow.agent_profiles.delete(profile.id) == {"agent_profiles": 1, "agent_profile_tools": 1}


def test_cascade_agents_agent_skills(uow: UnitOfWork) -> None:
    profile = factories.profile(uow)
    factories.skill(uow, profile, "tdd")
    assert uow.agent_profiles.delete(profile.id) == {
        "agent_profiles": 1,
        "agent_profile_skills": 1,
    }


def test_cascade_agents_workflow_steps_is_set_null(uow: UnitOfWork) -> None:
    profile = factories.profile(uow)
    step = factories.step(
        uow, factories.workflow(uow, factories.project(uow)), 1, agent_id=profile.id
    )
    assert uow.agent_profiles.delete(profile.id) == {"agent_profiles": 1}
    assert uow.workflow_steps.get(step.id).agent_id is None


def test_cascade_templates_template_placeholders(uow: UnitOfWork) -> None:
    template = factories.template(uow)
    factories.placeholder(uow, template, "entity")
    assert uow.templates.delete(template.id) == {"templates": 1, "template_placeholders": 1}


def test_cascade_implementation_plans_implementation_plan_steps(uow: UnitOfWork) -> None:
    workflow = factories.workflow(uow, factories.project(uow), WorkflowType.PLANNING)
    plan = uow.implementation_plans.add(
        ImplementationPlan(workflow_id=workflow.id, title="P", raw_plan_text="p")
    )
    for number in (1, 2):
        uow.implementation_plan_steps.add(
            ImplementationPlanStep(plan_id=plan.id, step_number=number, title=f"s{number}")
        )
    assert uow.implementation_plans.delete(plan.id) == {
        "implementation_plans": 1,
        "implementation_plan_steps": 2,
    }


def test_cascade_implementation_plan_steps_implementation_plan_step_files(
    uow: UnitOfWork,
) -> None:
    workflow = factories.workflow(uow, factories.project(uow), WorkflowType.PLANNING)
    plan = uow.implementation_plans.add(
        ImplementationPlan(workflow_id=workflow.id, title="P", raw_plan_text="p")
    )
    plan_step = uow.implementation_plan_steps.add(
        ImplementationPlanStep(plan_id=plan.id, step_number=1, title="s")
    )
    uow.implementation_plan_step_files.add(
        ImplementationPlanStepFile(plan_step_id=plan_step.id, file_path="a.py")
    )
    assert uow.implementation_plan_steps.delete(plan_step.id) == {
        "implementation_plan_steps": 1,
        "implementation_plan_step_files": 1,
    }
