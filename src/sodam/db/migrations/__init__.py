"""Alembic migrations for SQLite and PostgreSQL; run with ``sodam migrate`` or at start."""
