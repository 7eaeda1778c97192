"""Schema revision checks: auto-upgrade a local SQLite store, refuse a remote one that is behind."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from partnerctl.errors import SchemaOutOfDate
from partnerctl.store.engine import is_sqlite

# The newest migration bundled with this build. A test checks it equals Alembic's head, so a
# command can check the schema with one SELECT instead of importing Alembic every time.
SCHEMA_HEAD = "0002"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "heads") -> None:
    from alembic import command

    from partnerctl.store.migrate import alembic_config

    with engine.connect() as conn:
        sqlite = is_sqlite(engine.url)
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
            # dropping a parent (users) would cascade-delete its children's rows (assignments,
            # subscriptions). The pragma only works outside a transaction, so it goes straight
            # to the driver before the migration's transaction begins; the keys are checked after.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                command.upgrade(alembic_config(conn), revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the upgrade broke foreign keys: {broken[:3]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")


def ensure_schema(engine: Engine, *, auto_upgrade: bool | None = None) -> str | None:
    """Return the revision before any upgrade; raise SchemaOutOfDate for a remote store that is behind."""
    auto = is_sqlite(engine.url) if auto_upgrade is None else auto_upgrade
    rev = current_revision(engine)
    if rev == SCHEMA_HEAD:
        return rev
    from partnerctl.store.migrate import known_revisions

    if rev is not None and rev not in known_revisions():
        raise SchemaOutOfDate(
            f"the store's schema ({rev}) is newer than this partnerctl knows; upgrade partnerctl"
        )
    if auto:
        upgrade(engine)
        return rev
    if rev is None:
        raise SchemaOutOfDate(
            "the store has no partnerctl schema yet: run `partnerctl init --store URL` or `partnerctl store upgrade`"
        )
    raise SchemaOutOfDate(
        f"the store's schema is at {rev}, this partnerctl needs {SCHEMA_HEAD}: run `partnerctl store upgrade`"
    )
