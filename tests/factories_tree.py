"""Builders for the planning tree's tests (initiatives, pages, errands); each stores the
entity and returns it as stored."""

from __future__ import annotations

from typing import Any

from agentkeel.domain.agents import Agent
from agentkeel.domain.planning import Errand, Initiative, Page
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.unit_of_work import UnitOfWork


def initiative(
    uow: UnitOfWork, owner: Project, name: str = "User auth", **fields: Any
) -> Initiative:
    return uow.initiatives.add(Initiative(project_id=owner.id, name=name, **fields))


def page(
    uow: UnitOfWork, owner: Initiative, parent: Page | None, title: str, **fields: Any
) -> Page:
    parent_id = None if parent is None else parent.id
    return uow.pages.add(
        Page(initiative_id=owner.id, parent_page_id=parent_id, title=title, **fields)
    )


def agent(uow: UnitOfWork, name: str = "brave-otter", **fields: Any) -> Agent:
    return uow.agents.add(Agent(name=name, **fields))


def errand(uow: UnitOfWork, repo: Repository, branch: str = "errand/one", **fields: Any) -> Errand:
    fields.setdefault("description", "Fix the flaky test")
    return uow.errands.add(Errand(repository_id=repo.id, branch=branch, **fields))
