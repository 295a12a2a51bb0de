"""Two units of work asking for an initiative's root page at once get the same one root.

The second asks while the first has inserted its root and not yet committed: on PostgreSQL
its insert waits on the partial unique index, is refused when the first commits, and it
reads the winner's root; SQLite and the fakes queue the second writer behind the first.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from tests import factories
from tests import factories_tree as tree


def test_two_units_of_work_get_one_root(db: Database) -> None:
    with db.unit_of_work() as uow:
        initiative = tree.initiative(uow, factories.project(uow))
        uow.commit()
    inserted = threading.Event()

    def first() -> str:
        with db.unit_of_work() as uow:
            root = uow.pages.get_or_create_root_page(initiative.id, title="First")
            inserted.set()
            time.sleep(0.5)  # the second asks meanwhile
            uow.commit()
            return root.id

    def second() -> str:
        assert inserted.wait(10)
        with db.unit_of_work() as uow:
            root = uow.pages.get_or_create_root_page(initiative.id, title="Second")
            uow.pages.count()  # the unit of work is still usable after the clash
            uow.commit()
            return root.id

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        winner, loser = a.result(), b.result()
    assert winner == loser
    with db.unit_of_work() as uow:
        pages = uow.pages.find_by_initiative(initiative.id)
    assert [(page.id, page.title) for page in pages] == [(winner, "First")]


def test_many_units_of_work_at_once_get_one_root(db: Database) -> None:
    with db.unit_of_work() as uow:
        initiative = tree.initiative(uow, factories.project(uow))
        uow.commit()
    start = threading.Barrier(4)

    def ask(_: int) -> str:
        start.wait(10)
        with db.unit_of_work() as uow:
            root = uow.pages.get_or_create_root_page(initiative.id)
            uow.commit()
            return root.id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(ask, range(4)))
    with db.unit_of_work() as uow:
        assert uow.pages.count() == 1
        assert ids == {uow.pages.find_root_page(initiative.id).id}  # type: ignore[union-attr]
