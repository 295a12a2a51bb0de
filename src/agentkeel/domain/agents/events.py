"""Events the agents context records."""

from __future__ import annotations
