"""docs/ stays true: the schema and API references are regenerated from the code and compared."""

from __future__ import annotations

import inspect
from pathlib import Path

import agentkeel
from agentkeel import Database, DomainError, UnitOfWork, api_reference
from agentkeel.schema import metadata
from agentkeel.schema.reference import render_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_schema_reference_is_fresh() -> None:
    written = (DOCS / "schema.md").read_text(encoding="utf-8")
    assert written == render_markdown(), "docs/schema.md is stale: run `make docs`"


def test_api_reference_is_fresh() -> None:
    written = (DOCS / "api.md").read_text(encoding="utf-8")
    assert written == api_reference.render_markdown(), "docs/api.md is stale: run `make docs`"


def test_api_reference_has_every_port_of_the_unit_of_work_and_every_exported_error() -> None:
    reference = api_reference.render_markdown()
    ports = [p.fget for p in vars(UnitOfWork).values() if isinstance(p, property) and p.fget]
    port_names = [inspect.signature(fget).return_annotation for fget in ports]
    errors = [
        name
        for name in agentkeel.__all__
        if isinstance(thing := getattr(agentkeel, name), type) and issubclass(thing, DomainError)
    ]
    assert port_names and errors
    for name in port_names:
        assert f"### `{name}`" in reference, f"the port {name} is missing from docs/api.md"
    for name in errors:
        assert f"### `{name}" in reference, f"the error {name} is missing from docs/api.md"


def test_api_reference_says_what_schema_revision_is_on_memory() -> None:
    with Database.open("memory://") as db:
        revision = db.schema_revision()
    doc = inspect.getdoc(Database.schema_revision) or ""
    assert revision is None and "None" in doc and "in-memory" in doc


def test_every_documented_class_and_function_has_a_docstring() -> None:
    missing = api_reference.undocumented()
    assert not missing, "no docstring (docs/api.md says 'Not documented yet'):\n" + "\n".join(
        missing
    )


def test_seed_mapping_names_every_table() -> None:
    mapping = (DOCS / "seed-mapping.md").read_text(encoding="utf-8")
    for table in metadata.tables:
        assert f"`{table}" in mapping, f"docs/seed-mapping.md does not mention {table}"
