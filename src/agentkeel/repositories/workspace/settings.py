"""Settings: the defined keys only, each value of its kind, resettable to its default."""

from __future__ import annotations

import builtins
from typing import TypeVar

from agentkeel.domain.errors import InvalidValue, NotFound, Protected
from agentkeel.domain.workspace import (
    SETTING_DEFINITIONS,
    Setting,
    SettingCategory,
    SettingChanged,
    SettingValue,
    encode_setting,
    setting_problem,
)
from agentkeel.ports.store import Asc, Eq, Row
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import SETTINGS

T = TypeVar("T")


class SettingsTable(TableRepository[Setting]):
    entity = Setting

    def list(self, *, category: SettingCategory | None = None) -> builtins.list[Setting]:
        return self._select(self._eq_filters(category=category), [Asc(SETTINGS.key)])

    def by_key(self, key: str) -> Setting:
        setting = self._first([Eq(SETTINGS.key, key)])
        if setting is None:
            raise NotFound("setting", key, field="key")
        return setting

    def value(self, key: str) -> SettingValue:
        return self.by_key(key).typed_value

    def value_or_default(self, key: str) -> SettingValue:
        """The value of a defined setting as stored, or its default where it was never
        seeded (no port has this: the other repositories' rules read their settings so)."""
        setting = self._first([Eq(SETTINGS.key, key)])
        return SETTING_DEFINITIONS[key].default if setting is None else setting.typed_value

    def value_as(self, key: str, kind: type[T]) -> T:
        if kind not in (int, float, str, bool, list, dict):
            raise InvalidValue(
                "setting", "kind", kind, "must be int, float, str, bool, list or dict"
            )
        value = self.value(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidValue(
                "setting", key, value, f"holds {_a(type(value).__name__)}, not {_a(kind.__name__)}"
            )
        return value

    def set_value(self, key: str, value: SettingValue) -> Setting:
        setting = self.by_key(key)
        _check_setting_value(setting, value)
        setting.value = encode_setting(value)
        setting.user_modified_at = setting.user_modified_at or self._store.clock.now()
        return self.update(setting)

    def reset(self, key: str) -> Setting:
        setting = self.by_key(key)
        if setting.default_value is None:
            raise InvalidValue("setting", key, None, "has no default value to reset to")
        setting.value = setting.default_value
        setting.user_modified_at = None
        return self.update(setting)

    def _before_write(self, setting: Setting, stored: Row | None) -> None:
        if (
            stored is not None
            and stored[SETTINGS.key] != setting.key
            and stored[SETTINGS.key] in DEFINED
        ):
            raise Protected(
                "setting", stored[SETTINGS.key], "is a default setting: its key is fixed"
            )
        definition = SETTING_DEFINITIONS.get(setting.key)
        if definition is not None:
            definition.check_setting(setting)
        # A changed value other than the default is a user's value in force.
        user_value = setting.default_value is None or setting.value != setting.default_value
        if stored is not None and stored[SETTINGS.value] != setting.value and user_value:
            setting.user_modified_at = setting.user_modified_at or self._store.clock.now()

    def _after_write(self, setting: Setting, stored: Row | None) -> None:
        if stored is not None and stored[SETTINGS.value] != setting.value:
            self._record(SettingChanged(setting.key, setting.typed_value))

    def _before_delete(self, setting: Setting) -> None:
        if setting.key in DEFINED:
            raise Protected(
                "setting", setting.key, "is a default setting: reset it instead of deleting it"
            )


DEFINED = frozenset(SETTING_DEFINITIONS)


def _check_setting_value(setting: Setting, value: SettingValue) -> None:
    """Refuse a value the setting cannot take, naming the setting's key as the field."""
    definition = SETTING_DEFINITIONS.get(setting.key)
    if definition is not None:
        definition.check(value)
    elif (problem := setting_problem(setting.value_type, value)) is not None:
        raise InvalidValue("setting", setting.key, value, problem)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
