"""Adapters: the ports implemented once over a row store.

`repositories/` holds the repositories (the generic `TableRepository` and one small subclass
per aggregate), `unit_of_work.py` the unit of work that wires them, `store.py` the row store
interface and its query terms, `constraints.py` the schema's rules as data. `sql/` and
`memory/` each supply a store (and a transaction): SQLAlchemy Core on SQLite or PostgreSQL,
and the in-memory fakes that keep the same promises.
"""
