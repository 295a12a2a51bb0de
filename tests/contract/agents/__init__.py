"""Contract tests of the agents context, on every backend."""
