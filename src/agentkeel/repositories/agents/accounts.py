"""Accounts: handed out round-robin, skipping the exhausted."""

from __future__ import annotations

import builtins
from datetime import datetime

from agentkeel.domain.agents import (
    Account,
    AccountExhausted,
)
from agentkeel.ports.store import (
    Asc,
    Before,
    Eq,
    IsNull,
    NotNull,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import ACCOUNTS


class AccountsTable(TableRepository[Account]):
    entity = Account

    def list(self, *, provider: str | None = None) -> builtins.list[Account]:
        where = self._eq_filters(provider=provider)
        return self._select(where, [Asc(ACCOUNTS.provider), Asc(ACCOUNTS.sort_order)])

    def next_available(self, provider: str) -> Account | None:
        now = self._store.clock.now()
        # Exhaustions that have run out no longer count: clearing them first lets one
        # claiming UPDATE pick among accounts that are simply not exhausted.
        self._clear_expired([Eq(ACCOUNTS.provider, provider)], now)
        row = self._store.claim(
            self._table,
            self._query([Eq(ACCOUNTS.provider, provider), IsNull(ACCOUNTS.exhausted_at)]),
            [Asc(ACCOUNTS.last_used_at), Asc(ACCOUNTS.sort_order)],
            {ACCOUNTS.last_used_at: now, **dict.fromkeys(self.entity.stamped_on_update, now)},
        )
        return None if row is None else self._entity(row)

    def mark_exhausted(self, key: str, until: datetime | None) -> Account:
        account = self.get(key)
        account.exhausted_at = self._store.clock.now()
        account.exhausted_until = until
        return self.update(account)

    def clear_expired_exhaustion(self) -> int:
        return self._clear_expired([], self._store.clock.now())

    def _clear_expired(self, where: builtins.list[Where], now: datetime) -> int:
        # Like counters, clearing leaves the row version alone (see `_clear_others`).
        expired = [
            *self._query(where),
            NotNull(ACCOUNTS.exhausted_at),
            Before(ACCOUNTS.exhausted_until, now),
        ]
        stamps = dict.fromkeys(self.entity.stamped_on_update, now)
        return self._store.update(
            self._table,
            expired,
            {ACCOUNTS.exhausted_at: None, ACCOUNTS.exhausted_until: None, **stamps},
        )

    def _after_write(self, account: Account, stored: Row | None) -> None:
        if account.exhausted_at is not None and (
            stored is None or stored[ACCOUNTS.exhausted_at] != account.exhausted_at
        ):
            self._record(AccountExhausted(account.id, account.provider, account.exhausted_until))
