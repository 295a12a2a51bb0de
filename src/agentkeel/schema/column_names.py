"""Writes `schema/columns.py`, the names of every table's columns as attributes that mypy
checks (`TASKS.status`), from the metadata: `make docs` runs it, and a test checks that the
file is fresh, so a renamed column fails the type check wherever a rule still names it."""

from __future__ import annotations

import keyword

from sqlalchemy import Table

from agentkeel.schema import metadata

_HEADER = '''"""Every table's name and column names, as attributes mypy checks: the rules write
`Eq(TASKS.status, ...)` and `row[TASKS.status]`, never "status", so that a misspelt or
renamed column fails `make test` before any query runs.

Generated from the schema by `agentkeel columns-module` (`make docs`); do not edit.
"""

from __future__ import annotations

from typing import Final
'''


_ANY_TABLE = '''

class AnyTableColumns:
    """The columns every table of an entity has, for rules written over several tables."""

    __slots__ = ()
    id: Final = "id"


ANY_TABLE: Final = AnyTableColumns()'''


def class_name(table: Table) -> str:
    return "".join(part.capitalize() for part in table.name.split("_")) + "Columns"


def constant_name(table: Table) -> str:
    return table.name.upper()


def render_module() -> str:
    """The text of `schema/columns.py`."""
    parts = [_HEADER.rstrip("\n")]
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        names = [column.name for column in table.columns]
        clashing = [n for n in names if keyword.iskeyword(n) or n == "TABLE"]
        assert not clashing, f"{table.name}: columns {clashing} cannot be attribute names"
        lines = [
            "",
            "",
            f"class {class_name(table)}:",
            f'    """The columns of `{table.name}`."""',
            "",
            "    __slots__ = ()",
            f'    TABLE: Final = "{table.name}"',
            *(f'    {name}: Final = "{name}"' for name in names),
            "",
            "",
            f"{constant_name(table)}: Final = {class_name(table)}()",
        ]
        parts.append("\n".join(lines))
    parts.append(_ANY_TABLE)
    return "\n".join(parts) + "\n"
