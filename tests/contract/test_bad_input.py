"""Bad input gets the same clear domain error from every backend, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agentkeel.adapters.unit_of_work import BaseUnitOfWork
from agentkeel.domain.audit import AuditEntry
from agentkeel.domain.errors import DomainError, InvalidValue
from agentkeel.domain.workspace import Project, Repository, Template, Worktree
from tests import factories

ODD_TEXT = [
    "Robert'); DROP TABLE projects;--",
    "quotes \" and ' and `",
    "emoji 🚢⚓ and ünïcödé and 中文",
    "line\nbreaks\tand\rreturns",
    "%_ wildcard % and _ underscores \\",
]


@pytest.mark.parametrize("name", ODD_TEXT)
def test_odd_text_round_trips_exactly(uow: BaseUnitOfWork, name: str) -> None:
    """Text round-trips exactly; names are stored normalised (white space made single)."""
    project = uow.projects.add(Project(name=name, description=name * 3))
    assert uow.projects.get(project.id).name == " ".join(name.split())
    assert uow.projects.get(project.id).description == name * 3
    assert [p.description for p in uow.projects.list()] == [name * 3]


def test_longest_allowed_text_is_stored_whole(uow: BaseUnitOfWork) -> None:
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
    uow: BaseUnitOfWork,
) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match=r"project\.name must be at most 200"):
        project.name = "y" * 300
    assert project.name == "Keel"


def test_huge_values_are_shown_shortened_in_errors() -> None:
    with pytest.raises(InvalidValue) as caught:
        Project(name="z" * 100_000)
    assert len(str(caught.value)) < 200


def test_errors_leave_nothing_written(uow: BaseUnitOfWork) -> None:
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


def test_entities_that_skipped_validation_are_checked_on_write(uow: BaseUnitOfWork) -> None:
    unchecked = Project.model_construct(name="x" * 300)
    with pytest.raises(InvalidValue, match=r"project\.name must be at most 200"):
        uow.projects.add(unchecked)
    project = factories.project(uow)
    copied = project.model_copy(update={"mode": "sideways"})
    with pytest.raises(InvalidValue, match=r"project\.mode must be one of"):
        uow.projects.update(copied)
    assert uow.projects.get(project.id) == project
    assert uow.projects.count() == 1


def test_the_store_itself_enforces_the_schema(uow: BaseUnitOfWork) -> None:
    """Below the domain, each store still refuses what the schema forbids, alike."""
    from agentkeel.schema.workspace import projects

    store = uow._open().store
    row = Project(name="ok").to_row()
    with pytest.raises(InvalidValue) as caught:
        store.insert(projects, {**row, "mode": "sideways"})
    assert str(caught.value) == ("project.mode must be one of genesis, evolution (got 'sideways')")
    with pytest.raises(InvalidValue) as caught:
        store.insert(projects, {**row, "name": None})
    assert str(caught.value) == "project.name must not be null (got None)"
    assert uow.projects.count() == 0


@pytest.mark.parametrize("text", ["lone \ud800 surrogate", "\udfff"])
def test_lone_surrogates_are_refused_everywhere(uow: BaseUnitOfWork, text: str) -> None:
    """No driver can encode them, so every backend refuses them up front, alike."""
    with pytest.raises(InvalidValue, match="must be valid Unicode text"):
        uow.projects.add(Project(name=text))
    with pytest.raises(InvalidValue, match="must be valid Unicode text"):
        AuditEntry(event_type="x", event_category="record", message="m", event_data={"k": [text]})  # type: ignore[arg-type]
    assert uow.projects.count() == 0


def test_the_longest_long_text_is_stored_whole(uow: BaseUnitOfWork) -> None:
    text = "🚢" * 1_000_000  # characters, not bytes: 4 MB of UTF-8
    template = factories.template(uow, template_text=text)
    assert uow.templates.get(template.id).template_text == text
    with pytest.raises(InvalidValue, match="at most 1000000 characters"):
        factories.template(uow, "Too long", template_text=text + "!")


@pytest.mark.parametrize("text", ["a\x00b", "lone \ud800"])
def test_lookups_with_unstorable_text_are_refused_alike(uow: BaseUnitOfWork, text: str) -> None:
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
def test_negative_paging_is_refused_alike(uow: BaseUnitOfWork, limit: int, offset: int) -> None:
    factories.project(uow)
    with pytest.raises(InvalidValue, match="must be a whole number >= 0"):
        uow.projects.list(limit=limit, offset=offset)
