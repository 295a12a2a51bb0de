"""Templates and their placeholders."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.fields import INT64_MAX
from agentkeel.domain.workspace import TemplateCategory, TemplatePlaceholder, TemplateRendered
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import workspace
from tests import factories


def test_name_is_unique(uow: UnitOfWork) -> None:
    factories.template(uow, "CRUD")
    with pytest.raises(AlreadyExists, match="template already exists with name='CRUD'"):
        factories.template(uow, "CRUD")


def test_placeholders_come_in_order_and_are_unique_per_template(uow: UnitOfWork) -> None:
    crud = factories.template(uow)
    other = factories.template(uow, "Other")
    second = factories.placeholder(uow, crud, "fields", order_index=2)
    first = factories.placeholder(uow, crud, "entity", order_index=1)
    factories.placeholder(uow, other, "entity")
    assert uow.template_placeholders.list(template_id=crud.id) == [first, second]
    with pytest.raises(AlreadyExists, match="template_placeholder already exists"):
        factories.placeholder(uow, crud, "entity")


def test_placeholder_of_a_missing_template_is_reference_missing(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing, match="refers to a missing template: 'nope'"):
        uow.template_placeholders.add(
            TemplatePlaceholder(template_id="nope", name="x", display_name="X")
        )


def test_bad_placeholder_values_are_refused(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidValue, match="not a valid regular expression"):
        TemplatePlaceholder(template_id="t", name="x", display_name="X", validation_pattern="(")
    with pytest.raises(InvalidValue, match="must match"):
        TemplatePlaceholder(template_id="t", name="two words", display_name="X")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(" * 500 + ")" * 500, "is not a valid regular expression: it nests too deeply"),
        ("a{99999999999}", "repeats too much"),
        # `regex` unrolls counted repeats when it compiles: this one would take all memory.
        ("(?:a{100000}){100000}", "repeats too much"),
        # Verbose mode lets a repeat count hide as `{1 0 0 0 0 0}` or behind comments.
        ("(?x)a{1 0 0 0 0 0}", "must not turn on verbose mode"),
        ("(?ix:a)", "must not turn on verbose mode"),
    ],
)
def test_patterns_that_cannot_be_compiled_safely_are_refused(
    uow: UnitOfWork, pattern: str, problem: str
) -> None:
    crud = factories.template(uow)
    started = time.perf_counter()
    with pytest.raises(InvalidValue, match=re.escape(f"validation_pattern {problem}")):
        factories.placeholder(uow, crud, "x", validation_pattern=pattern)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "pattern",
    [
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "x{100000}",
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",
        r"[{}]{2,}\{3}",
        "(?P<x>[a-z]+)(?i:X)",
    ],
)
def test_ordinary_patterns_are_accepted(uow: UnitOfWork, pattern: str) -> None:
    crud = factories.template(uow)
    placeholder = factories.placeholder(uow, crud, "x", validation_pattern=pattern)
    assert uow.template_placeholders.list(template_id=crud.id) == [placeholder]


def test_placeholders_update_and_remove(uow: UnitOfWork) -> None:
    crud = factories.template(uow)
    entity = factories.placeholder(uow, crud, "entity")
    entity.default_value = "User"
    assert uow.template_placeholders.update(entity).default_value == "User"
    uow.template_placeholders.delete(entity.id)
    assert uow.template_placeholders.list(template_id=crud.id) == []


def test_record_use_counts_up(uow: UnitOfWork) -> None:
    crud = factories.template(uow)
    uow.templates.record_use(crud.id)
    assert uow.templates.record_use(crud.id).usage_count == 2


def test_list_hides_deactivated_and_filters_by_category(uow: UnitOfWork) -> None:
    crud = factories.template(uow, "CRUD")
    login = factories.template(uow, "Login", category=TemplateCategory.SECURITY)
    crud.deactivate(uow.clock.now())
    uow.templates.update(crud)
    assert [t.name for t in uow.templates.list()] == ["Login"]
    assert [t.name for t in uow.templates.list(include_deactivated=True)] == ["CRUD", "Login"]
    assert uow.templates.list(category=TemplateCategory.SECURITY) == [login]
    assert uow.templates.find_by_name("CRUD") == uow.templates.get(crud.id)


def test_deleting_a_template_takes_its_placeholders(uow: UnitOfWork) -> None:
    crud = factories.template(uow)
    factories.placeholder(uow, crud, "entity")
    factories.placeholder(uow, crud, "fields")
    assert uow.templates.delete(crud.id) == {"templates": 1, "template_placeholders": 2}


def test_record_use_of_an_unknown_template_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="template not found: id='nope'"):
        uow.templates.record_use("nope")


def test_renaming_a_placeholder_onto_a_taken_name_is_already_exists(
    uow: UnitOfWork,
) -> None:
    crud = factories.template(uow)
    factories.placeholder(uow, crud, "entity")
    fields = factories.placeholder(uow, crud, "fields")
    fields.name = "entity"
    with pytest.raises(AlreadyExists, match="template_placeholder already exists"):
        uow.template_placeholders.update(fields)


def test_a_built_in_template_cannot_be_deleted_by_any_path(uow: UnitOfWork) -> None:
    built_in = factories.template(uow, built_in_at=uow.clock.now())
    with pytest.raises(Protected, match="is built in: deactivate it instead"):
        uow.templates.delete(built_in.id)
    with pytest.raises(Protected, match="is built in"):
        uow.templates.delete(built_in.id)
    assert uow.templates.get(built_in.id) == built_in
    assert uow.templates.deactivate(built_in.id).is_deactivated


def test_a_use_past_the_counters_range_is_refused_with_nothing_written(
    uow: UnitOfWork,
) -> None:
    full = factories.template(uow, usage_count=INT64_MAX - 1)
    assert uow.templates.record_use(full.id).usage_count == INT64_MAX
    with pytest.raises(
        InvalidValue, match=r"template\.usage_count must be between 0 and"
    ) as caught:
        uow.templates.record_use(full.id)
    assert caught.value.value == INT64_MAX + 1
    assert uow.templates.get(full.id).usage_count == INT64_MAX
    assert [t.usage_count for t in uow.templates.list()] == [INT64_MAX]


def test_every_use_is_an_event_whatever_the_path(db: Database) -> None:
    seen: list[TemplateRendered] = []
    db.subscribe(TemplateRendered, seen.append)
    with db.unit_of_work() as uow:
        crud = factories.template(uow, template_text="plain")
        uow.templates.record_use(crud.id)
        workspace.render(uow, crud.id, {})
        uow.commit()
    assert seen == [TemplateRendered(crud.id)] * 2


def test_a_template_is_deactivated_and_reactivated_by_its_repository(uow: UnitOfWork) -> None:
    template = factories.template(uow, "Retired")
    first = uow.templates.deactivate(template.id)
    assert first.is_deactivated
    assert [t.id for t in uow.templates.list()] == []
    assert [t.id for t in uow.templates.list(include_deactivated=True)] == [template.id]
    uow.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
    assert uow.templates.deactivate(template.id).deactivated_at == first.deactivated_at
    again = uow.templates.reactivate(template.id)
    assert not again.is_deactivated
    assert [t.id for t in uow.templates.list()] == [template.id]
    with pytest.raises(NotFound):
        uow.templates.deactivate("missing")
    with pytest.raises(NotFound):
        uow.templates.reactivate("missing")
