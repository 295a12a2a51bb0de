"""Change sets: recording entries, reverting (creates deleted, updates and deletes
restored, newest first), refusals when a later change touched an entity or it was reverted."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import Conflict, InvalidValue, NotFound, Protected
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    Page,
    ProposalTarget,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.planning import accept_proposal
from tests.contract.planning import review_data as data

_CONTENT = ("title", "content", "parent_page_id", "sort_order", "initiative_id", "id")


def _content(page: Page) -> tuple[object, ...]:
    return tuple(getattr(page, name) for name in _CONTENT)


def _entry(
    kind: ChangedEntity, action: ChangeAction, before: Page | None, after: Page | None
) -> ChangeSetEntry:
    entity = after or before
    assert entity is not None
    return ChangeSetEntry(
        change_set_id="unset",
        entity_type=kind,
        entity_id=entity.id,
        action=action,
        before_state=None if before is None else before.audit_state(),
        after_state=None if after is None else after.audit_state(),
    )


def test_record_numbers_entries_in_order(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    root = data.page(uow, owner)
    child = data.page(uow, owner, "Child", parent_page_id=root.id)
    change_set = uow.change_sets.record(
        ChangeSet(initiative_id=owner.initiative.id, description="two pages"),
        [
            _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root),
            _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, child),
        ],
    )
    entries = uow.change_sets.entries(change_set.id)
    assert [(e.position, e.entity_id) for e in entries] == [(1, root.id), (2, child.id)]
    assert uow.change_set_entries.find_by_change_set(change_set.id) == entries
    assert uow.change_sets.find_by_initiative(owner.initiative.id) == [change_set]
    assert uow.change_sets.find_by_initiative("other") == []


def test_entries_must_fit_their_action(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    root = data.page(uow, owner)
    change_set = uow.change_sets.add(ChangeSet(initiative_id=owner.initiative.id))
    bad = [
        (_entry(ChangedEntity.PAGE, ChangeAction.UPDATE, None, root), "before_state"),
        (_entry(ChangedEntity.PAGE, ChangeAction.CREATE, root, root), "before_state"),
        (_entry(ChangedEntity.PAGE, ChangeAction.DELETE, root, root), "after_state"),
    ]
    for entry, field in bad:
        entry.change_set_id = change_set.id
        with pytest.raises(InvalidValue) as caught:
            uow.change_set_entries.add(entry)
        assert caught.value.field == field
    wrong = _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root)
    wrong.change_set_id = change_set.id
    wrong.entity_id = "someone-else"
    with pytest.raises(InvalidValue, match="must be the state of entity_id"):
        uow.change_set_entries.add(wrong)
    orphan = _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root)
    orphan.change_set_id = "missing"
    with pytest.raises(NotFound, match="change_set"):
        uow.change_set_entries.add(orphan)
    # All or nothing: a refused entry leaves no change set behind.
    with pytest.raises(InvalidValue):
        uow.change_sets.record(
            ChangeSet(initiative_id=owner.initiative.id),
            [
                _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root),
                _entry(ChangedEntity.PAGE, ChangeAction.UPDATE, None, root),
            ],
        )
    assert uow.change_sets.count() == 1
    assert uow.change_set_entries.count() == 0


def test_entries_are_append_only(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    root = data.page(uow, owner)
    change_set = uow.change_sets.record(
        ChangeSet(initiative_id=owner.initiative.id),
        [_entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root)],
    )
    [entry] = uow.change_sets.entries(change_set.id)
    entry.after_state = {}
    with pytest.raises(Protected, match="append-only"):
        uow.change_set_entries.update(entry)
    with pytest.raises(Protected, match="append-only"):
        uow.change_set_entries.delete(entry.id)
    assert uow.change_sets.delete(change_set.id)["change_set_entries"] == 1


def test_revert_restores_creates_updates_and_deletes(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    root = data.page(uow, owner, content={"type": "doc"})
    doomed = data.page(uow, owner, "Doomed", parent_page_id=root.id, sort_order=7)
    before_root = _content(root)
    before_doomed = _content(doomed)
    # The change: a new child, an edited root, a deleted page; recorded as it happened.
    created = data.page(uow, owner, "New", parent_page_id=root.id)
    edited = uow.pages.get(root.id)
    edited.title = "Edited root"
    edited.content = None
    edited = uow.pages.update(edited)
    uow.pages.delete(doomed.id)
    change_set = uow.change_sets.record(
        ChangeSet(initiative_id=owner.initiative.id),
        [
            _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, created),
            _entry(ChangedEntity.PAGE, ChangeAction.UPDATE, root, edited),
            _entry(ChangedEntity.PAGE, ChangeAction.DELETE, doomed, None),
        ],
    )
    reverted = uow.change_sets.revert(change_set.id)
    assert reverted.is_reverted
    assert uow.pages.find(created.id) is None
    assert _content(uow.pages.get(root.id)) == before_root
    assert _content(uow.pages.get(doomed.id)) == before_doomed
    # Not a Conflict: retrying cannot revert it twice.
    with pytest.raises(Protected, match="was already reverted") as refused:
        uow.change_sets.revert(change_set.id)
    assert (refused.value.entity, refused.value.key) == ("change_set", change_set.id)
    assert not isinstance(refused.value, Conflict)
    # A reverted change set takes no new entries.
    late = _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root)
    late.change_set_id = change_set.id
    with pytest.raises(Protected, match="is reverted"):
        uow.change_set_entries.add(late)
    with pytest.raises(NotFound):
        uow.change_sets.revert("missing")


def test_revert_is_refused_when_a_later_change_touched_an_entity(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    task = data.task(uow, owner, "Original")
    first = data.proposal(uow, owner, ProposalTarget.TASK, task.id, title="First")
    accepted = accept_proposal(uow, first.id)
    new = accept_proposal(uow, data.proposal(uow, owner, ProposalTarget.PHASE, title="P").id)
    later = uow.tasks.get(task.id)
    later.name = "Later"
    uow.tasks.update(later)
    # Not a Conflict: only reverting the later change first lets it through.
    with pytest.raises(Protected) as caught:
        uow.change_sets.revert(accepted.change_set.id)
    assert not isinstance(caught.value, Conflict)
    assert (caught.value.entity, caught.value.key) == ("task", task.id)
    assert "was changed after change set" in str(caught.value)
    assert uow.tasks.get(task.id).name == "Later"
    assert not uow.change_sets.get(accepted.change_set.id).is_reverted
    # A created entity edited later is refused too; one deleted later as well.
    phase = uow.phases.get(new.target.id)
    uow.phases.delete(phase.id)
    with pytest.raises(Protected, match="phase"):
        uow.change_sets.revert(new.change_set.id)
    assert uow.phases.find(phase.id) is None


def test_revert_of_nested_creates_removes_them_all(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    root = data.page(uow, owner)
    child = data.page(uow, owner, "Child", parent_page_id=root.id)
    change_set = uow.change_sets.record(
        ChangeSet(initiative_id=owner.initiative.id),
        [
            _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, root),
            _entry(ChangedEntity.PAGE, ChangeAction.CREATE, None, child),
        ],
    )
    uow.change_sets.revert(change_set.id)
    assert uow.pages.count() == 0


def test_revert_of_an_entity_changed_twice_in_one_change_set(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    created = data.phase(uow, owner, "First")
    renamed = uow.phases.get(created.id)
    renamed.name = "Second"
    renamed = uow.phases.update(renamed)
    change_set = uow.change_sets.record(
        ChangeSet(initiative_id=owner.initiative.id),
        [
            ChangeSetEntry(
                change_set_id="unset",
                entity_type=ChangedEntity.PHASE,
                entity_id=created.id,
                action=ChangeAction.CREATE,
                after_state=created.audit_state(),
            ),
            ChangeSetEntry(
                change_set_id="unset",
                entity_type=ChangedEntity.PHASE,
                entity_id=created.id,
                action=ChangeAction.UPDATE,
                before_state=created.audit_state(),
                after_state=renamed.audit_state(),
            ),
        ],
    )
    uow.change_sets.revert(change_set.id)
    assert uow.phases.find(created.id) is None
