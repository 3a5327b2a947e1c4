"""Storage: SQLAlchemy Core tables, the engine, repositories (``*_txn``-style functions that take a
connection and never commit) and Alembic migrations. Rows never leave this package: repositories
return frozen dataclasses from ``sodam.domain``."""
