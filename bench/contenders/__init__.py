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
    about: str

    def load(self) -> type[Contender]:
        module = importlib.import_module(f"bench.contenders.{self.module}")
        contender: type[Contender] = getattr(module, self.cls)
        return contender


CONTENDERS = {
    spec.name: spec
    for spec in (
        Spec("raw", "raw", "RawSqlite", "sqlite", "the sqlite3 module, hand-written SQL"),
        Spec("core-sqlite", "core", "Core", "sqlite", "hand-written SQLAlchemy Core, SQLite"),
        Spec(
            "core-postgres", "core", "Core", "postgres", "hand-written SQLAlchemy Core, PostgreSQL"
        ),
        Spec("sqlmodel", "orm", "Orm", "sqlite", "the SQLModel ORM used naively, SQLite"),
        Spec("keel-sqlite", "keel", "Keel", "sqlite", "agentkeel on a SQLite file"),
        Spec("keel-memory", "keel", "Keel", "memory", "agentkeel on memory:// (the fakes)"),
        Spec("keel-postgres", "keel", "Keel", "postgres", "agentkeel on PostgreSQL"),
    )
}
REFERENCE = "raw"
