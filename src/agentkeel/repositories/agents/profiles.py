"""Agent profiles, their tools and skills: built-in profiles stay as shipped, customizing one
copies it, and an edit of a part counts as an edit of its profile.
"""

from __future__ import annotations

import builtins
import itertools
from typing import ClassVar, TypeVar

from agentkeel.domain.agents import (
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    ProfileType,
)
from agentkeel.domain.agents.profiles import ANY
from agentkeel.domain.errors import (
    InvalidValue,
    Protected,
)
from agentkeel.domain.fields import TextRule
from agentkeel.ports.store import (
    Asc,
    Eq,
    IsNull,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import flag_terms
from agentkeel.repositories.state import UnitState
from agentkeel.schema import table_of
from agentkeel.schema.columns import AGENT_PROFILE_SKILLS, AGENT_PROFILE_TOOLS, AGENT_PROFILES

# The columns that make up a profile's definition: changing one is an edit (`version` + 1).
_P = AGENT_PROFILES
DEFINITION = (
    _P.project_id,
    _P.name,
    _P.display_name,
    _P.type,
    _P.description,
    _P.system_prompt,
    _P.color,
)


# What a built-in profile may change: only whether it is in use (and the stamps that follow).
BUILT_IN_WRITABLE = frozenset({_P.deactivated_at, _P.created_at, _P.updated_at, _P.row_version})


# The most a name holds, which a copy's chosen name must fit.
NAME_LENGTH = next(
    rule.max_length
    for rule in AgentProfile.model_fields[_P.name].metadata
    if isinstance(rule, TextRule)
)


class AgentProfilesTable(TableRepository[AgentProfile]):
    entity = AgentProfile

    def __init__(self, state: UnitState) -> None:
        super().__init__(state)
        self._edited = False  # set by `_before_write` for `update`

    def list(
        self,
        *,
        project_id: str | None = None,
        include_global: bool = True,
        type: ProfileType | None = None,
        include_deactivated: bool = False,
    ) -> builtins.list[AgentProfile]:
        if project_id is None and not include_global:
            raise InvalidValue(
                self._label,
                "include_global",
                include_global,
                "can be False only with a project_id (without one, the global profiles are listed)",
            )
        where = self._eq_filters(type=type)
        if not include_deactivated:
            where.append(IsNull(AGENT_PROFILES.deactivated_at))
        found = []
        if project_id is not None:
            found += self._select(
                [Eq(AGENT_PROFILES.project_id, project_id), *where], [Asc(AGENT_PROFILES.name)]
            )
        if include_global:
            found += self._select(
                [IsNull(AGENT_PROFILES.project_id), *where], [Asc(AGENT_PROFILES.name)]
            )
        # Names are unique: Python's order of str is the stores' code point order.
        return sorted(found, key=lambda profile: profile.name)

    def find_by_name(self, name: str) -> AgentProfile | None:
        return self._first([Eq(AGENT_PROFILES.name, name)])

    def deactivate(self, key: str) -> AgentProfile:
        profile = self.get(key)
        profile.deactivate(self._store.clock.now())
        return self.update(profile)

    def reactivate(self, key: str) -> AgentProfile:
        profile = self.get(key)
        profile.reactivate()
        return self.update(profile)

    def customize(
        self, key: str, *, project_id: str | None = None, name: str | None = None
    ) -> AgentProfile:
        source = self.get(key)
        fields = {field: getattr(source, field) for field in DEFINITION if field != "name"}
        fields[AGENT_PROFILES.project_id] = project_id
        if name is not None:  # refused before anything is written if it is no name
            AgentProfile(name=name, **fields)
        parts = AgentProfilePartsCopier(self._state)
        with self._store.atomic():
            copy = self.add(
                AgentProfile(
                    name=self._free_name(source.name) if name is None else name,
                    parent_profile_id=source.id,
                    **fields,
                )
            )
            parts.copy(source.id, copy.id)
        return copy

    def _free_name(self, base: str) -> str:
        """The first of `<base>-custom`, `<base>-custom-2`, ... that no profile has."""
        for number in itertools.count(1):
            suffix = "-custom" if number == 1 else f"-custom-{number}"
            candidate = base[: NAME_LENGTH - len(suffix)] + suffix
            if self.find_by_name(candidate) is None:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    def count_edit(self, key: str) -> None:
        """One more `version`, in SQL (tools and skills are part of the definition)."""
        self._increment(key, AGENT_PROFILES.version)

    def update(self, entity: AgentProfile) -> AgentProfile:
        with self._store.atomic():
            self._edited = False
            updated = super().update(entity)
            if self._edited:
                # In SQL, not from the version read: a tool's edit may have counted since.
                updated = self._increment(updated.id, AGENT_PROFILES.version)
        return updated

    def _before_write(self, profile: AgentProfile, stored: Row | None) -> None:
        if stored is not None:
            if profile.version != stored[AGENT_PROFILES.version]:
                raise InvalidValue(
                    self._label,
                    "version",
                    profile.version,
                    "is counted by the repository: leave it as it was read",
                )
            row = profile.to_row()
            if stored[AGENT_PROFILES.built_in_at] is not None:
                changed = [c for c in row if c not in BUILT_IN_WRITABLE and row[c] != stored[c]]
                if changed:
                    raise Protected(
                        self._label,
                        profile.id,
                        f"is built in: its {changed[0]} cannot change (customize it)",
                    )
            elif profile.built_in_at is not None:
                raise InvalidValue(
                    self._label,
                    "built_in_at",
                    profile.built_in_at,
                    "can only be set when a profile is added",
                )
            self._edited = any(row[c] != stored[c] for c in DEFINITION)
        if profile.is_built_in and profile.project_id is not None:
            raise InvalidValue(
                self._label,
                "project_id",
                profile.project_id,
                "must be null: built-in profiles are global",
            )

    def _before_delete(self, profile: AgentProfile) -> None:
        if profile.is_built_in:
            raise Protected(
                self._label, profile.id, "is built in: deactivate it instead of deleting it"
            )


P = TypeVar("P", bound=AgentProfileTool | AgentProfileSkill)


class _ProfilePartsTable(TableRepository[P]):
    """What tools and skills share: they are part of their profile's definition, so a write
    of one counts as an edit of the profile (and of the profile it leaves, if moved), and
    those of a built-in profile cannot change. The write and its count happen together."""

    part: ClassVar[str]  # "tools" or "skills", for messages
    profile_column: ClassVar[str]  # the column naming the part's profile

    def __init__(self, state: UnitState, *, counts_edits: bool = True) -> None:
        super().__init__(state)
        self._profiles_table = table_of(AgentProfile)
        # A copy made by `customize` is a new profile, not an edit of one.
        self._counts_edits = counts_edits

    def _add(self, entity: P) -> P:
        with self._store.atomic():
            return super()._add(entity)

    def update(self, entity: P) -> P:
        with self._store.atomic():
            return super().update(entity)

    def _profiles_of(self, part: P, stored: Row | None) -> builtins.list[str]:
        keys = [part.profile_id]
        if stored is not None and stored[self.profile_column] != part.profile_id:
            keys.append(stored[self.profile_column])
        return keys

    def _before_write(self, part: P, stored: Row | None) -> None:
        if stored is None or part.changed_columns():
            for key in self._profiles_of(part, stored):
                self._check_writable(key)

    def _after_write(self, part: P, stored: Row | None) -> None:
        if self._counts_edits:
            for key in self._profiles_of(part, stored):
                self._uow.agent_profiles.count_edit(key)

    def _before_delete(self, part: P) -> None:
        self._check_writable(part.profile_id)
        if self._counts_edits:
            self._uow.agent_profiles.count_edit(part.profile_id)

    def _check_writable(self, profile_id: str) -> None:
        profile = self._store.get(self._profiles_table, profile_id)
        if profile is not None and profile[AGENT_PROFILES.built_in_at] is not None:
            raise Protected(
                "agent_profile",
                profile_id,
                f"is built in: its {self.part} cannot change (customize it)",
            )


class AgentProfileToolsTable(_ProfilePartsTable[AgentProfileTool]):
    entity = AgentProfileTool
    part = "tools"
    profile_column = AGENT_PROFILE_TOOLS.profile_id

    def list(
        self, *, profile_id: str, disallowed: bool | None = None
    ) -> builtins.list[AgentProfileTool]:
        where = [
            Eq(AGENT_PROFILE_TOOLS.profile_id, profile_id),
            *flag_terms(self._label, "disallowed", AGENT_PROFILE_TOOLS.disallowed_at, disallowed),
        ]
        order = [
            Asc(AGENT_PROFILE_TOOLS.order_index),
            Asc(AGENT_PROFILE_TOOLS.tool_name),
            Asc(AGENT_PROFILE_TOOLS.tool_pattern),
        ]
        return self._select(where, order)

    def allow(self, key: str) -> AgentProfileTool:
        tool = self.get(key)
        tool.disallowed_at = None
        return self.update(tool)

    def disallow(self, key: str) -> AgentProfileTool:
        tool = self.get(key)
        tool.disallowed_at = tool.disallowed_at or self._store.clock.now()
        return self.update(tool)

    def effective(self, profile_id: str) -> builtins.list[AgentProfileTool]:
        tools = self.list(profile_id=profile_id)
        denied = {t.tool_name for t in tools if t.is_disallowed and t.tool_pattern == ANY}
        return [t for t in tools if not t.is_disallowed and t.tool_name not in denied]


class AgentProfileSkillsTable(_ProfilePartsTable[AgentProfileSkill]):
    entity = AgentProfileSkill
    part = "skills"
    profile_column = AGENT_PROFILE_SKILLS.profile_id

    def list(
        self, *, profile_id: str, required: bool | None = None
    ) -> builtins.list[AgentProfileSkill]:
        where = [
            Eq(AGENT_PROFILE_SKILLS.profile_id, profile_id),
            *flag_terms(self._label, "required", AGENT_PROFILE_SKILLS.required_at, required),
        ]
        return self._select(
            where, [Asc(AGENT_PROFILE_SKILLS.order_index), Asc(AGENT_PROFILE_SKILLS.skill_name)]
        )

    def require(self, key: str) -> AgentProfileSkill:
        skill = self.get(key)
        skill.required_at = skill.required_at or self._store.clock.now()
        return self.update(skill)

    def make_optional(self, key: str) -> AgentProfileSkill:
        skill = self.get(key)
        skill.required_at = None
        return self.update(skill)


class AgentProfilePartsCopier:
    """Copies a profile's tools and skills onto its customized copy, without counting the
    copies as edits of it."""

    def __init__(self, state: UnitState) -> None:
        self._tools = AgentProfileToolsTable(state, counts_edits=False)
        self._skills = AgentProfileSkillsTable(state, counts_edits=False)

    def copy(self, source_id: str, copy_id: str) -> None:
        for tool in self._tools.list(profile_id=source_id):
            self._tools.add(
                AgentProfileTool(
                    profile_id=copy_id,
                    tool_name=tool.tool_name,
                    tool_pattern=tool.tool_pattern,
                    order_index=tool.order_index,
                    disallowed_at=tool.disallowed_at,
                )
            )
        for skill in self._skills.list(profile_id=source_id):
            self._skills.add(
                AgentProfileSkill(
                    profile_id=copy_id,
                    skill_name=skill.skill_name,
                    order_index=skill.order_index,
                    required_at=skill.required_at,
                )
            )
