"""The in-memory fakes and the databases agree, step by step.

A hypothesis state machine drives every backend with the same random workspace operations
(projects, repositories with default switching, worktrees, settings, templates), each in its
own unit of work, and asserts after each step that all backends returned the same result or
raised the same error (type and message), and that their whole contents are equal. Invariants
check what must hold anyway: no orphan rows, at most one default repository per project,
usage counts never negative.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    rule,
)

from agentkeel.domain.clock import FakeClock
from agentkeel.domain.entity import Entity
from agentkeel.domain.workspace import (
    DEFAULT_SETTINGS,
    Project,
    Repository,
    Setting,
    SettingValueType,
    Template,
    TemplatePlaceholder,
    Worktree,
    WorktreeStatus,
    encode_setting,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import audit, workspace
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

E = TypeVar("E", bound=Entity)
FLAGGED = datetime(2025, 6, 1, tzinfo=UTC)

# Text that is valid, odd, or invalid, drawn from few values so that duplicates happen.
NAMES = st.sampled_from(["api", "web", "Ops", "o'brien", "🚢", "x" * 200])
ODD_TEXT = st.one_of(
    st.sampled_from(["", "  ", "a\x00b", "x" * 201, "'; DROP TABLE projects;--", "ünï", "\ud800"]),
    st.text(max_size=12),
)
PATHS = st.sampled_from(["/wt/a", "/wt/b", "/wt/c"])
SETTING_KEYS = st.sampled_from([d.key for d in DEFAULT_SETTINGS] + ["no.such.key"])
SETTING_VALUES = st.one_of(
    st.integers(-5, 500),
    st.booleans(),
    st.sampled_from(["auto_pause", "gates_only", "x"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


class WorkspaceAgreement(AgreementMachine):
    projects = Bundle("projects")
    repositories = Bundle("repositories")
    worktrees = Bundle("worktrees")
    templates = Bundle("templates")

    # -- projects ---------------------------------------------------------------------------

    @rule(
        target=projects,
        name=st.one_of(NAMES, ODD_TEXT),
        mode=st.sampled_from([None, "genesis", "evolution", "bogus"]),
    )
    def create_project(self, name: str, mode: str | None) -> Any:
        return self.created(
            lambda: Project(name=name, mode=mode),  # type: ignore[arg-type]
            lambda uow, project: uow.projects.add(project),
        )

    @rule(project=projects, description=st.one_of(st.none(), ODD_TEXT))
    def describe_project(self, project: str, description: str | None) -> None:
        def describe(uow: UnitOfWork) -> Project:
            found = uow.projects.get(project)
            found.description = description
            return uow.projects.update(found)

        self.run(describe)

    @rule(project=projects)
    def archive_project(self, project: str) -> None:
        self.run(lambda uow: uow.projects.archive(project))

    @rule(project=projects)
    def unarchive_project(self, project: str) -> None:
        self.run(lambda uow: uow.projects.unarchive(project))

    @rule(project=consumes(projects))
    def delete_project(self, project: str) -> None:
        self.run(lambda uow: uow.projects.delete(project))

    @rule(include_archived=st.booleans())
    def list_projects(self, include_archived: bool) -> None:
        self.run(lambda uow: uow.projects.list(include_archived=include_archived))

    # -- repositories and worktrees -----------------------------------------------------------

    @rule(
        target=repositories,
        project=projects,
        name=NAMES,
        default=st.booleans(),
        url=st.one_of(st.none(), st.sampled_from(["https://git.example/a.git", "a\x00"])),
    )
    def create_repository(self, project: str, name: str, default: bool, url: str | None) -> Any:
        return self.created(
            lambda: Repository(
                project_id=project,
                name=name,
                path=f"/src/{name}",
                url=url,
                set_as_default_at=FLAGGED if default else None,
            ),
            lambda uow, repository: uow.repositories.add(repository),
        )

    @rule(repository=repositories)
    def set_default_repository(self, repository: str) -> None:
        self.run(lambda uow: uow.repositories.set_default(repository))

    @rule(repository=repositories, name=NAMES)
    def rename_repository(self, repository: str, name: str) -> None:
        def rename(uow: UnitOfWork) -> Repository:
            found = uow.repositories.get(repository)
            found.name = name
            return uow.repositories.update(found)

        self.run(rename)

    @rule(repository=repositories, project=projects)
    def move_repository(self, repository: str, project: str) -> None:
        def move(uow: UnitOfWork) -> Repository:
            found = uow.repositories.get(repository)
            found.project_id = project
            return uow.repositories.update(found)

        self.run(move)

    @rule(repository=consumes(repositories))
    def delete_repository(self, repository: str) -> None:
        self.run(lambda uow: uow.repositories.delete(repository))

    @rule(project=projects)
    def list_repositories(self, project: str) -> None:
        self.run(
            lambda uow: (
                uow.repositories.list(project_id=project),
                uow.repositories.default_of(project),
            )
        )

    @rule(target=worktrees, repository=repositories, path=PATHS)
    def create_worktree(self, repository: str, path: str) -> Any:
        return self.created(
            lambda: Worktree(repository_id=repository, path=path, branch_name="feature/x"),
            lambda uow, worktree: uow.worktrees.add(worktree),
        )

    @rule(worktree=worktrees, status=st.sampled_from(list(WorktreeStatus)))
    def move_worktree(self, worktree: str, status: WorktreeStatus) -> None:
        self.run(lambda uow: uow.worktrees.move_to(worktree, status))

    # -- settings ---------------------------------------------------------------------------

    @rule(key=SETTING_KEYS, value=SETTING_VALUES)
    def change_setting(self, key: str, value: Any) -> None:
        self.run(lambda uow: uow.settings.set_value(key, value))

    @rule(key=SETTING_KEYS)
    def reset_setting(self, key: str) -> None:
        self.run(lambda uow: uow.settings.reset(key))

    @rule(
        key=SETTING_KEYS,
        value=SETTING_VALUES,
        value_type=st.one_of(st.none(), st.sampled_from(list(SettingValueType))),
        user_modified=st.one_of(st.none(), st.booleans()),
    )
    def update_setting_directly(
        self,
        key: str,
        value: Any,
        value_type: SettingValueType | None,
        user_modified: bool | None,
    ) -> None:
        """The generic `update`, which must obey every rule `set_value` obeys."""
        try:
            text = encode_setting(value)
        except ValueError:
            return  # NaN and infinity are not JSON: nothing to send
        modified_at = {None: None, True: FLAGGED, False: None}[user_modified]

        def update(uow: UnitOfWork) -> Setting:
            found = uow.settings.by_key(key)
            if value_type is not None:
                found.value_type = value_type
            found.value = text
            if user_modified is not None:
                found.user_modified_at = modified_at
            return uow.settings.update(found)

        self.run(update)

    @rule(key=SETTING_KEYS)
    def delete_setting_directly(self, key: str) -> None:
        self.run(lambda uow: uow.settings.delete(uow.settings.by_key(key).id))

    # -- templates --------------------------------------------------------------------------

    @rule(
        target=templates,
        name=NAMES,
        category=st.sampled_from(["data", "ui", "nope"]),
        built_in=st.booleans(),
    )
    def create_template(self, name: str, category: str, built_in: bool) -> Any:
        return self.created(
            lambda: Template(
                name=name,
                category=category,  # type: ignore[arg-type]
                template_text="Make {{thing}} for {{who}}",
                built_in_at=FLAGGED if built_in else None,
            ),
            lambda uow, template: uow.templates.add(template),
        )

    @rule(
        template=templates,
        name=st.sampled_from(["thing", "who", "bad name"]),
        required=st.booleans(),
        pattern=st.sampled_from([None, "[a-z]+", "("]),
        default=st.sampled_from([None, "x", "Y"]),
    )
    def add_placeholder(
        self, template: str, name: str, required: bool, pattern: str | None, default: str | None
    ) -> None:
        self.created(
            lambda: TemplatePlaceholder(
                template_id=template,
                name=name,
                display_name=name,
                validation_pattern=pattern,
                default_value=default,
                required_at=FLAGGED if required else None,
            ),
            lambda uow, placeholder: uow.template_placeholders.add(placeholder),
        )

    @rule(
        template=templates,
        values=st.dictionaries(
            st.sampled_from(["thing", "who", "other"]),
            st.sampled_from(["abc", "ABC", "", "a\x00"]),
            max_size=3,
        ),
    )
    def render_template(self, template: str, values: dict[str, str]) -> None:
        self.run(lambda uow: workspace.render(uow, template, values))

    @rule(template=templates)
    def deactivate_template(self, template: str) -> None:
        self.run(lambda uow: uow.templates.deactivate(template))

    @rule(template=templates)
    def delete_template(self, template: str) -> None:
        self.run(lambda uow: uow.templates.delete(template))

    @rule(template=templates)
    def delete_template_directly(self, template: str) -> None:
        self.run(lambda uow: uow.templates.delete(template))

    @rule(
        template=templates,
        name=NAMES,
        built_in=st.booleans(),
        deactivated=st.booleans(),
        usage_count=st.sampled_from([None, 0, 7, 2**63 - 1]),
    )
    def update_template_directly(
        self,
        template: str,
        name: str,
        built_in: bool,
        deactivated: bool,
        usage_count: int | None,
    ) -> None:
        def update(uow: UnitOfWork) -> Template:
            found = uow.templates.get(template)
            found.name = name
            found.built_in_at = FLAGGED if built_in else None
            found.deactivated_at = FLAGGED if deactivated else None
            if usage_count is not None:
                found.usage_count = usage_count
            return uow.templates.update(found)

        self.run(update)

    @rule(template=templates)
    def record_use(self, template: str) -> None:
        self.run(lambda uow: uow.templates.record_use(template))

    # -- audit ------------------------------------------------------------------------------

    @rule(days=st.integers(0, 40))
    def purge_audit_logs(self, days: int) -> None:
        for db in self.dbs.values():
            assert isinstance(db.clock, FakeClock)
            db.clock.advance(timedelta(days=days))
        self.run(audit.purge_audit_logs)

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def contents_agree_and_hold_together(self) -> None:
        contents = self.agreed_contents()
        ids = {
            table: {row["id"] for row in rows}
            for table, rows in contents.items()
            if table not in ("audit_logs", "event_log")
        }
        assert {r["project_id"] for r in contents["repositories"]} <= ids["projects"]
        assert {w["repository_id"] for w in contents["worktrees"]} <= ids["repositories"]
        assert {p["template_id"] for p in contents["template_placeholders"]} <= ids["templates"]
        defaults = [r["project_id"] for r in contents["repositories"] if r["set_as_default_at"]]
        assert len(defaults) == len(set(defaults)), "two defaults in one project"
        assert all(t["usage_count"] >= 0 for t in contents["templates"])


@on_every_backend
def test_memory_and_databases_agree(sqlite_template: Path, request: pytest.FixtureRequest) -> None:
    check_agreement(WorkspaceAgreement, sqlite_template, request)
