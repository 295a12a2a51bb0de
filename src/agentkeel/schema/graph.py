"""The relation graph: who points at whom, and what a delete takes with it.

`plan_delete` walks the foreign keys of `metadata` exactly as the database applies them
(CASCADE removes, SET NULL clears, RESTRICT refuses), so the fakes can carry out a delete
and every adapter can count beforehand what a delete will remove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import MetaData, Table

from agentkeel.domain.errors import StillReferenced
from agentkeel.schema.base import label_of, metadata


@dataclass(frozen=True)
class Edge:
    """`child.column` refers to `parent.id`, with this ON DELETE."""

    parent: Table
    child: Table
    column: str
    on_delete: str


@cache
def edges_into(parent_name: str, schema: MetaData = metadata) -> tuple[Edge, ...]:
    """Every foreign key of `schema` that refers to the table `parent_name`."""
    found = []
    for child in schema.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table.name == parent_name:
                on_delete = (fk.ondelete or "NO ACTION").upper()
                found.append(Edge(fk.column.table, child, fk.parent.name, on_delete))
    return tuple(found)


@dataclass(frozen=True)
class Blocked:
    """A RESTRICT reference that stops the delete: `child.column` still points at `key`."""

    edge: Edge
    key: str


@dataclass
class DeletePlan:
    """What deleting some rows does: rows removed and rows whose reference is cleared, per
    table, or the first RESTRICT reference that blocks it all."""

    removed: dict[str, set[str]] = field(default_factory=dict)
    cleared: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    blocked: Blocked | None = None

    def counts(self) -> dict[str, int]:
        return {name: len(keys) for name, keys in self.removed.items() if keys}

    def refusal(self) -> StillReferenced | None:
        """The error a blocked delete raises, the same from every adapter."""
        if self.blocked is None:
            return None
        edge = self.blocked.edge
        return StillReferenced(
            label_of(edge.parent), self.blocked.key, label_of(edge.child), edge.column
        )


# (child table, column, parent keys) -> (child key, parent key) of every row whose `column`
# holds one of the parent keys: an adapter's way to look rows up.
FindReferrers = Callable[[Table, str, set[str]], Iterable[tuple[str, str]]]


def plan_delete(
    table: Table,
    keys: Iterable[str],
    find_referrers: FindReferrers,
    schema: MetaData = metadata,
) -> DeletePlan:
    """Follow CASCADE edges from `keys` of `table` to a fixed point, then check the rest."""
    plan = DeletePlan()
    frontier: list[tuple[Table, set[str]]] = [(table, set(keys))]
    plan.removed[table.name] = set(frontier[0][1])
    while frontier:
        parent, parent_keys = frontier.pop()
        for edge in edges_into(parent.name, schema):
            if edge.on_delete != "CASCADE":
                continue
            found = {child for child, _ in find_referrers(edge.child, edge.column, parent_keys)}
            new = found - plan.removed.setdefault(edge.child.name, set())
            if new:
                plan.removed[edge.child.name] |= new
                frontier.append((edge.child, new))
    # SET NULL and RESTRICT apply only to rows that survive the delete.
    for parent_name, parent_keys in list(plan.removed.items()):
        if not parent_keys:
            continue
        for edge in edges_into(parent_name, schema):
            if edge.on_delete == "CASCADE":
                continue
            gone = plan.removed.get(edge.child.name, set())
            survivors = {
                (child, parent)
                for child, parent in find_referrers(edge.child, edge.column, parent_keys)
                if child not in gone
            }
            if not survivors:
                continue
            if edge.on_delete == "SET NULL":
                cleared = plan.cleared.setdefault((edge.child.name, edge.column), set())
                cleared.update(child for child, _ in survivors)
            elif plan.blocked is None or min(p for _, p in survivors) < plan.blocked.key:
                plan.blocked = Blocked(edge, min(parent for _, parent in survivors))
    return plan
