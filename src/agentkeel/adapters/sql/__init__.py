"""The SQL adapter: engines for SQLite and PostgreSQL (`engine`), a row store of SQLAlchemy
Core statements built once per shape (`store`, `statements`), the translation of driver
errors into domain errors (`errors`), the unit of work (`unit_of_work`) and the Alembic
runner (`migrate`)."""
