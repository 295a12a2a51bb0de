"""docs/ stays true: the schema reference is regenerated from the metadata and compared."""

from __future__ import annotations

from pathlib import Path

from agentkeel.schema import metadata
from agentkeel.schema.reference import render_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_schema_reference_is_fresh() -> None:
    written = (DOCS / "schema.md").read_text(encoding="utf-8")
    assert written == render_markdown(), "docs/schema.md is stale: run `make docs`"


def test_seed_mapping_names_every_table() -> None:
    mapping = (DOCS / "seed-mapping.md").read_text(encoding="utf-8")
    for table in metadata.tables:
        assert f"`{table}" in mapping, f"docs/seed-mapping.md does not mention {table}"
