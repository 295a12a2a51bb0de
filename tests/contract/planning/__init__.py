"""Contract tests of the planning context, on every backend."""
