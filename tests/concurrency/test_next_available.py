"""`next_available` from 8 processes at once hands out 8 different accounts, every round.

On SQLite the writer lock runs the claims one after another; on PostgreSQL (READ
COMMITTED) they run together, and the claiming UPDATE's locking read skips the rows other
processes are claiming (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import Account
from agentkeel.domain.errors import Busy
from agentkeel.ports.store import Eq
from agentkeel.schema import table_of
from tests.conftest import POSTGRES_URL, truncate_all, url_of
from tests.factories import store_of

PROCESSES = 8
ROUNDS = 50
PROVIDER = "concurrency-test"

BACKENDS = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", marks=pytest.mark.postgres))

_barrier: Barrier | None = None


def _share(barrier: Barrier) -> None:
    global _barrier
    _barrier = barrier


def claim_rounds(url: str) -> list[str | None]:
    """In each round, wait for every process, then take one account; return their emails."""
    assert _barrier is not None
    taken: list[str | None] = []
    with Database.open(url, busy_timeout=30.0) as db:
        for _ in range(ROUNDS):
            _barrier.wait()
            while True:
                try:
                    with db.unit_of_work() as uow:
                        account = uow.accounts.next_available(PROVIDER)
                        uow.commit()
                    break
                except Busy:
                    continue
            taken.append(None if account is None else account.email)
            _barrier.wait()  # the round ends when every process has committed its claim
    return taken


@pytest.mark.parametrize("backend", BACKENDS)
def test_eight_processes_get_eight_different_accounts_every_round(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = url_of(backend, tmp_path)
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
    with Database.open(url) as db, db.unit_of_work() as uow:
        for n in range(PROCESSES):
            uow.accounts.add(Account(email=f"pool-{n}@x.io", provider=PROVIDER, sort_order=n))
        uow.commit()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    with context.Pool(PROCESSES, initializer=_share, initargs=(barrier,)) as pool:
        results = pool.map(claim_rounds, [url] * PROCESSES)
    pool_emails = {f"pool-{n}@x.io" for n in range(PROCESSES)}
    for round_number in range(ROUNDS):
        handed_out = [taken[round_number] for taken in results]
        assert sorted(map(str, handed_out)) == sorted(pool_emails), (round_number, handed_out)
    with Database.open(url) as db, db.unit_of_work() as uow:
        store_of(uow).delete(table_of(Account), [Eq("provider", PROVIDER)])  # leave no trace
        uow.commit()
