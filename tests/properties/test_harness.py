"""The agreement check every machine shares still catches a backend that disagrees, and
says where: a check that passed on any contents would make every machine pass."""

from __future__ import annotations

import pytest

from tests.properties.harness import Contents, Reordered, assert_same_contents

MEMORY: Contents = {
    "projects": [{"id": "p1", "name": "Keel"}, {"id": "p2", "name": "Ops"}],
    "audit_logs": [],
}


def test_equal_contents_pass() -> None:
    assert_same_contents({"memory": MEMORY, "sqlite": {t: list(r) for t, r in MEMORY.items()}})


@pytest.mark.parametrize(
    ("sqlite", "message"),
    [
        (
            {**MEMORY, "projects": [{"id": "p1", "name": "Keel"}, {"id": "p2", "name": "ops"}]},
            "sqlite differs from memory in projects: row 1, name 'ops' (memory 'Ops')",
        ),
        (
            {**MEMORY, "projects": MEMORY["projects"][:1]},
            "sqlite differs from memory in projects: 1 rows, memory 2",
        ),
        (
            {**MEMORY, "projects": [{"id": "p1"}, {"id": "p2", "name": "Ops"}]},
            "in projects: row 0, name '<no such column>' (memory 'Keel')",
        ),
        ({"projects": MEMORY["projects"]}, "sqlite holds tables ['projects'], memory"),
    ],
)
def test_a_difference_fails_naming_the_table_and_the_column(sqlite: Contents, message: str) -> None:
    with pytest.raises(AssertionError) as failed:  # PostgreSQL agrees, SQLite does not
        assert_same_contents({"memory": MEMORY, "postgres": MEMORY, "sqlite": sqlite})
    assert message in str(failed.value)


def test_reordered_rows_are_compared_without_their_ids_in_order() -> None:
    chunks = Reordered(key=lambda row: row["n"])
    memory = {"chunks": chunks.apply([{"id": "a", "n": 2}, {"id": "b", "n": 1}])}
    same = {"chunks": chunks.apply([{"id": "x", "n": 1}, {"id": "y", "n": 2}])}
    other = {"chunks": chunks.apply([{"id": "x", "n": 1}, {"id": "y", "n": 3}])}
    assert_same_contents({"memory": memory, "sqlite": same})
    with pytest.raises(AssertionError, match=r"in chunks: row 1, n 3 \(memory 2\)"):
        assert_same_contents({"memory": memory, "sqlite": other})
