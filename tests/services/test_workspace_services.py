"""Workspace services: rendering templates, built-in protection, events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue, NotFound, Protected
from agentkeel.domain.events import DomainEvent, RecordDeleted
from agentkeel.domain.workspace import (
    DefaultRepositoryChanged,
    SettingChanged,
    Template,
    TemplateRendered,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import workspace
from tests import factories


@pytest.fixture
def crud(uow: UnitOfWork) -> Template:
    template = factories.template(uow, template_text="Add {{ entity }} with {{fields}}{{end}}")
    factories.placeholder(
        uow, template, "entity", required_at=uow.clock.now(), validation_pattern="[A-Z][a-z]+"
    )
    factories.placeholder(uow, template, "fields", default_value="id, name")
    factories.placeholder(uow, template, "end")
    return template


def test_render_fills_values_defaults_and_counts_the_use(uow: UnitOfWork, crud: Template) -> None:
    assert workspace.render(uow, crud.id, {"entity": "Invoice"}) == "Add Invoice with id, name"
    assert workspace.render(uow, crud.id, {"entity": "User", "fields": "email", "end": "."}) == (
        "Add User with email."
    )
    assert uow.templates.get(crud.id).usage_count == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "template.entity is required"),
        ({"entity": "invoice"}, "template.entity must match [A-Z][a-z]+"),
        ({"entity": "Invoice", "colour": "red"}, "template.colour is not a placeholder of it"),
        ({"entity": "Inv\x00oice"}, "template.entity must not contain NUL"),
        ({"entity": ""}, "template.entity is required"),
        ({"entity": " \t\n"}, "template.entity is required"),
        ({"entity": 5}, "template.entity must be a string"),
        ({"entity": None}, "template.entity must be a string"),
        ({"entity": "I" + "n" * 1_000_000}, "template.entity must be at most 1000000 characters"),
        ({"entity": "Invoice", "end": " " * 1_000_001}, "template.end must be at most 1000000"),
        ({"entity": "Invoice", 3: "x"}, "template.values must have placeholder names as keys"),
        (None, "template.values must be a mapping of placeholder names to strings"),
        (["entity"], "template.values must be a mapping of placeholder names to strings"),
    ],
)
def test_render_refuses_bad_values_and_counts_nothing(
    uow: UnitOfWork, crud: Template, values: Any, message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        workspace.render(uow, crud.id, values)
    assert str(caught.value).startswith(message)
    assert uow.templates.get(crud.id).usage_count == 0


def test_render_refuses_an_undefined_placeholder_in_the_text(uow: UnitOfWork) -> None:
    template = factories.template(uow, template_text="Hello {{ who }}")
    with pytest.raises(InvalidValue, match="names an undefined placeholder"):
        workspace.render(uow, template.id, {})


def test_a_blank_default_does_not_satisfy_a_required_placeholder(uow: UnitOfWork) -> None:
    template = factories.template(uow, template_text="Hello {{who}}{{end}}")
    factories.placeholder(uow, template, "who", required_at=uow.clock.now(), default_value="")
    factories.placeholder(uow, template, "end", required_at=uow.clock.now(), default_value=" ")
    with pytest.raises(InvalidValue, match=r"template\.who is required"):
        workspace.render(uow, template.id, {"end": "!"})
    with pytest.raises(InvalidValue, match=r"template\.end is required"):
        workspace.render(uow, template.id, {"who": "you"})
    assert workspace.render(uow, template.id, {"who": "you", "end": "!"}) == "Hello you!"
    assert uow.templates.get(template.id).usage_count == 1


def test_the_pattern_checks_only_values_that_are_there(uow: UnitOfWork) -> None:
    template = factories.template(uow, template_text="Ticket{{suffix}}{{year}}")
    factories.placeholder(uow, template, "suffix", validation_pattern="-[0-9]+")
    factories.placeholder(
        uow, template, "year", validation_pattern="/[0-9]{4}", default_value="/25"
    )
    # Left out, or given blank: no value, so nothing to match.
    assert workspace.render(uow, template.id, {"year": ""}) == "Ticket"
    assert workspace.render(uow, template.id, {"suffix": " ", "year": "/2025"}) == "Ticket /2025"
    assert workspace.render(uow, template.id, {"suffix": "-7", "year": "/2025"}) == "Ticket-7/2025"
    with pytest.raises(InvalidValue, match=r"template\.suffix must match -\[0-9\]\+"):
        workspace.render(uow, template.id, {"suffix": "7", "year": "/2025"})
    with pytest.raises(InvalidValue, match=r"template\.year must match /\[0-9\]\{4\}"):
        workspace.render(uow, template.id, {})  # the default is checked too
    assert uow.templates.get(template.id).usage_count == 3


@pytest.mark.parametrize("pattern", ["^(a|aa|aaa)+$", "(a|aa)+$", "(.*a){20}"])
def test_a_pattern_that_backtracks_for_too_long_is_given_up(uow: UnitOfWork, pattern: str) -> None:
    template = factories.template(uow, template_text="{{word}}")
    factories.placeholder(uow, template, "word", validation_pattern=pattern)
    started = time.perf_counter()
    with pytest.raises(InvalidValue, match=r"template\.word took too long to match"):
        workspace.render(uow, template.id, {"word": "a" * 5000 + "!"})
    assert time.perf_counter() - started < 0.5
    assert uow.templates.get(template.id).usage_count == 0


def test_patterns_are_matched_by_the_engine_that_checked_them(uow: UnitOfWork) -> None:
    template = factories.template(uow, template_text="Dear {{name}}")
    # \p{Lu} is `regex` syntax that `re` refuses: it is accepted and matched alike.
    factories.placeholder(uow, template, "name", validation_pattern=r"\p{Lu}\p{Ll}+")
    assert workspace.render(uow, template.id, {"name": "Élodie"}) == "Dear Élodie"
    with pytest.raises(InvalidValue, match=r"template\.name must match"):
        workspace.render(uow, template.id, {"name": "élodie"})


def test_the_rendered_text_is_limited_before_it_is_built(uow: UnitOfWork) -> None:
    template = factories.template(uow, template_text="{{v}}" * 1000)
    factories.placeholder(uow, template, "v")
    with pytest.raises(
        InvalidValue, match=r"template\.rendered_text must be at most 1000000 characters long"
    ):
        workspace.render(uow, template.id, {"v": "x" * 1_000_000})
    assert workspace.render(uow, template.id, {"v": "x" * 1000}) == "x" * 1_000_000
    edge = factories.template(uow, "Edge", template_text="{{v}}.")
    factories.placeholder(uow, edge, "v")
    with pytest.raises(InvalidValue, match="not 1000001"):
        workspace.render(uow, edge.id, {"v": "x" * 1_000_000})
    assert uow.templates.get(template.id).usage_count == 1
    assert uow.templates.get(edge.id).usage_count == 0


def test_a_deactivated_template_cannot_be_rendered(uow: UnitOfWork, crud: Template) -> None:
    uow.templates.deactivate(crud.id)
    with pytest.raises(Protected, match="is deactivated"):
        workspace.render(uow, crud.id, {"entity": "Invoice"})


def test_built_in_templates_are_deactivated_never_deleted(uow: UnitOfWork) -> None:
    builtin = factories.template(uow, "Built in", built_in_at=uow.clock.now())
    with pytest.raises(Protected, match="is built in: deactivate it instead"):
        uow.templates.delete(builtin.id)
    assert uow.templates.deactivate(builtin.id).is_deactivated
    assert uow.templates.get(builtin.id).is_built_in


def test_custom_templates_are_deleted_with_an_audit_entry(uow: UnitOfWork) -> None:
    custom = factories.template(uow, "Custom")
    assert uow.templates.delete(custom.id) == {"templates": 1}
    assert uow.audit_logs.list(entity_type="template")[0].entity_id == custom.id
    with pytest.raises(NotFound):
        uow.templates.delete(custom.id)


def test_services_publish_their_events_after_commit(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.subscribe(DomainEvent, seen.append)
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        repo = factories.repository(uow, project)
        template = factories.template(uow, template_text="plain")
        uow.repositories.set_default(repo.id)
        uow.settings.set_value("worktree.autoCleanup", False)
        uow.settings.reset("worktree.autoCleanup")
        workspace.render(uow, template.id, {})
        uow.projects.delete(project.id)
        uow.commit()
    assert seen == [
        DefaultRepositoryChanged(project.id, repo.id),
        SettingChanged("worktree.autoCleanup", False),
        SettingChanged("worktree.autoCleanup", True),
        TemplateRendered(template.id),
        RecordDeleted("project", project.id, {"projects": 1, "repositories": 1}),
    ]
