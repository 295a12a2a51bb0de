"""The fakes and the databases agree on the planning tree, step by step.

A hypothesis state machine drives every backend with the same random operations on
initiatives (status moves, archiving, generated branches), their repository links (set
diff-based), pages (roots, moves, deletes of subtrees) and errands (status moves, the
agent's alias, filters), each in its own unit of work, and asserts after each step that all
backends returned the same result or raised the same error, and that their contents are
equal. Invariants check what must hold anyway: one root per initiative, parents in the same
initiative, no page among its own ancestors, links within the initiative's project, no
orphans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    multiple,
    rule,
)

from agentkeel.domain.agents import Agent
from agentkeel.domain.entity import Entity
from agentkeel.domain.planning import (
    Errand,
    ErrandStatus,
    Initiative,
    InitiativeStatus,
    Page,
)
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

E = TypeVar("E", bound=Entity)

NAMES = st.sampled_from(["Auth", "auth", "Café", "日本", "x" * 200, "v2.0 / API"])
BRANCHES = st.sampled_from([None, None, "agentkeel/auth", "main"])
TITLES = st.sampled_from(["Overview", "Notes", "", "x" * 201])


class PlanningTreeAgreement(AgreementMachine):
    projects = Bundle("projects")
    repositories = Bundle("repositories")
    agents = Bundle("agents")
    initiatives = Bundle("initiatives")
    pages = Bundle("pages")
    errands = Bundle("errands")

    # -- the workspace and agents they hang from -------------------------------------------

    @rule(target=projects, name=st.sampled_from(["Keel", "Other"]))
    def create_project(self, name: str) -> Any:
        return self.created(lambda: Project(name=name), lambda uow, p: uow.projects.add(p))

    @rule(target=repositories, project=projects, name=st.sampled_from(["api", "web", "cli"]))
    def create_repository(self, project: str, name: str) -> Any:
        return self.created(
            lambda: Repository(project_id=project, name=name, path=f"/src/{name}"),
            lambda uow, r: uow.repositories.add(r),
        )

    @rule(repository=consumes(repositories))
    def delete_repository(self, repository: str) -> None:
        self.run(lambda uow: uow.repositories.delete(repository))

    @rule(target=agents, name=st.sampled_from(["brave-otter", "calm-lynx"]))
    def create_agent(self, name: str) -> Any:
        return self.created(lambda: Agent(name=name), lambda uow, a: uow.agents.add(a))

    @rule(agent=consumes(agents))
    def delete_agent(self, agent: str) -> None:
        self.run(lambda uow: uow.agents.delete(agent))

    # -- initiatives -----------------------------------------------------------------------

    @rule(target=initiatives, project=projects, name=NAMES, branch=BRANCHES)
    def create_initiative(self, project: str, name: str, branch: str | None) -> Any:
        return self.created(
            lambda: Initiative(project_id=project, name=name, branch=branch),
            lambda uow, i: uow.initiatives.add(i),
        )

    @rule(initiative=initiatives, status=st.sampled_from(InitiativeStatus))
    def move_initiative(self, initiative: str, status: InitiativeStatus) -> None:
        def move(uow: UnitOfWork) -> Initiative:
            found = uow.initiatives.get(initiative)
            found.status = status
            return uow.initiatives.update(found)

        self.run(move)

    @rule(initiative=initiatives, name=NAMES, clear_branch=st.booleans())
    def rename_initiative(self, initiative: str, name: str, clear_branch: bool) -> None:
        def rename(uow: UnitOfWork) -> Initiative:
            found = uow.initiatives.get(initiative)
            found.name = name
            if clear_branch:
                found.branch = None
            return uow.initiatives.update(found)

        self.run(rename)

    @rule(initiative=initiatives, archive=st.booleans())
    def archive_initiative(self, initiative: str, archive: bool) -> None:
        if archive:
            self.run(lambda uow: uow.initiatives.archive(initiative))
        else:
            self.run(lambda uow: uow.initiatives.unarchive(initiative))

    @rule(
        project=st.none() | projects,
        status=st.none() | st.sampled_from(InitiativeStatus),
        include_archived=st.booleans(),
    )
    def list_initiatives(
        self, project: str | None, status: InitiativeStatus | None, include_archived: bool
    ) -> None:
        if status is None:
            self.run(
                lambda uow: uow.initiatives.list(
                    project_id=project, include_archived=include_archived
                )
            )
        else:
            self.run(
                lambda uow: uow.initiatives.find_by_status(
                    status, include_archived=include_archived
                )
            )

    @rule(initiative=consumes(initiatives))
    def delete_initiative(self, initiative: str) -> None:
        self.run(lambda uow: uow.initiatives.delete(initiative))

    # -- repository links ------------------------------------------------------------------

    @rule(
        initiative=initiatives,
        chosen=st.lists(repositories | st.just("ghost"), max_size=4),
    )
    def set_links(self, initiative: str, chosen: list[str]) -> None:
        self.run(lambda uow: uow.initiative_repositories.set_for_initiative(initiative, chosen))

    @rule(initiative=initiatives)
    def read_links(self, initiative: str) -> None:
        self.run(lambda uow: uow.initiative_repositories.of_initiative(initiative))

    # -- pages -----------------------------------------------------------------------------

    @rule(target=pages, initiative=initiatives, title=st.none() | TITLES)
    def get_or_create_root(self, initiative: str, title: str | None) -> Any:
        outcome = self.run(lambda uow: uow.pages.get_or_create_root_page(initiative, title=title))
        return outcome[1]["id"] if outcome[0] == "ok" else multiple()

    @rule(
        target=pages,
        initiative=initiatives,
        parent=st.none() | pages,
        title=TITLES,
        sort_order=st.integers(-2, 2),
    )
    def create_page(self, initiative: str, parent: str | None, title: str, sort_order: int) -> Any:
        return self.created(
            lambda: Page(
                initiative_id=initiative, parent_page_id=parent, title=title, sort_order=sort_order
            ),
            lambda uow, p: uow.pages.add(p),
        )

    @rule(page=pages, parent=st.none() | pages, other_initiative=st.none() | initiatives)
    def move_page(self, page: str, parent: str | None, other_initiative: str | None) -> None:
        def move(uow: UnitOfWork) -> Page:
            found = uow.pages.get(page)
            found.parent_page_id = parent
            if other_initiative is not None:
                found.initiative_id = other_initiative
            return uow.pages.update(found)

        self.run(move)

    @rule(page=pages)
    def read_children(self, page: str) -> None:
        self.run(lambda uow: uow.pages.find_by_parent_page(page))

    @rule(initiative=initiatives)
    def read_tree(self, initiative: str) -> None:
        self.run(
            lambda uow: (
                uow.pages.find_root_page(initiative),
                uow.pages.find_by_initiative(initiative),
            )
        )

    @rule(page=pages)
    def delete_page(self, page: str) -> None:
        self.run(lambda uow: uow.pages.delete(page))

    # -- errands ---------------------------------------------------------------------------

    @rule(
        target=errands,
        repository=repositories,
        agent=st.none() | agents,
        key=st.sampled_from([None, "errand-1", "errand-2"]),
    )
    def create_errand(self, repository: str, agent: str | None, key: str | None) -> Any:
        fields: dict[str, Any] = {} if key is None else {"id": key}
        return self.created(
            lambda: Errand(
                repository_id=repository, agent_id=agent, description="d", branch="b", **fields
            ),
            lambda uow, e: uow.errands.add(e),
        )

    @rule(errand=errands, status=st.sampled_from(ErrandStatus), agent=st.none() | agents)
    def move_errand(self, errand: str, status: ErrandStatus, agent: str | None) -> None:
        def move(uow: UnitOfWork) -> Errand:
            found = uow.errands.get(errand)
            found.status = status
            found.agent_id = agent
            return uow.errands.update(found)

        self.run(move)

    @rule(
        repository=st.none() | repositories,
        status=st.none() | st.sampled_from(ErrandStatus),
        errand=st.none() | errands,
    )
    def read_errands(
        self, repository: str | None, status: ErrandStatus | None, errand: str | None
    ) -> None:
        if errand is not None:
            self.run(lambda uow: uow.errands.find_with_alias(errand))
        else:
            self.run(lambda uow: uow.errands.find_all(repository_id=repository, status=status))

    @rule(errand=consumes(errands))
    def delete_errand(self, errand: str) -> None:
        self.run(lambda uow: uow.errands.delete(errand))

    # -- what must always hold ---------------------------------------------------------------

    @invariant()
    def contents_agree_and_hold_together(self) -> None:
        contents = self.agreed_contents()
        initiatives = {row["id"]: row for row in contents["initiatives"]}
        repositories = {row["id"]: row for row in contents["repositories"]}
        pages = {row["id"]: row for row in contents["pages"]}
        agents = {row["id"] for row in contents["agents"]}
        roots = [p["initiative_id"] for p in pages.values() if p["parent_page_id"] is None]
        assert len(roots) == len(set(roots)), "two roots in one initiative"
        for page in pages.values():
            assert page["initiative_id"] in initiatives
            seen = {page["id"]}
            parent = page["parent_page_id"]
            while parent is not None:
                assert pages[parent]["initiative_id"] == page["initiative_id"]
                assert parent not in seen, "a page is its own ancestor"
                seen.add(parent)
                parent = pages[parent]["parent_page_id"]
        for link in contents["initiative_repositories"]:
            initiative = initiatives[link["initiative_id"]]
            assert repositories[link["repository_id"]]["project_id"] == initiative["project_id"]
        for initiative in initiatives.values():
            assert initiative["branch"] is not None
        for errand in contents["errands"]:
            assert errand["repository_id"] in repositories
            assert errand["agent_id"] is None or errand["agent_id"] in agents


@on_every_backend
def test_memory_and_databases_agree_on_the_planning_tree(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    check_agreement(PlanningTreeAgreement, sqlite_template, request)
