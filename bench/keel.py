"""The agentkeel side of each scenario.

Each function takes an open `Database` and N, does its setup (outside the clock) and returns
the work to time: a function with no arguments.
"""

from __future__ import annotations

from collections.abc import Callable

from agentkeel.database import Database
from agentkeel.domain.workspace import Project, Repository

Work = Callable[[], None]

PROJECTS_WITH_REPOSITORIES = 10
LIST_CALLS = 20


def new_project(i: int) -> Project:
    return Project(name=f"project {i}", description=f"benchmark project number {i}")


def new_repository(i: int, project_id: str) -> Repository:
    return Repository(project_id=project_id, name=f"repository {i}", path=f"/src/repo-{i}")


def add_projects(db: Database, count: int) -> list[str]:
    """Store `count` projects in one unit of work; their ids."""
    with db.unit_of_work() as uow:
        ids = [uow.projects.add(new_project(i)).id for i in range(count)]
        uow.commit()
    return ids


def add_repositories(db: Database, n: int, project_ids: list[str]) -> None:
    """Store `n` repositories spread evenly over the projects, in one unit of work."""
    with db.unit_of_work() as uow:
        for i in range(n):
            uow.repositories.add(new_repository(i, project_ids[i % len(project_ids)]))
        uow.commit()


def insert_each(db: Database, n: int) -> Work:
    def work() -> None:
        for i in range(n):
            with db.unit_of_work() as uow:
                uow.projects.add(new_project(i))
                uow.commit()

    return work


def insert_batch(db: Database, n: int) -> Work:
    def work() -> None:
        add_projects(db, n)

    return work


def get_by_id(db: Database, n: int) -> Work:
    ids = add_projects(db, n)

    def work() -> None:
        with db.unit_of_work() as uow:
            for key in ids:
                uow.projects.get(key)

    return work


def list_all(db: Database, n: int) -> Work:
    add_projects(db, n)

    def work() -> None:
        for _ in range(LIST_CALLS):
            with db.unit_of_work() as uow:
                uow.projects.list()

    return work


def insert_repositories(db: Database, n: int) -> Work:
    project_ids = add_projects(db, PROJECTS_WITH_REPOSITORIES)

    def work() -> None:
        add_repositories(db, n, project_ids)

    return work


def delete_cascade(db: Database, n: int) -> Work:
    project_ids = add_projects(db, PROJECTS_WITH_REPOSITORIES)
    add_repositories(db, n, project_ids)

    def work() -> None:
        for key in project_ids:
            with db.unit_of_work() as uow:
                uow.projects.delete(key)
                uow.commit()

    return work
