"""`agentkeel status`: what an operator looks at first, read in one snapshot.

`status_of(uow, project_id)` gathers it as plain data (what `--json` prints);
`show_status` lays it out as Rich tables. Agents are shown with their task and account
(email and provider: never the account's credentials)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console

from agentkeel.cli.common import table
from agentkeel.domain.agents import Agent
from agentkeel.domain.planning import PhaseStatus, TaskStatus
from agentkeel.domain.workflows import ENDED_WORKFLOW_STATUSES, Workflow, WorkflowStatus
from agentkeel.ports.unit_of_work import UnitOfWork

_ACTIVE_STEP = ("running", "paused", "editing")


def status_of(uow: UnitOfWork, project_id: str | None = None) -> dict[str, Any]:
    """Projects (one, if `project_id`; NotFound if it does not exist) with their
    initiatives and phase progress, tasks by status, tasks that need a person and running
    workflows with their current step; and the agents (of that project, if given) by
    status, with their task and account."""
    projects = [uow.projects.get(project_id)] if project_id is not None else uow.projects.list()
    gathered = [_project(uow, project.id, project.name) for project in projects]
    shown = [project for project, _ in gathered]
    task_ids = set().union(*(tasks for _, tasks in gathered))
    initiative_ids = {i["id"] for p in shown for i in p["initiatives"]}
    runners = {w["current_step"]["runner_agent_id"] for p in shown for w in p["workflows"]}
    agents = [
        agent
        for agent in uow.agents.list()
        if project_id is None
        or agent.task_id in task_ids
        or agent.initiative_id in initiative_ids
        or agent.id in runners
    ]
    return {
        "projects": shown,
        "agents_by_status": dict(Counter(agent.status.value for agent in agents)),
        "agents": [_agent(uow, agent) for agent in agents],
    }


def _project(uow: UnitOfWork, project_id: str, name: str) -> tuple[dict[str, Any], set[str]]:
    """The project's part of the status, and the ids of its tasks."""
    tasks = uow.tasks.list(project_id=project_id)
    counts = Counter(task.status.value for task in tasks)
    initiatives = []
    for initiative in uow.initiatives.list(project_id=project_id):
        phases = uow.phases.find_by_initiative(initiative.id)
        initiatives.append(
            {
                "id": initiative.id,
                "name": initiative.name,
                "status": initiative.status.value,
                "phases_completed": sum(p.status is PhaseStatus.COMPLETED for p in phases),
                "phases": len(phases),
                "tasks": sum(task.initiative_id == initiative.id for task in tasks),
            }
        )
    workflows = [
        _workflow(uow, workflow)
        for workflow in uow.workflows.list(project_id=project_id)
        if workflow.status not in ENDED_WORKFLOW_STATUSES
        and workflow.status is not WorkflowStatus.CREATED
    ]
    shown = {
        "id": project_id,
        "name": name,
        "initiatives": initiatives,
        "tasks_by_status": {status.value: counts.get(status.value, 0) for status in TaskStatus},
        "needing_attention": [
            {"id": task.id, "name": task.name, "status": task.status.value, "why": task.blocked_by}
            for task in uow.tasks.needing_attention(project_id=project_id)
        ],
        "workflows": workflows,
    }
    return shown, {task.id for task in tasks}


def _workflow(uow: UnitOfWork, workflow: Workflow) -> dict[str, Any]:
    steps = uow.workflow_steps.list(workflow_id=workflow.id)
    current = next(
        (step for step in steps if step.step_number == workflow.current_step_number), None
    )
    current = current or next((s for s in steps if s.status.value in _ACTIVE_STEP), None)
    current = current or next((s for s in steps if s.status.value == "pending"), None)
    return {
        "id": workflow.id,
        "feature": workflow.feature_name,
        "type": workflow.type.value,
        "status": workflow.status.value,
        "steps": len(steps),
        "current_step": {
            "number": current and current.step_number,
            "title": current and current.title,
            "status": current and current.status.value,
            "runner_agent_id": current and current.runner_agent_id,
        },
    }


def _agent(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
    task = uow.tasks.find(agent.task_id) if agent.task_id else None
    account = uow.accounts.find(agent.account_id) if agent.account_id else None
    return {
        "id": agent.id,
        "name": agent.name,
        "status": agent.status.value,
        "task": task and task.name,
        "task_id": agent.task_id,
        "account": account and {"email": account.email, "provider": account.provider},
        "last_activity_at": agent.last_activity_at,
    }


def show_status(console: Console, status: dict[str, Any]) -> None:
    """Lay `status` (from `status_of`) out as tables."""
    if not status["projects"]:
        console.print("No projects.")
    for project in status["projects"]:
        console.print(f"[bold]Project {project['name']}[/bold] ({project['id']})")
        tasks = project["tasks_by_status"]
        console.print(
            "Tasks: " + ", ".join(f"{count} {name}" for name, count in tasks.items()),
            markup=False,
        )
        rows = [
            [i["name"], i["status"], f"{i['phases_completed']}/{i['phases']}", i["tasks"]]
            for i in project["initiatives"]
        ]
        if rows:
            console.print(table("Initiatives", ["name", "status", "phases done", "tasks"], rows))
        attention = [
            [t["name"], t["status"], t["why"], t["id"]] for t in project["needing_attention"]
        ]
        title = "Tasks that need a person"
        if attention:
            console.print(table(title, ["task", "status", "blocked by", "id"], attention))
        else:
            console.print(f"{title}: none")
        flows = [
            [
                w["feature"],
                w["type"],
                w["status"],
                f"{w['current_step']['number']}/{w['steps']} {w['current_step']['title']}"
                if w["current_step"]["number"] is not None
                else None,
                w["current_step"]["status"],
            ]
            for w in project["workflows"]
        ]
        if flows:
            console.print(
                table(
                    "Running workflows", ["feature", "type", "status", "step", "step status"], flows
                )
            )
        else:
            console.print("Running workflows: none")
        console.print()
    agents = [
        [
            a["name"],
            a["status"],
            a["task"],
            a["account"] and f"{a['account']['email']} ({a['account']['provider']})",
        ]
        for a in status["agents"]
    ]
    by_status = ", ".join(f"{n} {s}" for s, n in status["agents_by_status"].items())
    if agents:
        console.print(
            table(f"Agents ({by_status})", ["agent", "status", "task", "account"], agents)
        )
    else:
        console.print("Agents: none")
