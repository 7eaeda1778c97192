"""The store: SQLModel tables, engine and session scope, bundled Alembic migrations."""
