"""Contract tests of the workspace context, on every backend."""
