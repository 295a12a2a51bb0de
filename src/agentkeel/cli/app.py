"""The Typer application: every command by name, and how a failure ends one (a line on
stderr naming the problem, exit status 2)."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import SQLAlchemyError

from agentkeel.adapters.sql.copy import CopyRefused
from agentkeel.adapters.sql.transfer import ImportRefused
from agentkeel.cli import data, maintenance, views
from agentkeel.cli.common import Refused
from agentkeel.domain.errors import DomainError

app = typer.Typer(
    name="agentkeel",
    help="The operator's command line of agentkeel (see docs/operations.md). The database is "
    "the URL given, else $AGENTKEEL_DATABASE_URL, else data/agentkeel.db.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("status")(views.status)
app.command("events")(views.events)
app.command("audit")(views.audit)
app.command("recover")(maintenance.recover)
app.command("export")(data.export)
app.command("import")(data.import_)
app.command("copy")(data.copy)
app.command("backup")(maintenance.backup)
app.command("check")(maintenance.check)
app.command("migrate")(maintenance.migrate)
app.command("tables")(maintenance.tables)
app.command("purge")(maintenance.purge)
app.command("demo")(maintenance.demo)
app.command("schema-doc")(maintenance.schema_doc)
app.command("api-doc")(maintenance.api_doc)
app.command("model-doc")(maintenance.model_doc)
app.command("columns-module")(maintenance.columns_module)


def run(argv: list[str]) -> int:
    """Run one command; return its exit status (see `agentkeel.cli.main`)."""
    name = next((arg for arg in argv if not arg.startswith("-")), "agentkeel")
    command = typer.main.get_command(app)
    try:
        # Standalone: Typer says what is wrong with the arguments (status 2), answers --help
        # and ends every command with SystemExit, whose code is the status.
        command.main(args=argv, prog_name="agentkeel")
    except SystemExit as ended:
        return ended.code if isinstance(ended.code, int) else 0 if ended.code is None else 1
    except (DomainError, Refused, ImportRefused, CopyRefused) as refused:
        print(f"agentkeel {name}: {refused}", file=sys.stderr)
        return 2
    except OSError as failed:  # a file that cannot be written or read
        print(f"agentkeel {name}: {failed.strerror or failed}: {failed.filename}", file=sys.stderr)
        return 2
    except SQLAlchemyError as failed:
        first = str(getattr(failed, "orig", None) or failed).strip().splitlines()
        reason = first[0] if first else type(failed).__name__
        print(f"agentkeel {name}: the database failed: {reason}", file=sys.stderr)
        return 2
    return 0
