"""The contenders, by name. Each one's module is imported only in the process that measures
it, so that a process holds only what its contender uses."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from bench.contenders.base import Backend, Contender


@dataclass(frozen=True)
class Spec:
    name: str
    module: str  # in bench.contenders
    cls: str
    backend: Backend
    peer: str | None = None  # hand-written Core on the same backend, to compare agentkeel with
    workload: bool = True  # False: it does not take part in the workload (W1 … W6)

    def takes_part(self, operation: str) -> bool:
        """Whether it performs the operation (every contender performs O1 … O11)."""
        return self.workload or not operation.startswith("W")

    def load(self) -> type[Contender]:
        module = importlib.import_module(f"bench.contenders.{self.module}")
        contender: type[Contender] = getattr(module, self.cls)
        return contender


CONTENDERS = {
    spec.name: spec
    for spec in (
        Spec("raw", "raw", "RawSqlite", "sqlite"),
        Spec("core-sqlite", "core", "Core", "sqlite"),
        Spec("core-postgres", "core", "Core", "postgres"),
        # The ORM would need its own models of initiatives, phases, task dependencies and
        # agents to do the workload: it stays with O1 … O11 (docs/performance.md).
        Spec("sqlmodel", "orm", "Orm", "sqlite", workload=False),
        Spec("keel-sqlite", "keel", "Keel", "sqlite", peer="core-sqlite"),
        Spec("keel-memory", "keel", "Keel", "memory"),
        Spec("keel-postgres", "keel", "Keel", "postgres", peer="core-postgres"),
    )
}
# Every ratio divides by this contender's time for the same operation in the same round.
REFERENCE = "raw"
