"""Contract tests of the audit context, on every backend."""
