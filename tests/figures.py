"""Figures the reliability tests measure (cases refused, files changed, iterations,
descriptors, memory, timings, claims, inputs tried), shown at the end of every run whatever
its options (`-q`, no `-s`, no `-r`): a "figures" section of pytest's terminal summary, also
written as JSON to `<pytest basetemp>/figures.json` for tools (the fixture and the summary
hook are in tests/conftest.py).

A test records them with the `figures` fixture: `figures.set("no leaks (sqlite)",
opens=1000)` sets figures under a heading, `figures.add("hostile databases", refused=1)`
adds to counts that several tests share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIGURES = pytest.StashKey[dict[str, dict[str, object]]]()


class Figures:
    def __init__(self, store: dict[str, dict[str, object]], path: Path) -> None:
        self._store, self._path = store, path

    def set(self, heading: str, **values: object) -> None:
        self._store.setdefault(heading, {}).update(values)
        self._save()

    def add(self, heading: str, **counts: int) -> None:
        figures = self._store.setdefault(heading, {})
        for key, count in counts.items():
            previous = figures.get(key, 0)
            assert isinstance(previous, int)
            figures[key] = previous + count
        self._save()

    def _save(self) -> None:
        self._path.write_text(json.dumps(self._store, indent=2, default=str))
