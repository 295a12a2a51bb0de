"""What every command shares: where the database is, how output is shown (a Rich table, or
JSON with `--json`), progress on stderr, and the one-line errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agentkeel.database import default_url

UrlArgument = Annotated[
    str | None,
    typer.Argument(
        help="the database: a SQLite file, postgresql://..., (default: $AGENTKEEL_DATABASE_URL, "
        "else data/agentkeel.db)",
        show_default=False,
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="the database (instead of the argument)", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


class Refused(Exception):
    """A command refused with a one-line reason (exit status 2)."""


def database_url(argument: str | None, option: str | None = None) -> str | None:
    """The URL given (as `--url` or the argument; both: they must agree), or None for
    `Database.open()`'s default."""
    if argument is not None and option is not None and argument != option:
        raise Refused(f"two databases given: {argument!r} and --url {option!r}; name one")
    return option if option is not None else argument


def shown_url(url: str | None) -> str:
    """The URL as messages show it (the default's, when none was given)."""
    return url if url is not None else default_url()


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr). Not a terminal: 120 columns unless $COLUMNS says."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 120
    return Console(file=stream, highlight=False, width=width, soft_wrap=False)


def plain(value: Any) -> Any:
    """A value as JSON shows it: timestamps in ISO 8601, enums by value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=plain))


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> RenderableType:
    """A Rich table of `rows` (None shown as a dash), under its title if given; "(none)"
    when there are no rows."""
    shown = Table(show_edge=False, pad_edge=False)
    for column in columns:
        shown.add_column(column)
    for row in rows:
        shown.add_row(*("-" if value is None else str(plain(value)) for value in row))
    body: RenderableType = shown if rows else Text("(none)")
    return body if title is None else Group(Text(title, style="bold"), body)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, str, int, int], None]]:
    """A Rich progress display on stderr; yields `advance(stage, name, done, total)`."""
    if not enabled:
        yield lambda _stage, _name, _done, _total: None
        return
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=False,
    )
    stages: dict[str, Any] = {}
    done: dict[str, dict[str, int]] = {}
    totals: dict[str, dict[str, int]] = {}

    def advance(stage: str, name: str, rows: int, total: int) -> None:
        """One bar a stage, over the rows of every table it has reached."""
        if stage not in stages:
            stages[stage] = bars.add_task(stage, total=None)
            done[stage], totals[stage] = {}, {}
        done[stage][name], totals[stage][name] = rows, total
        bars.update(
            stages[stage],
            description=f"{stage} {name}",
            completed=sum(done[stage].values()),
            total=max(sum(totals[stage].values()), 1),
        )

    with bars:
        yield advance
