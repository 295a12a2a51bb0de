"""Provider accounts agents run under (Codewalkers' `accounts`)."""

from __future__ import annotations

from typing import ClassVar

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import Integer, Label, LongText, Name, UtcDateTime


class Account(Timestamped):
    """An account of a provider (`claude`...). `config_json` and `credentials` are secrets:
    never in repr, errors, audit states or events. An exhausted account (`exhausted_at`) is
    skipped by `next_available` until `exhausted_until` passes."""

    secret_fields = frozenset({"config_json", "credentials"})

    email: Name
    provider: Label = "claude"
    config_json: LongText | None = None
    credentials: LongText | None = None
    exhausted_at: UtcDateTime | None = None
    exhausted_until: UtcDateTime | None = None
    last_used_at: UtcDateTime | None = None
    sort_order: Integer = 0

    is_exhausted: ClassVar[Flag] = Flag("exhausted_at")
