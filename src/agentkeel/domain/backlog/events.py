"""Events the backlog context records."""

from __future__ import annotations
