"""Primary keys: nanoids, made in the domain so every adapter returns the same ids."""

from __future__ import annotations

import os
import re
from base64 import urlsafe_b64encode

ID_LENGTH = 21
ID_MAX_LENGTH = 64
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


def new_id() -> str:
    """A fresh nanoid: 21 characters drawn uniformly from the 64 URL-safe ones
    (`A-Z a-z 0-9 _ -`), 126 random bits from the operating system's generator."""
    return _nanoid()


def _nanoid() -> str:
    # The ids the `nanoid` package makes, in one call: base64 of 16 random bytes gives 6
    # random bits a character, so its first 21 characters are exactly such an id. The
    # package draws them a byte at a time in Python (about 10 µs an id, most of a log
    # chunk's insert); this takes under one. (Looked up at each call: the property tests
    # put numbered ids in its place.)
    return urlsafe_b64encode(os.urandom(16))[:ID_LENGTH].decode("ascii")
