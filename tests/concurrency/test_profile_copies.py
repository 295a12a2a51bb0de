"""Concurrent writers on agent profiles: customized copies never share a name, and edits
counted by tools and skills are never lost."""

from __future__ import annotations

from agentkeel.database import Database
from agentkeel.domain.errors import AlreadyExists, Conflict
from tests import factories
from tests.concurrency.test_concurrent_writers import THREADS, in_threads


def test_concurrent_customizes_choose_different_names(db: Database) -> None:
    with db.unit_of_work() as uow:
        planner = factories.profile(uow, "planner", built_in_at=uow.clock.now())
        uow.commit()

    def customize(_: int) -> str:
        for _ in range(50):  # a clash means another copy took the name first: retry
            try:
                with db.unit_of_work() as uow:
                    name = uow.agent_profiles.customize(planner.id).name
                    uow.commit()
                    return name
            except (AlreadyExists, Conflict):
                continue
        return "gave up"

    names = in_threads(THREADS, customize)
    expected = ["planner-custom"] + [f"planner-custom-{n}" for n in range(2, THREADS + 1)]
    assert sorted(names) == sorted(expected)  # type: ignore[type-var]


def test_concurrent_tool_writes_count_every_edit(db: Database) -> None:
    with db.unit_of_work() as uow:
        coder = factories.profile(uow, "coder")
        uow.commit()

    def add_tools(thread: int) -> None:
        for number in range(3):
            with db.unit_of_work() as uow:
                factories.tool(uow, coder, f"Tool{thread}", tool_pattern=f"p{number}")
                uow.commit()

    in_threads(THREADS, add_tools)
    with db.unit_of_work() as uow:
        assert uow.agent_profiles.get(coder.id).version == 1 + THREADS * 3
        assert uow.agent_profile_tools.count() == THREADS * 3
