"""Bad input gets the same clear domain error from every backend, and nothing is written."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.audit import AuditEntry, EventSource
from agentkeel.domain.errors import AlreadyExists, DomainError, InvalidValue
from agentkeel.domain.workspace import (
    Project,
    Repository,
    Setting,
    SettingCategory,
    SettingValueType,
    Template,
    Worktree,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests.factories import store_of

ODD_TEXT = [
    "Robert'); DROP TABLE projects;--",
    "quotes \" and ' and `",
    "emoji 🚢⚓ and ünïcödé and 中文",
    "line\nbreaks\tand\rreturns",
    "%_ wildcard % and _ underscores \\",
]


@pytest.mark.parametrize("name", ODD_TEXT)
def test_odd_text_round_trips_exactly(uow: UnitOfWork, name: str) -> None:
    """Text round-trips exactly; names are stored normalised (white space made single)."""
    project = uow.projects.add(Project(name=name, description=name * 3))
    assert uow.projects.get(project.id).name == " ".join(name.split())
    assert uow.projects.get(project.id).description == name * 3
    assert [p.description for p in uow.projects.list()] == [name * 3]


def test_longest_allowed_text_is_stored_whole(uow: UnitOfWork) -> None:
    name = "ß" * 200  # characters, not bytes
    assert uow.projects.add(Project(name=name)).name == name


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Project(name="a\x00b"), "project.name must not contain NUL characters"),
        (lambda: Project(name="x" * 201), "project.name must be at most 200 characters long"),
        (lambda: Project(name="   "), "project.name must not be blank"),
        (lambda: Project.model_validate({"name": None}), "project.name is invalid"),
        (lambda: Project.model_validate({}), "project.name is required"),
        (
            lambda: Project.model_validate({"name": "ok", "mode": "revolution"}),
            "project.mode must be one of",
        ),
        (
            lambda: Project.model_validate({"name": "ok", "colour": "red"}),
            "project.colour is not a field",
        ),
        (lambda: Project(name="ok", id="has space"), "project.id must be 1 to 64 URL-safe"),
        (lambda: Project.model_validate({"name": 5}), "project.name is invalid"),
        (
            lambda: Template.model_validate(
                {"name": "t", "category": "data", "template_text": "x", "usage_count": -1}
            ),
            "template.usage_count must be between 0 and",
        ),
        (
            lambda: Template.model_validate(
                {"name": "t", "category": "data", "template_text": "x", "usage_count": True}
            ),
            "template.usage_count is invalid",
        ),
        (
            lambda: Worktree(repository_id="r", path="/p", branch_name="b\x00"),
            "worktree.branch_name must not contain NUL",
        ),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        build()
    assert str(caught.value).startswith(message)


def test_naive_datetimes_are_refused() -> None:
    from datetime import datetime

    with pytest.raises(InvalidValue, match=r"project\.archived_at must be timezone-aware"):
        Project(name="x", archived_at=datetime(2026, 1, 1))


def test_a_bad_assignment_is_refused_and_leaves_the_entity_as_it_was(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match=r"project\.name must be at most 200"):
        project.name = "y" * 300
    assert project.name == "Keel"


def test_huge_values_are_shown_shortened_in_errors() -> None:
    with pytest.raises(InvalidValue) as caught:
        Project(name="z" * 100_000)
    assert len(str(caught.value)) < 200


def test_errors_leave_nothing_written(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.repository(uow, project, "api")
    attempts: list[Callable[[], object]] = [
        lambda: factories.repository(uow, project, "api"),
        lambda: uow.repositories.add(Repository(project_id="ghost", name="x", path="/x")),
        lambda: uow.worktrees.add(Worktree(repository_id="ghost", path="/w", branch_name="b")),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError):
            attempt()
    assert uow.repositories.count() == 1
    assert uow.worktrees.count() == 0


def test_entities_that_skipped_validation_are_checked_on_write(uow: UnitOfWork) -> None:
    unchecked = Project.model_construct(name="x" * 300)
    with pytest.raises(InvalidValue, match=r"project\.name must be at most 200"):
        uow.projects.add(unchecked)
    project = factories.project(uow)
    copied = project.model_copy(update={"mode": "sideways"})
    with pytest.raises(InvalidValue, match=r"project\.mode must be one of"):
        uow.projects.update(copied)
    assert uow.projects.get(project.id) == project
    assert uow.projects.count() == 1


def test_the_store_itself_enforces_the_schema(uow: UnitOfWork) -> None:
    """Below the domain, each store still refuses what the schema forbids, alike."""
    from agentkeel.schema.workspace import projects

    store = store_of(uow)
    row = Project(name="ok").to_row()
    with pytest.raises(InvalidValue) as caught:
        store.insert(projects, {**row, "mode": "sideways"})
    assert str(caught.value) == ("project.mode must be one of genesis, evolution (got 'sideways')")
    with pytest.raises(InvalidValue) as caught:
        store.insert(projects, {**row, "name": None})
    assert str(caught.value) == "project.name must not be null (got None)"
    assert uow.projects.count() == 0


@pytest.mark.parametrize("text", ["lone \ud800 surrogate", "\udfff"])
def test_lone_surrogates_are_refused_everywhere(uow: UnitOfWork, text: str) -> None:
    """No driver can encode them, so every backend refuses them up front, alike."""
    with pytest.raises(InvalidValue, match="must be valid Unicode text"):
        uow.projects.add(Project(name=text))
    with pytest.raises(InvalidValue, match="must be valid Unicode text"):
        AuditEntry(event_type="x", event_category="record", message="m", event_data={"k": [text]})  # type: ignore[arg-type]
    assert uow.projects.count() == 0


def test_the_longest_long_text_is_stored_whole(uow: UnitOfWork) -> None:
    text = "🚢" * 1_000_000  # characters, not bytes: 4 MB of UTF-8
    template = factories.template(uow, template_text=text)
    assert uow.templates.get(template.id).template_text == text
    with pytest.raises(InvalidValue, match="at most 1000000 characters"):
        factories.template(uow, "Too long", template_text=text + "!")


@pytest.mark.parametrize("text", ["a\x00b", "lone \ud800"])
def test_lookups_with_unstorable_text_are_refused_alike(uow: UnitOfWork, text: str) -> None:
    """PostgreSQL cannot be sent NUL, no driver a lone surrogate: every backend refuses the
    lookup itself with the same InvalidValue rather than some failing and some finding
    nothing."""
    project = factories.project(uow)
    lookups: list[Callable[[], object]] = [
        lambda: uow.projects.get(text),
        lambda: uow.projects.find(text),
        lambda: uow.projects.delete(text),
        lambda: uow.repositories.find_by_name(project.id, text),
        lambda: uow.repositories.find_by_url(text),
        lambda: uow.worktrees.find_by_path(text),
        lambda: uow.settings.by_key(text),
        lambda: uow.templates.record_use(text),
        lambda: uow.audit_logs.list(entity_id=text),
    ]
    for lookup in lookups:
        with pytest.raises(InvalidValue):
            lookup()


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (2, -1)])
def test_negative_paging_is_refused_alike(uow: UnitOfWork, limit: int, offset: int) -> None:
    factories.project(uow)
    with pytest.raises(InvalidValue, match="must be a whole number >= 0"):
        uow.projects.list(limit=limit, offset=offset)


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda uow: uow.worktrees.list(status="bogus"), "worktree.status must be one of"),
        (lambda uow: uow.settings.list(category="bogus"), "setting.category must be one of"),
        (lambda uow: uow.templates.list(category="bogus"), "template.category must be one of"),
        (
            lambda uow: uow.audit_logs.list(category="bogus"),
            "audit_entry.event_category must be one of",
        ),
        (lambda uow: uow.projects.get(5), "project.id is invalid"),
        (
            lambda uow: uow.repositories.list(project_id=["p"]),
            "repository.project_id must be compared with a single value, not list",
        ),
    ],
)
def test_bad_filter_values_are_invalid_values(
    uow: UnitOfWork, lookup: Callable[[UnitOfWork], object], message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        lookup(uow)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "paging", [{"limit": 1.5}, {"offset": 0.5}, {"limit": True}, {"limit": "2"}, {"offset": "1"}]
)
def test_paging_takes_whole_numbers_only(uow: UnitOfWork, paging: dict[str, Any]) -> None:
    factories.project(uow)
    with pytest.raises(InvalidValue, match="must be a whole number >= 0"):
        uow.projects.list(**paging)


def test_naive_cutoffs_are_refused_alike(uow: UnitOfWork) -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(InvalidValue, match=r"audit_entry\.timestamp must be timezone-aware"):
        uow.audit_logs.list(since=naive)
    with pytest.raises(InvalidValue, match=r"audit_entry\.timestamp must be timezone-aware"):
        uow.audit_logs.purge_before(naive)
    # Any time zone is fine: it is compared in UTC.
    east = timezone(timedelta(hours=5))
    assert uow.audit_logs.list(since=datetime(2000, 1, 1, tzinfo=east)) == []


@pytest.mark.parametrize(
    "look_alike",
    [
        "api ",
        " api",
        "api\u200b",  # zero-width space
        "\ufeffapi",  # byte-order mark
        "a\u00adpi",  # soft hyphen
    ],
)
def test_names_that_render_alike_are_one_name(uow: UnitOfWork, look_alike: str) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project, "api")
    with pytest.raises(AlreadyExists, match="repository already exists with project_id="):
        factories.repository(uow, project, look_alike, path="/elsewhere")
    assert uow.repositories.find_by_name(project.id, look_alike) == api
    assert uow.repositories.count() == 1


def test_names_are_stored_normalised(uow: UnitOfWork) -> None:
    nfd = "Cafe\u0301"  # "Café" with a combining accent
    project = factories.project(uow, f"  {nfd}   project\n")
    assert project.name == "Caf\u00e9 project"  # NFC, trimmed, one space
    factories.template(uow, "Caf\u00e9")
    with pytest.raises(AlreadyExists, match="template already exists with name='Caf\u00e9'"):
        factories.template(uow, nfd)
    # Joiners inside emoji are kept: they change what is shown.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert factories.project(uow, family).name == family


def test_readding_a_stored_id_is_already_exists_on_the_id_first(uow: UnitOfWork) -> None:
    """When several unique rules clash, every backend names the same one: the id."""
    project = factories.project(uow)
    api = factories.repository(uow, project, "api", set_as_default_at=uow.clock.now())
    again = Repository(
        id=api.id, project_id=project.id, name="api", path="/x", set_as_default_at=api.updated_at
    )
    with pytest.raises(AlreadyExists, match=f"repository already exists with id='{api.id}'"):
        uow.repositories.add(again)
    web = factories.repository(uow, project, "web")
    web.name = "api"
    with pytest.raises(AlreadyExists, match=r"with project_id=.*, name='api'"):
        uow.repositories.update(web)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/" + "p" * 2999, "must be at most 2000 bytes of UTF-8, not 3000"),
        ("/" + "🚢" * 600, "must be at most 2000 bytes of UTF-8, not 2401"),
        ("/" + "p" * 4096, "must be at most 4096 characters long"),
    ],
)
def test_indexed_paths_are_limited_to_what_every_backend_can_index(
    uow: UnitOfWork, path: str, message: str
) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match=message):
        factories.repository(uow, project, path=path)
    longest = "/" + "".join(random.Random(7).choices(string.ascii_letters, k=1999))
    repository = factories.repository(uow, project, path=longest)
    assert factories.worktree(uow, repository, path=longest).path == longest
    assert uow.worktrees.find_by_path(longest) is not None


def _deep_json_text(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [65, 5_000, 50_000])
def test_setting_text_nested_too_deep_is_refused_naming_the_field(
    uow: UnitOfWork, depth: int
) -> None:
    """JSON text deeper than a payload may be, also deeper than Python's parser can read."""

    def setting(value: str) -> Setting:
        return Setting(
            key="advanced.deep",
            value=value,
            value_type=SettingValueType.JSON,
            category=SettingCategory.ADVANCED,
            display_name="Deep",
        )

    with pytest.raises(InvalidValue, match="must not nest lists and objects more than 64 deep"):
        uow.settings.add(setting(_deep_json_text(depth)))
    stored = uow.settings.add(setting("[]"))
    with pytest.raises(InvalidValue) as caught:
        stored.value = _deep_json_text(depth)
    assert caught.value.field == "value"
    # A refused assignment leaves the entity as it was.
    assert stored.value == "[]"
    with pytest.raises(InvalidValue) as caught:
        stored.default_value = _deep_json_text(depth)
    assert caught.value.field == "default_value"
    assert stored.default_value is None
    assert uow.settings.update(stored).value == "[]"


@pytest.mark.parametrize("source", ["ACTIVE", "System", "", None, 3, ["user"], [[["cli"]]]])
def test_a_unit_of_work_refuses_an_unknown_source_naming_it(db: Database, source: Any) -> None:
    with pytest.raises(InvalidValue) as caught:
        db.unit_of_work(source=source)
    assert (caught.value.entity, caught.value.field) == ("unit_of_work", "source")
    assert "must be one of 'system', 'user' or 'cli'" in str(caught.value)
    with pytest.raises(InvalidValue, match=r"unit_of_work\.source"):
        db.transaction(lambda uow: uow.projects.add(Project(name="never")), source=source)
    with db.unit_of_work(source=EventSource.CLI) as uow:
        assert uow.projects.list() == []
        assert uow.source is EventSource.CLI
    with db.unit_of_work(source="user") as uow:  # type: ignore[arg-type]
        assert uow.source is EventSource.USER
