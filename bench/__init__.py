"""Benchmarks of agentkeel against raw sqlite3; run them with `python -m bench.run`."""
