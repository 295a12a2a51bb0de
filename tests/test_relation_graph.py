"""plan_delete on a graph with every kind of ON DELETE, including ones the current tables do
not use yet (SET NULL, RESTRICT, self references), on a schema of its own so that nothing
leaks into agentkeel's metadata."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Column, ForeignKey, MetaData, String, Table

from agentkeel.schema.graph import plan_delete

schema = MetaData()
parents = Table("parents", schema, Column("id", String, primary_key=True))
children = Table(
    "children",
    schema,
    Column("id", String, primary_key=True),
    Column("parent_id", ForeignKey("parents.id", ondelete="CASCADE")),
    Column("parent_child_id", ForeignKey("children.id", ondelete="CASCADE")),
)
notes = Table(
    "notes",
    schema,
    Column("id", String, primary_key=True),
    Column("child_id", ForeignKey("children.id", ondelete="SET NULL")),
)
locks = Table(
    "locks",
    schema,
    Column("id", String, primary_key=True),
    Column("child_id", ForeignKey("children.id", ondelete="RESTRICT")),
)

ROWS: dict[str, list[dict[str, str | None]]] = {
    "children": [
        {"id": "c1", "parent_id": "p1", "parent_child_id": None},
        {"id": "c2", "parent_id": None, "parent_child_id": "c1"},  # grandchild, by self reference
        {"id": "c3", "parent_id": "p2", "parent_child_id": None},
    ],
    "notes": [{"id": "n1", "child_id": "c2"}, {"id": "n2", "child_id": "c3"}],
    "locks": [],
}


def referrers(table: Table, column: str, keys: set[str]) -> Iterator[tuple[str, str]]:
    for row in ROWS[table.name]:
        value = row[column]
        if value in keys:
            assert value is not None
            yield str(row["id"]), value


def test_cascades_follow_self_references_and_set_null_spares_survivors() -> None:
    plan = plan_delete(parents, {"p1"}, referrers, schema)
    assert plan.removed == {"parents": {"p1"}, "children": {"c1", "c2"}}
    assert plan.cleared == {("notes", "child_id"): {"n1"}}
    assert plan.blocked is None
    assert plan.counts() == {"parents": 1, "children": 2}


def test_restrict_blocks_with_the_referenced_key() -> None:
    ROWS["locks"] = [{"id": "l1", "child_id": "c2"}]
    try:
        plan = plan_delete(parents, {"p1"}, referrers, schema)
    finally:
        ROWS["locks"] = []
    assert plan.blocked is not None
    assert (plan.blocked.edge.child.name, plan.blocked.edge.column) == ("locks", "child_id")
    assert plan.blocked.key == "c2"
