"""Round trips of the planning tree's reads, counted on SQLite and PostgreSQL: each is a
fixed number of statements whatever the number of rows."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from tests import factories
from tests import factories_tree as tree
from tests.contract import test_statement_counts
from tests.contract.test_statement_counts import Counted

counted = test_statement_counts.counted


@pytest.mark.parametrize("rows", [2, 20])
def test_tree_reads_take_a_fixed_number_of_statements(
    counted: tuple[Database, Counted], rows: int
) -> None:
    db, counts = counted
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        initiative = tree.initiative(uow, project)
        repos = [factories.repository(uow, project, f"r{i}") for i in range(rows)]
        uow.initiative_repositories.set_for_initiative(initiative.id, [r.id for r in repos])
        root = uow.pages.get_or_create_root_page(initiative.id)
        for i in range(rows):
            tree.page(uow, initiative, root, f"p{i}")
        counts.take()
        for call, statements in (
            (lambda: uow.pages.find_root_page(initiative.id), 1),
            (lambda: uow.pages.get_or_create_root_page(initiative.id), 1),
            (lambda: uow.pages.find_by_parent_page(root.id), 1),
            (lambda: uow.pages.find_by_initiative(initiative.id), 1),
            (lambda: uow.initiatives.list(project_id=project.id), 1),
            (lambda: uow.initiatives.find_by_status(initiative.status), 1),
            # The links, then their repositories by id (one indexed query each).
            (lambda: uow.initiative_repositories.of_initiative(initiative.id), 2),
        ):
            call()
            assert counts.take() == {"statement": statements}
