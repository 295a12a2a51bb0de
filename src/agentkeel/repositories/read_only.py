"""The store a read-only unit of work hands its repositories: reads go through, writes are
refused before they reach the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table

from agentkeel.domain.errors import ReadOnly
from agentkeel.ports.store import Order, Row, RowStore, Where


class ReadOnlyStore:
    """A store that reads through to another and refuses every write with `ReadOnly`."""

    def __init__(self, inner: RowStore) -> None:
        self._inner = inner
        self.clock = inner.clock
        self.get = inner.get
        self.select = inner.select
        self.select_with = inner.select_with
        self.count = inner.count
        self.aggregate = inner.aggregate
        self.referrers = inner.referrers
        self.atomic = inner.atomic
        self.read_log = inner.read_log
        self.log_prefix = inner.log_prefix

    def insert(self, table: Table, row: Row) -> None:
        raise ReadOnly()

    def insert_many(self, table: Table, rows: Sequence[Row]) -> None:
        raise ReadOnly()

    def update(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> int:
        raise ReadOnly()

    def update_one(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> Row | None:
        raise ReadOnly()

    def claim(
        self,
        table: Table,
        where: Sequence[Where],
        order_by: Sequence[Order],
        values: Mapping[str, Any],
    ) -> Row | None:
        raise ReadOnly()

    def delete(self, table: Table, where: Sequence[Where]) -> int:
        raise ReadOnly()

    def delete_first(
        self, table: Table, where: Sequence[Where], order_by: Sequence[Order], limit: int
    ) -> int:
        raise ReadOnly()

    def serialize(self, table: Table, key: str) -> None:
        raise ReadOnly()

    def append_log(self, table: Table, rows: Sequence[Row]) -> None:
        raise ReadOnly()

    def trim_log(self, table: Table, after: int, through: int) -> int:
        raise ReadOnly()
