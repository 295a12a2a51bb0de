"""Keeping the counters that the schema declares (`schema/counters.py`) true: every write
of a counted row moves its holder's count in the same savepoint, one
`UPDATE ... SET column = column + n` each, so that concurrent writers all count."""

from __future__ import annotations

from agentkeel.ports.store import Count, Eq, In, NotNull, Row, RowStore, Where
from agentkeel.schema import entity_of, metadata
from agentkeel.schema.counters import COUNTERS, Counter


def count_move(
    store: RowStore, counters: tuple[Counter, ...], before: Row | None, after: Row | None
) -> None:
    """Move the counters this row counts towards from its state `before` to `after`
    (None: not stored), in the caller's savepoint."""
    for counter in counters:
        was, now = counter.holder(before), counter.holder(after)
        if was == now:
            continue
        if was is not None:
            _bump(store, counter, was, -1)
        if now is not None:
            _bump(store, counter, now, 1)


def moves(counters: tuple[Counter, ...], before: Row | None, after: Row | None) -> bool:
    """Whether a write from `before` to `after` moves any of the counters (and so is more
    than one statement, to be run in a savepoint)."""
    return any(counter.holder(before) != counter.holder(after) for counter in counters)


def uncount(store: RowStore, removed: dict[str, set[str]]) -> None:
    """Before a delete: take the rows it removes (its own and those it cascades to) off
    the counters of the holders that survive it, one aggregate and one UPDATE per
    holder."""
    for name, keys in removed.items():
        counters = COUNTERS.get(name, ())
        if not keys or not counters:
            continue
        table = metadata.tables[name]
        for counter in counters:
            counted: list[Where] = [
                In("id", frozenset(keys)),
                NotNull(counter.via),
                Eq(counter.when_column, counter.when_value),
            ]
            gone = removed.get(counter.holder_table, set())
            for holder, many in store.aggregate(table, [Count()], counted, group_by=[counter.via]):
                if holder not in gone:
                    _bump(store, counter, holder, -many)


def _bump(store: RowStore, counter: Counter, holder: str, by: int) -> None:
    table = metadata.tables[counter.holder_table]
    stamps = {name: store.clock.now() for name in entity_of(table).stamped_on_update}
    row = store.update_one(table, [Eq("id", holder)], stamps, {counter.column: by})
    # The counted row's foreign key guarantees the holder, and the counter never falls
    # below zero while every write goes through here.
    assert row is not None and row[counter.column] >= 0, (counter, holder, row)
