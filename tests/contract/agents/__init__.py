"""Contract tests of the agents context."""
