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

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


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
