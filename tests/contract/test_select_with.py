"""`RowStore.select_with`: a select that brings columns of the row a foreign key refers to,
in the same query, alike in every store (a LEFT JOIN: None where the key is NULL)."""

from __future__ import annotations

from agentkeel.database import Database
from agentkeel.domain.agents import Agent
from agentkeel.domain.planning import Errand
from agentkeel.domain.workspace import Repository
from agentkeel.ports.store import Asc, Desc, Eq, Referenced
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories
from tests import factories_tree as tree
from tests.factories import store_of

repositories = table_of(Repository)
errands = table_of(Errand)


def test_rows_come_with_the_referenced_columns(uow: UnitOfWork) -> None:
    store = store_of(uow)
    keel = factories.project(uow, "Keel", description="the core")
    other = factories.project(uow, "Other")
    api = factories.repository(uow, keel, "api")
    web = factories.repository(uow, other, "web")
    found = store.select_with(
        repositories, Referenced("project_id", ("name", "description")), order_by=[Asc("name")]
    )
    assert [(row["id"], ref) for row, ref in found] == [
        (api.id, {"id": keel.id, "name": "Keel", "description": "the core"}),
        (web.id, {"id": other.id, "name": "Other", "description": None}),
    ]
    assert [row for row, _ in found] == store.select(repositories, order_by=[Asc("name")])


def test_a_null_key_gives_none_and_where_order_and_paging_apply(uow: UnitOfWork) -> None:
    store = store_of(uow)
    repo = factories.repository(uow, factories.project(uow))
    agent = uow.agents.add(Agent(name="swift-fox", result={"nested": [1, 2]}))
    made = [tree.errand(uow, repo, f"b{i}", agent_id=agent.id if i % 2 else None) for i in range(5)]
    alias = Referenced("agent_id", ("name", "result"))
    everything = store.select_with(errands, alias, order_by=[Desc("branch")])
    assert [row["branch"] for row, _ in everything] == ["b4", "b3", "b2", "b1", "b0"]
    assert [ref for _, ref in everything] == [
        None if i % 2 == 0 else {"id": agent.id, "name": "swift-fox", "result": {"nested": [1, 2]}}
        for i in (4, 3, 2, 1, 0)
    ]
    paged = store.select_with(errands, alias, order_by=[Desc("branch")], limit=2, offset=1)
    assert [row["branch"] for row, _ in paged] == ["b3", "b2"]
    one = store.select_with(errands, alias, [Eq("id", made[1].id)])
    assert [row["id"] for row, _ in one] == [made[1].id]
    assert store.select_with(errands, alias, [Eq("id", "ghost")]) == []
    # What comes back is a copy: changing it changes nothing stored.
    ref = one[0][1]
    assert ref is not None
    ref["result"]["nested"].append(3)
    assert uow.agents.get(agent.id).result == {"nested": [1, 2]}


def test_a_read_only_unit_of_work_reads_it_too(db: Database) -> None:
    with db.unit_of_work() as uow:
        repo = factories.repository(uow, factories.project(uow))
        agent = tree.agent(uow)
        tree.errand(uow, repo, agent_id=agent.id)
        uow.commit()
    with db.unit_of_work(read_only=True) as reader:
        found = store_of(reader).select_with(errands, Referenced("agent_id", ("name",)))
    assert [ref for _, ref in found] == [{"id": agent.id, "name": agent.name}]
