"""The `agentkeel` command: the operator's command line (status, events, audit, recover,
export, import, copy, backup, check, migrate, tables, purge, demo) and the generators of the
references (schema-doc, api-doc, model-doc, columns-module). See docs/operations.md.

It is built on Typer and Rich, which the library itself does not need: they come with the
extra `agentkeel[cli]`. Without them the command says so in one line and exits with 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

MISSING_EXTRA = "agentkeel's command line needs its extra: pip install 'agentkeel[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command `argv` (default: the process's arguments); return its exit status:
    0 done, 1 `check` found problems or `copy` did not verify, 2 refused (a bad URL, a
    missing id, a database of a newer agentkeel, a refused import, wrong arguments)."""
    try:
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        return 2
    from agentkeel.cli.app import run

    return run(sys.argv[1:] if argv is None else list(argv))
