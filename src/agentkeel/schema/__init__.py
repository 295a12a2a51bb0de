"""The schema: every table, read by the SQL adapter, the in-memory fakes and Alembic."""

from sqlalchemy import Table

from agentkeel.domain.entity import Entity
from agentkeel.schema import agents, audit, backlog, events, planning, workflows, workspace
from agentkeel.schema.base import ENTITIES, label_of, metadata

__all__ = [
    "agents",
    "audit",
    "backlog",
    "entity_of",
    "events",
    "label_of",
    "metadata",
    "planning",
    "table_of",
    "workflows",
    "workspace",
]

_TABLE_OF: dict[type[Entity], Table] = {
    entity: metadata.tables[name] for name, entity in ENTITIES.items()
}


def table_of(entity: type[Entity]) -> Table:
    """The table that stores `entity`."""
    return _TABLE_OF[entity]


def entity_of(table: Table) -> type[Entity]:
    return ENTITIES[table.name]
