"""Row versions: every table whose rows can change refuses an update made from a stale read
(`Conflict`); every other table is append-only, and says so where it is enforced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import BigInteger

from agentkeel.database import Database
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import Conflict, Protected
from agentkeel.domain.planning import InitiativeRepositoryLink
from agentkeel.domain.workflows import WorkflowType
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.state import UnitState
from agentkeel.repositories.unit_of_work import BaseUnitOfWork, OnFirstUse
from agentkeel.schema import metadata
from agentkeel.schema.base import ENTITIES
from tests import factories

Change = Callable[[Any], None]


@dataclass(frozen=True)
class Case:
    """A row of `port` (made by `setup`, which returns its key and two different changes)."""

    port: str
    setup: Callable[[UnitOfWork], tuple[str, Change, Change]]


def _set(**values: Any) -> Change:
    def change(entity: Any) -> None:
        for name, value in values.items():
            setattr(entity, name, value)

    return change


def _requirement(uow: UnitOfWork) -> tuple[str, Change, Change]:
    requirement = factories.requirement(uow, factories.project(uow))
    return requirement.id, _set(description="newer"), _set(description="older")


def _sub_feature(uow: UnitOfWork) -> tuple[str, Change, Change]:
    feature = factories.feature(uow, factories.project(uow))
    form = factories.sub_feature(uow, feature)
    return form.id, _set(name="Newer form"), _set(name="Older form")


def _workflow_repository(uow: UnitOfWork) -> tuple[str, Change, Change]:
    project = factories.project(uow)
    api, web = factories.repository(uow, project), factories.repository(uow, project, "web")
    workflow = factories.workflow(uow, project)
    uow.workflow_repositories.link(workflow.id, api.id)  # the first link is the primary
    link = uow.workflow_repositories.link(workflow.id, web.id)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return link.id, _set(set_primary_at=at), _set(set_primary_at=at.replace(day=2))


def _initiative_repository(uow: UnitOfWork) -> tuple[str, Change, Change]:
    project = factories.project(uow)
    api, web, docs = (factories.repository(uow, project, name) for name in ("api", "web", "docs"))
    initiative = factories.initiative(uow, project)
    link = uow.initiative_repositories.add(
        InitiativeRepositoryLink(initiative_id=initiative.id, repository_id=api.id)
    )
    return link.id, _set(repository_id=web.id), _set(repository_id=docs.id)


def _requirement_feature(uow: UnitOfWork) -> tuple[str, Change, Change]:
    project = factories.project(uow)
    requirement = factories.requirement(uow, project)
    one, two, three = (factories.feature(uow, project, name) for name in ("One", "Two", "Three"))
    link = uow.requirement_features.link(requirement.id, one.id)
    return link.id, _set(feature_id=two.id), _set(feature_id=three.id)


def _phase_dependency(uow: UnitOfWork) -> tuple[str, Change, Change]:
    initiative = factories.initiative(uow, factories.project(uow))
    a, b, c, d = (factories.phase(uow, initiative, name) for name in "abcd")
    edge = uow.phase_dependencies.create(a.id, b.id)
    return edge.id, _set(depends_on_phase_id=c.id), _set(depends_on_phase_id=d.id)


def _task_dependency(uow: UnitOfWork) -> tuple[str, Change, Change]:
    project = factories.project(uow)
    a, b, c, d = (factories.task(uow, project, name) for name in "abcd")
    edge = uow.task_dependencies.create(a.id, b.id)
    return edge.id, _set(depends_on_task_id=c.id), _set(depends_on_task_id=d.id)


CASES = [
    Case("requirements", _requirement),
    Case("sub_features", _sub_feature),
    Case("workflow_repositories", _workflow_repository),
    Case("initiative_repositories", _initiative_repository),
    Case("requirement_features", _requirement_feature),
    Case("phase_dependencies", _phase_dependency),
    Case("task_dependencies", _task_dependency),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.port)
def test_an_update_from_a_copy_read_before_a_committed_change_is_a_conflict(
    db: Database, case: Case
) -> None:
    with db.unit_of_work() as uow:
        key, newer, older = case.setup(uow)
        uow.commit()
    with db.unit_of_work() as uow:
        stale = getattr(uow, case.port).get(key)
    with db.unit_of_work() as uow:
        fresh = getattr(uow, case.port).get(key)
        newer(fresh)
        changed = getattr(uow, case.port).update(fresh)
        uow.commit()
    assert (stale.row_version, changed.row_version) == (1, 2)
    with db.unit_of_work() as uow:
        older(stale)
        with pytest.raises(Conflict, match="changed by another unit of work") as caught:
            getattr(uow, case.port).update(stale)
        assert caught.value.key == key
        # Nothing was written: the committed change stands.
        assert getattr(uow, case.port).get(key).model_dump() == changed.model_dump()
        # Read again, the same change goes through.
        again = getattr(uow, case.port).get(key)
        older(again)
        assert getattr(uow, case.port).update(again).row_version == 3


def test_a_stale_link_cannot_make_itself_the_primary_again(db: Database) -> None:
    """A link read before it was made the primary and then lost it again (both through
    `set_primary`) cannot be written as the primary from that read: its values look as
    they did when it was read, only its row version tells the write is stale."""
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        api, web = factories.repository(uow, project), factories.repository(uow, project, "web")
        workflow = factories.workflow(uow, project, WorkflowType.PLANNING)
        uow.workflow_repositories.link(workflow.id, api.id)
        link = uow.workflow_repositories.link(workflow.id, web.id)
        uow.commit()
    with db.unit_of_work() as uow:
        uow.workflow_repositories.set_primary(workflow.id, web.id)
        uow.workflow_repositories.set_primary(workflow.id, api.id)
        uow.commit()
    with db.unit_of_work() as uow:
        link.set_primary_at = datetime(2026, 3, 1, tzinfo=UTC)
        with pytest.raises(Conflict):
            uow.workflow_repositories.update(link)
        assert uow.workflow_repositories.primary_of(workflow.id) == uow.repositories.get(api.id)


def _repositories_of(uow: UnitOfWork) -> dict[type[Entity], list[object]]:
    """Every repository of the unit of work, by the entity it stores."""
    found: dict[type[Entity], list[object]] = {}
    for name, attribute in vars(BaseUnitOfWork).items():
        if isinstance(attribute, OnFirstUse):
            repository = getattr(uow, name)
            if isinstance(repository, TableRepository):
                found.setdefault(repository.entity, []).append(repository)
    return found


def test_every_table_has_a_row_version_or_is_append_only_and_refuses_updates(
    uow: UnitOfWork,
) -> None:
    """Walks the whole schema, so a table added later without either fails here."""
    repositories = _repositories_of(uow)
    state = UnitState(factories.store_of(uow))
    append_only = []
    for table in metadata.sorted_tables:
        entity = ENTITIES.get(table.name)
        declared = bool(table.info.get("append_only"))
        if entity is not None and entity.version_field is not None:
            column = table.c.get(entity.version_field)
            assert column is not None, f"{table.name}: no {entity.version_field} column"
            assert isinstance(column.type, BigInteger) and not column.nullable, table.name
            assert not declared and not entity.append_only, f"{table.name}: versioned and not"
            continue
        if entity is None and "row_version" in table.c:  # a table of the library's own
            column = table.c["row_version"]
            assert isinstance(column.type, BigInteger) and not column.nullable, table.name
            assert not declared, f"{table.name}: versioned and not"
            continue
        assert declared, f"{table.name} has neither a row version nor an append-only declaration"
        append_only.append(table.name)
        if entity is None:
            # A table of the library's own (the event log): nothing offers to update it.
            assert not any(
                hasattr(getattr(uow, name), "update")
                for name, attribute in vars(BaseUnitOfWork).items()
                if isinstance(attribute, OnFirstUse)
                and not isinstance(getattr(uow, name), TableRepository)
            ), table.name
            continue
        assert entity.append_only, f"{table.name}: the table says append-only, its entity not"
        # Enforced by the generic repository, for a repository written later too ...
        generic = type("Generic", (TableRepository,), {"entity": entity})(state)
        row = entity.model_construct(id="any")
        with pytest.raises(Protected, match="append-only"):
            generic.update(row)
        # ... and by every repository of the unit of work that stores it.
        for repository in repositories.get(entity, []):
            with pytest.raises(Protected, match="append-only"):
                repository.update(row)  # type: ignore[attr-defined]
    assert sorted(append_only) == [
        "agent_log_chunks",
        "audit_logs",
        "change_set_entries",
        "chat_messages",
        "checkpoints",
        "event_log",
        "idempotency_keys",
        "metrics",
    ]
