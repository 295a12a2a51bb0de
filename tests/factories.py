"""Small builders for test data; each stores the entity and returns it as stored."""

from __future__ import annotations

from typing import Any

from agentkeel.domain.agents import (
    Agent,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    ProfileType,
)
from agentkeel.domain.backlog import Feature, Requirement, SubFeature
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.planning import Initiative, Phase, Task
from agentkeel.domain.workflows import StepType, Workflow, WorkflowStep, WorkflowType
from agentkeel.domain.workspace import (
    Project,
    Repository,
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    Worktree,
)
from agentkeel.ports.store import RowStore
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.repositories.unit_of_work import BaseUnitOfWork


def store_of(uow: UnitOfWork) -> RowStore:
    """The row store under a unit of work, for tests that work below the ports."""
    assert isinstance(uow, BaseUnitOfWork)
    return uow.store


def recorded(uow: UnitOfWork) -> list[DomainEvent]:
    """The events the unit of work recorded so far (published when it commits)."""
    assert isinstance(uow, BaseUnitOfWork) and uow._state is not None
    return list(uow._state.events)


def project(uow: UnitOfWork, name: str = "Keel", **fields: Any) -> Project:
    return uow.projects.add(Project(name=name, **fields))


def repository(uow: UnitOfWork, owner: Project, name: str = "api", **fields: Any) -> Repository:
    fields.setdefault("path", f"/src/{owner.name}/{name}")
    return uow.repositories.add(Repository(project_id=owner.id, name=name, **fields))


def worktree(uow: UnitOfWork, repo: Repository, path: str = "/wt/one", **fields: Any) -> Worktree:
    fields.setdefault("branch_name", "feature/one")
    return uow.worktrees.add(Worktree(repository_id=repo.id, path=path, **fields))


def template(uow: UnitOfWork, name: str = "CRUD entity", **fields: Any) -> Template:
    fields.setdefault("category", TemplateCategory.DATA)
    fields.setdefault("template_text", "Add {{entity}} with {{fields}}")
    return uow.templates.add(Template(name=name, **fields))


def placeholder(uow: UnitOfWork, owner: Template, name: str, **fields: Any) -> TemplatePlaceholder:
    fields.setdefault("display_name", name.title())
    return uow.template_placeholders.add(
        TemplatePlaceholder(template_id=owner.id, name=name, **fields)
    )


def profile(uow: UnitOfWork, name: str = "backend-dev", **fields: Any) -> AgentProfile:
    fields.setdefault("display_name", name.title())
    fields.setdefault("type", ProfileType.SPECIALIST)
    fields.setdefault("system_prompt", f"You are {name}.")
    return uow.agent_profiles.add(AgentProfile(name=name, **fields))


def tool(
    uow: UnitOfWork, owner: AgentProfile, name: str = "Read", **fields: Any
) -> AgentProfileTool:
    return uow.agent_profile_tools.add(
        AgentProfileTool(profile_id=owner.id, tool_name=name, **fields)
    )


def skill(uow: UnitOfWork, owner: AgentProfile, name: str, **fields: Any) -> AgentProfileSkill:
    return uow.agent_profile_skills.add(
        AgentProfileSkill(profile_id=owner.id, skill_name=name, **fields)
    )


def initiative(uow: UnitOfWork, owner: Project, name: str = "Auth", **fields: Any) -> Initiative:
    return uow.initiatives.add(Initiative(project_id=owner.id, name=name, **fields))


def phase(uow: UnitOfWork, owner: Initiative, name: str = "Design", **fields: Any) -> Phase:
    return uow.phases.add(Phase(initiative_id=owner.id, name=name, **fields))


def task(uow: UnitOfWork, owner: Project, name: str = "Write it", **fields: Any) -> Task:
    return uow.tasks.add(Task(project_id=owner.id, name=name, **fields))


def agent(uow: UnitOfWork, name: str = "brave-otter", **fields: Any) -> Agent:
    return uow.agents.add(Agent(name=name, **fields))


def feature(uow: UnitOfWork, owner: Project, name: str = "Login", **fields: Any) -> Feature:
    return uow.features.add(Feature(project_id=owner.id, name=name, **fields))


def sub_feature(uow: UnitOfWork, owner: Feature, name: str = "Form", **fields: Any) -> SubFeature:
    return uow.sub_features.add(SubFeature(feature_id=owner.id, name=name, **fields))


def requirement(
    uow: UnitOfWork, owner: Project, description: str = "Users sign in", **fields: Any
) -> Requirement:
    fields.setdefault("category", "functional")
    return uow.requirements.add(Requirement(project_id=owner.id, description=description, **fields))


def workflow(
    uow: UnitOfWork,
    owner: Project,
    type: WorkflowType = WorkflowType.IMPLEMENTATION,
    name: str = "Login page",
    **fields: Any,
) -> Workflow:
    return uow.workflows.add(
        Workflow(
            project_id=owner.id,
            type=type,
            feature_name=name,
            feature_request=f"Build the {name}",
            **fields,
        )
    )


def step(
    uow: UnitOfWork,
    owner: Workflow,
    number: int,
    step_type: StepType = StepType.IMPLEMENTATION,
    **fields: Any,
) -> WorkflowStep:
    return uow.workflow_steps.add(
        WorkflowStep(
            workflow_id=owner.id,
            step_type=step_type,
            step_number=number,
            title=f"Step {number}",
            **fields,
        )
    )
