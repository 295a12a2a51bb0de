"""Primary keys: nanoids, made in the domain so every adapter returns the same ids."""

from __future__ import annotations

import re

from nanoid import generate

ID_LENGTH = 21
ID_MAX_LENGTH = 64
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


def new_id() -> str:
    """A fresh 21-character URL-safe nanoid."""
    return str(generate(size=ID_LENGTH))
