"""Settings: CO's 16 defaults and ours, typed values validated on write, reset to default."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue, NotFound, Protected
from agentkeel.domain.workspace import (
    CO_SETTINGS,
    DEFAULT_SETTINGS,
    OWN_SETTINGS,
    Setting,
    SettingCategory,
    SettingChanged,
    SettingValueType,
    encode_setting,
)
from agentkeel.ports.store import Eq
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from agentkeel.services.workspace import seed_default_settings
from tests.factories import store_of


def test_the_sixteen_defaults_and_ours_are_seeded(uow: UnitOfWork) -> None:
    settings = {s.key: s for s in uow.settings.list()}
    assert len(CO_SETTINGS) == 16
    assert [d.key for d in OWN_SETTINGS] == [
        "tasks.maxCrashRetries",
        "retention.eventLogDays",
        "retention.idempotencyKeyDays",
        "retention.agentLogDays",
        "retention.metricsDays",
    ]
    assert len(settings) == 21
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
    assert uow.settings.value_as("tasks.maxCrashRetries", int) == 3
    assert settings["tasks.maxCrashRetries"].category is SettingCategory.ADVANCED


def test_seeding_again_adds_nothing_and_keeps_user_values(uow: UnitOfWork) -> None:
    uow.settings.set_value("logging.retentionDays", 7)
    assert seed_default_settings(uow) == []
    assert uow.settings.count() == 21
    assert uow.settings.value("logging.retentionDays") == 7


def test_seeding_restores_a_missing_default(uow: UnitOfWork) -> None:
    # A default can go missing only behind the library's back (e.g. by hand in SQL).
    store = store_of(uow)
    store.delete(table_of(Setting), [Eq("key", "worktree.pushOnCompletion")])
    assert [s.key for s in seed_default_settings(uow)] == ["worktree.pushOnCompletion"]


def test_set_value_marks_user_modified_and_reset_clears_it(uow: UnitOfWork) -> None:
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
        ("workflow.maxConcurrentImplementations", float("nan"), "must not contain NaN or infinity"),
        ("worktree.autoCleanup", 1, "must be a boolean"),
        ("workflow.defaultPauseBehavior", "sometimes", "must be one of continuous"),
        ("logging.exportLocation", 3, "must be a string"),
    ],
)
def test_values_of_the_wrong_type_are_refused(
    uow: UnitOfWork, key: str, value: object, problem: str
) -> None:
    before = uow.settings.by_key(key)
    with pytest.raises(InvalidValue, match=problem) as caught:
        uow.settings.set_value(key, value)  # type: ignore[arg-type]
    assert caught.value.field == key
    assert uow.settings.by_key(key) == before


def test_custom_settings_are_typed_too(uow: UnitOfWork) -> None:
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


def test_value_as_refuses_the_wrong_type(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidValue, match="holds an int, not a bool"):
        uow.settings.value_as("logging.retentionDays", bool)
    assert uow.settings.value_as("logging.retentionDays", float) == 30.0


def test_unknown_key_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match=r"setting not found: key='no\.such'"):
        uow.settings.set_value("no.such", 1)


def test_list_by_category_is_sorted_by_key(uow: UnitOfWork) -> None:
    keys = [s.key for s in uow.settings.list(category=SettingCategory.WORKTREE)]
    assert keys == sorted(keys) and len(keys) == 4


# -- every path that writes a setting obeys its rules --------------------------------------


def _generic(uow: UnitOfWork, setting_key: str, /, **changes: object) -> Setting:
    """Change a setting through the generic `update`, not `set_value`."""
    setting = uow.settings.by_key(setting_key)
    for name, value in changes.items():
        setattr(setting, name, value)
    return uow.settings.update(setting)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("workflow.defaultPauseBehavior", '"bogus"', "must be one of continuous"),
        ("workflow.maxConcurrentImplementations", "-5", "must be at least 1"),
        ("workflow.maxConcurrentImplementations", "2.5", "must be a whole number"),
        ("logging.retentionDays", '"forever"', "must be a number"),
    ],
)
def test_the_generic_update_checks_what_set_value_checks(
    uow: UnitOfWork, key: str, value: str, problem: str
) -> None:
    before = uow.settings.by_key(key)
    with pytest.raises(InvalidValue, match=problem):
        _generic(uow, key, value=value)
    assert uow.settings.by_key(key) == before


def test_a_default_settings_type_and_default_cannot_change(uow: UnitOfWork) -> None:
    key = "logging.retentionDays"
    with pytest.raises(InvalidValue, match=r"setting\.value_type of logging\.retentionDays is"):
        _generic(uow, key, value_type=SettingValueType.JSON, value='"forever"')
    with pytest.raises(InvalidValue, match=r"setting\.default_value of logging\.retentionDays"):
        _generic(uow, key, default_value="7")
    with pytest.raises(Protected, match="its key is fixed"):
        _generic(uow, key, key="logging.renamed")
    assert uow.settings.value("logging.retentionDays") == 30


def test_a_user_change_through_update_is_marked_user_modified(uow: UnitOfWork) -> None:
    changed = _generic(uow, "logging.retentionDays", value="7")
    assert changed.typed_value == 7 and changed.is_user_modified
    back = _generic(uow, "logging.retentionDays", value="30", user_modified_at=None)
    assert back.typed_value == 30 and not back.is_user_modified  # a reset by hand


def test_default_settings_cannot_be_deleted_but_custom_ones_can(uow: UnitOfWork) -> None:
    setting = uow.settings.by_key("logging.retentionDays")
    with pytest.raises(Protected, match="is a default setting: reset it instead"):
        uow.settings.delete(setting.id)
    assert uow.settings.reset("logging.retentionDays").typed_value == 30
    custom = uow.settings.add(
        Setting(
            key="ui.theme",
            value='"dark"',
            category=SettingCategory.UI,
            display_name="Theme",
        )
    )
    assert uow.settings.delete(custom.id) == {"settings": 1}


@pytest.mark.parametrize(
    "key",
    [
        "workflow.maxConcurrentImplementations",
        "workflow.clarificationTimeout",
        "workflow.implementationTimeout",
        "logging.retentionDays",
    ],
)
def test_counts_days_and_timeouts_are_whole_numbers(uow: UnitOfWork, key: str) -> None:
    with pytest.raises(InvalidValue, match="must be a whole number") as caught:
        uow.settings.set_value(key, 2.5)
    assert caught.value.field == key
    assert uow.settings.set_value(key, 2).typed_value == 2
    assert uow.settings.value_as(key, int) == 2


def test_setting_events_come_from_every_path(db: Database) -> None:
    seen: list[SettingChanged] = []
    db.subscribe(SettingChanged, seen.append)
    with db.unit_of_work() as uow:
        uow.settings.set_value("logging.retentionDays", 7)
        _generic(uow, "logging.retentionDays", value="8")
        uow.settings.reset("logging.retentionDays")
        uow.commit()
    assert [event.value for event in seen] == [7, 8, 30]


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def panels(uow: UnitOfWork) -> Setting:
    return uow.settings.add(
        Setting(
            key="ui.panels",
            value="{}",
            value_type=SettingValueType.JSON,
            category=SettingCategory.UI,
            display_name="Panels",
        )
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({1: "a"}, "must have only string keys"),
        (2**63, "must hold only integers from"),
        (10**400, "must hold only integers from"),
        ((1, 2), "must hold only JSON values"),
        (_nested(100), "must not nest lists and objects"),
    ],
)
def test_setting_values_are_json_values(
    uow: UnitOfWork, panels: Setting, value: object, problem: str
) -> None:
    """Nothing is changed on the way: a value that JSON cannot hold exactly is refused."""
    with pytest.raises(InvalidValue, match=problem) as caught:
        uow.settings.set_value("ui.panels", value)  # type: ignore[arg-type]
    assert caught.value.field == "ui.panels"
