"""Settings: the 16 defaults, typed values validated on write, reset to default."""

from __future__ import annotations

import pytest

from agentkeel.adapters.store import Eq
from agentkeel.adapters.unit_of_work import BaseUnitOfWork
from agentkeel.domain.errors import InvalidValue, NotFound
from agentkeel.domain.workspace import (
    DEFAULT_SETTINGS,
    Setting,
    SettingCategory,
    SettingValueType,
    encode_setting,
)
from agentkeel.schema import table_of
from agentkeel.services.workspace import seed_default_settings


def test_the_sixteen_defaults_are_seeded(uow: BaseUnitOfWork) -> None:
    settings = {s.key: s for s in uow.settings.list()}
    assert len(settings) == 16
    for definition in DEFAULT_SETTINGS:
        setting = settings[definition.key]
        assert setting.typed_value == definition.default
        assert setting.typed_default == definition.default
        assert setting.category == definition.category
        assert not setting.is_user_modified
    assert uow.settings.value("workflow.defaultPauseBehavior") == "auto_pause"
    assert uow.settings.value_as("workflow.maxConcurrentImplementations", int) == 3
    assert uow.settings.value_as("worktree.autoCleanup", bool) is True
    assert uow.settings.value("logging.exportLocation") == "~/Documents/claude-orchestrator-logs"


def test_seeding_again_adds_nothing_and_keeps_user_values(uow: BaseUnitOfWork) -> None:
    uow.settings.set_value("logging.retentionDays", 7)
    assert seed_default_settings(uow) == []
    assert uow.settings.count() == 16
    assert uow.settings.value("logging.retentionDays") == 7


def test_seeding_restores_a_missing_default(uow: BaseUnitOfWork) -> None:
    # A default can go missing only behind the library's back (e.g. by hand in SQL).
    store = uow._open().store
    store.delete(table_of(Setting), [Eq("key", "worktree.pushOnCompletion")])
    assert [s.key for s in seed_default_settings(uow)] == ["worktree.pushOnCompletion"]


def test_set_value_marks_user_modified_and_reset_clears_it(uow: BaseUnitOfWork) -> None:
    changed = uow.settings.set_value("workflow.maxConcurrentImplementations", 5)
    assert changed.typed_value == 5 and changed.is_user_modified
    again = uow.settings.set_value("workflow.maxConcurrentImplementations", 6)
    assert again.user_modified_at == changed.user_modified_at
    reset = uow.settings.reset("workflow.maxConcurrentImplementations")
    assert reset.typed_value == 3 and reset.user_modified_at is None


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("workflow.maxConcurrentImplementations", "5", "must be a number"),
        ("workflow.maxConcurrentImplementations", True, "must be a number"),
        ("workflow.maxConcurrentImplementations", 0, "must be at least 1"),
        ("workflow.maxConcurrentImplementations", float("nan"), "must be a finite number"),
        ("worktree.autoCleanup", 1, "must be a boolean"),
        ("workflow.defaultPauseBehavior", "sometimes", "must be one of continuous"),
        ("logging.exportLocation", 3, "must be a string"),
    ],
)
def test_values_of_the_wrong_type_are_refused(
    uow: BaseUnitOfWork, key: str, value: object, problem: str
) -> None:
    before = uow.settings.by_key(key)
    with pytest.raises(InvalidValue, match=problem) as caught:
        uow.settings.set_value(key, value)  # type: ignore[arg-type]
    assert caught.value.field == key
    assert uow.settings.by_key(key) == before


def test_custom_settings_are_typed_too(uow: BaseUnitOfWork) -> None:
    uow.settings.add(
        Setting(
            key="ui.panels",
            value=encode_setting({"left": ["files"]}),
            value_type=SettingValueType.JSON,
            category=SettingCategory.UI,
            display_name="Panels",
        )
    )
    assert uow.settings.set_value("ui.panels", [1, 2]).typed_value == [1, 2]
    with pytest.raises(InvalidValue, match="has no default value"):
        uow.settings.reset("ui.panels")
    with pytest.raises(InvalidValue, match="must be a number"):
        Setting(
            key="ui.x",
            value='"text"',
            value_type=SettingValueType.NUMBER,
            category=SettingCategory.UI,
            display_name="X",
        )


def test_value_as_refuses_the_wrong_type(uow: BaseUnitOfWork) -> None:
    with pytest.raises(InvalidValue, match="holds an int, not a bool"):
        uow.settings.value_as("logging.retentionDays", bool)
    assert uow.settings.value_as("logging.retentionDays", float) == 30.0


def test_unknown_key_is_not_found(uow: BaseUnitOfWork) -> None:
    with pytest.raises(NotFound, match=r"setting not found: key='no\.such'"):
        uow.settings.set_value("no.such", 1)


def test_list_by_category_is_sorted_by_key(uow: BaseUnitOfWork) -> None:
    keys = [s.key for s in uow.settings.list(category=SettingCategory.WORKTREE)]
    assert keys == sorted(keys) and len(keys) == 4
