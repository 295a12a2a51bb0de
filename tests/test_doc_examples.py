"""Every fenced code block of README.md and docs/*.md runs here, so the docs cannot lie.

A fence is tagged `python`, `sh`, `text` (other text that is not run), `console` (a
session of commands shown, never run: one that needs what a test run does not have, such
as a PostgreSQL server to copy into) or `mermaid` (a diagram: not run, its shape checked by
`test_mermaid_diagrams_are_well_formed`); an untagged fence, or one of another language,
fails, so a new code block cannot go untested. The generated documents (docs/schema.md,
docs/api.md, docs/model.md) are read like the other docs.

- `python`: a file's python blocks run in order, in one namespace (a block may use what an
  earlier block of the same file defined), in a fresh process of this virtual environment's
  Python, in a fresh temporary directory: as a user would paste them. A traceback names the
  Markdown file and line. A file of BY_SECTION (the guide, a page per job) runs each `## `
  section's blocks on their own instead: a fresh process and namespace per section, so a
  section never leans on another.
- `sh`: each command is run, or handled, by what it runs: `alembic` commands run as written
  in a temporary copy of `alembic.ini` and `migrations/` (a `.venv` link to this environment,
  their scratch SQLite file moved into the temporary directory), so no file is added to the
  repository, and a `revision --autogenerate` against a database at head must write a
  revision that changes nothing; `make demo` runs what its recipe runs (`agentkeel demo`,
  then `agentkeel status`); `make test` is not run (see NOT_RUN). A command with no rule
  here fails.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = {"python", "sh", "text", "console", "mermaid"}
BY_SECTION = {ROOT / "docs" / "guide.md"}
BIN = Path(sys.executable).parent
NOT_RUN = {
    "make test": "CI runs `make test` (.ci/run), and it runs this test suite itself",
    "make bench": "minutes long; tests/test_bench.py runs it small and checks the documented ARGS",
}
# `make demo` builds the environment this suite runs in, then runs the demo and shows its
# status: run that, in the test's directory.
DEMO_RECIPE = [
    "rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm",
    "AGENTKEEL_DATABASE_URL=$(DEMO_DB) $(BIN)/agentkeel demo",
    "AGENTKEEL_DATABASE_URL=$(DEMO_DB) $(BIN)/agentkeel status",
]
DEMO_SCRIPT = " && ".join(DEMO_RECIPE).replace("$(DEMO_DB)", "agentkeel-demo.db")
INSTEAD = {"make demo": (DEMO_RECIPE, ["bash", "-c", DEMO_SCRIPT.replace("$(BIN)", str(BIN))])}
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\S*)")
TIMEOUT = 300


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the first line of code, counting from 1
    language: str
    code: str

    def where(self, offset: int = -1) -> str:
        """`file:line` of the block's fence, or of its line `offset` (from 0)."""
        return f"{self.path.relative_to(ROOT)}:{self.line + offset}"


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    found, lines, opened = [], path.read_text(encoding="utf-8").splitlines(), None
    for number, line in enumerate(lines, start=1):
        fence = FENCE.match(line)
        if opened is None and fence:
            opened = (fence.group(1), fence.group(2), number + 1)
        elif opened and fence and line.strip().startswith(opened[0]) and not fence.group(2):
            _, language, start = opened
            code = "\n".join(lines[start - 1 : number - 1]) + "\n"
            found.append(Block(path, start, language, code))
            opened = None
    assert opened is None, f"{path.relative_to(ROOT)}:{opened[2] - 1}: a fence is never closed"
    return found


def docs_with(language: str) -> list[Path]:
    return [path for path in DOCS if any(b.language == language for b in blocks(path))]


def ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


def test_every_fence_says_its_language() -> None:
    wrong = [
        f"{block.where()}: ```{block.language}"
        for path in DOCS
        for block in blocks(path)
        if block.language not in LANGUAGES
    ]
    assert not wrong, (
        f"fences must be tagged one of {sorted(LANGUAGES)} ('text' or 'mermaid' for what is not"
        " run):\n" + "\n".join(wrong)
    )
    assert docs_with("python") and docs_with("sh")


# The diagram kinds the docs draw, and the lines a state diagram may hold.
MERMAID_KINDS = ("stateDiagram-v2", "flowchart", "erDiagram", "sequenceDiagram")
STATE_LINE = re.compile(r"    (\[\*\]|\w+) --> (\[\*\]|\w+)( : .+)?")


def test_mermaid_diagrams_are_well_formed() -> None:
    """Each diagram names a kind Mermaid draws; a state diagram holds only transitions, with
    one start."""
    for path in DOCS:
        for block in blocks(path):
            if block.language != "mermaid":
                continue
            kind, *lines = block.code.splitlines()
            assert kind.split()[0] in MERMAID_KINDS, f"{block.where()}: {kind}"
            if kind == "stateDiagram-v2":
                bad = [line for line in lines if not STATE_LINE.fullmatch(line)]
                assert not bad, f"{block.where()}: {bad}"
                assert sum(line.startswith("    [*] -->") for line in lines) == 1, block.where()


# Run in a fresh process: each block is compiled with its file's name and padded to its line,
# so a traceback points into the Markdown.
RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for path, line, code in json.load(sys.stdin):
    exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
"""


def section_of(path: Path, block: Block) -> str:
    """The title of the `## ` section the block is in ("" before the first)."""
    lines = path.read_text(encoding="utf-8").splitlines()[: block.line - 1]
    titles = [line[3:] for line in lines if line.startswith("## ")]
    return titles[-1] if titles else ""


def python_runs() -> list[tuple[Path, str]]:
    """What runs as one: a file, or a section of a file of BY_SECTION."""
    runs: list[tuple[Path, str]] = []
    for path in docs_with("python"):
        if path not in BY_SECTION:
            runs.append((path, ""))
            continue
        for block in blocks(path):
            wanted = (path, section_of(path, block))
            if block.language == "python" and wanted not in runs:
                runs.append(wanted)
    return runs


@pytest.mark.parametrize(
    ("path", "section"),
    python_runs(),
    ids=[f"{ids([p])[0]}{' ' + s if s else ''}" for p, s in python_runs()],
)
def test_python_blocks_run(path: Path, section: str, tmp_path: Path) -> None:
    code = [
        [str(b.path), b.line, b.code]
        for b in blocks(path)
        if b.language == "python" and (not section or section_of(path, b) == section)
    ]
    result = run([sys.executable, "-c", RUNNER], tmp_path, stdin=json.dumps(code))
    where = f"{path.name}{f' ({section})' if section else ''}"
    assert result.returncode == 0, f"{where}: its python blocks failed:\n{result.stderr}"


def test_every_section_of_the_guide_with_code_runs_it() -> None:
    """The guide's python blocks all run, section by section, and its only block that is
    not run is the `console` session of `agentkeel copy` (which needs a PostgreSQL server)."""
    guide = ROOT / "docs" / "guide.md"
    found = blocks(guide)
    assert sum(b.language == "python" for b in found) >= 10
    not_run = [b for b in found if b.language not in {"python", "mermaid"}]
    assert [b.language for b in not_run] == ["console"], not_run
    assert "agentkeel copy --from" in not_run[0].code


@pytest.mark.parametrize("path", docs_with("sh"), ids=ids(docs_with("sh")))
def test_sh_blocks_run(path: Path, tmp_path: Path) -> None:
    for block in blocks(path):
        if block.language == "sh":
            for offset, line in enumerate(block.code.splitlines()):
                words = shlex.split(line, comments=True)  # one command a line, no continuations
                if words:
                    run_command(words, block.where(offset), tmp_path)


def run_command(words: list[str], where: str, tmp_path: Path) -> None:
    command = shlex.join(words)
    program = list(itertools.dropwhile(ASSIGNMENT.match, words))
    name = " ".join(program[:2]) if program[0] == "make" else Path(program[0]).name
    if program[0] == "make":
        target = program[1]
        assert re.search(rf"^{target}:", makefile(), re.M), f"{where}: no Makefile target {target}"
    if name in NOT_RUN:
        return
    if name in INSTEAD:
        recipe, instead = INSTEAD[name]
        assert recipe_of(program[1]) == recipe, f"{where}: `{name}` no longer runs {recipe}"
        result = run(instead, tmp_path)
    elif name == "alembic":
        result = run_alembic(command, tmp_path)
    else:
        pytest.fail(f"{where}: no rule runs `{command}`: add one to {Path(__file__).name}")
    assert result.returncode == 0, f"{where}: `{command}` failed:\n{result.stdout}{result.stderr}"


def run_alembic(command: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run an alembic command in a copy of the migrations; an autogenerated revision against
    a database at head must change nothing."""
    copy = tmp_path / "checkout"
    if not copy.exists():
        shutil.copytree(
            ROOT / "migrations", copy / "migrations", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copy(ROOT / "alembic.ini", copy)
        (copy / ".venv").symlink_to(BIN.parent)
    command = command.replace("sqlite:////tmp/", f"sqlite:///{tmp_path}/")
    before = set((copy / "migrations" / "versions").glob("*.py"))
    result = run(["bash", "-c", command], copy)
    written = set((copy / "migrations" / "versions").glob("*.py")) - before
    if "--autogenerate" in command and result.returncode == 0:
        assert len(written) == 1, f"`{command}` wrote {sorted(written)}"
        module = ast.parse(written.pop().read_text(encoding="utf-8"))
        bodies = {f.name: f.body for f in module.body if isinstance(f, ast.FunctionDef)}
        assert bodies.keys() == {"upgrade", "downgrade"}, f"not a revision: {sorted(bodies)}"
        changed = [
            name for name, body in bodies.items() if any(type(s) is not ast.Pass for s in body)
        ]
        assert not changed, (
            f"autogenerate at head wrote operations in {changed}: "
            "the metadata and the migrations disagree"
        )
    return result


def run(argv: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AGENTKEEL_DATABASE_URL"}
    return subprocess.run(
        argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT
    )


def makefile() -> str:
    return (ROOT / "Makefile").read_text(encoding="utf-8")


def recipe_of(target: str) -> list[str]:
    lines = makefile().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe
