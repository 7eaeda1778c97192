"""Looking after the store itself: info, upgrade, consistent backups."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import partnerctl.store.models  # noqa: F401  (registers every table)
from partnerctl.errors import InvalidInput
from partnerctl.services.access import is_admin, require_admin
from partnerctl.store.engine import is_sqlite, redact, sqlite_path
from partnerctl.store.models import User
from partnerctl.store.schema import SCHEMA_HEAD, current_revision


@dataclass
class StoreInfo:
    url: str
    backend: str
    revision: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


def store_info(engine: Engine) -> StoreInfo:
    """Where the store is and its schema revision: works on a store that is behind, for anyone."""
    return StoreInfo(
        url=redact(engine.url),
        backend=engine.url.get_backend_name(),
        revision=current_revision(engine),
        head=SCHEMA_HEAD,
    )


def row_counts(session: Session, actor: User | None) -> dict[str, int] | None:
    """Rows per table, for admins only (None for anyone else): counts of every table say more
    about the book than a bookkeeper may know."""
    if actor is None or not is_admin(actor):
        return None
    conn = session.connection()
    existing = set(inspect(conn).get_table_names())
    return {
        table.name: conn.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
        for table in sorted(SQLModel.metadata.sorted_tables, key=lambda t: t.name)
        if table.name in existing
    }


def backup_sqlite(engine: Engine, actor: User, target: Path) -> int:
    """Copy a live SQLite store with the online backup API (consistent even while others write).

    Admins only: a copy is the whole book, every client included.
    """
    require_admin(actor, "store backup")
    if not is_sqlite(engine.url):
        raise InvalidInput(
            "store backup copies SQLite stores only; for PostgreSQL use "
            "`pg_dump --format=custom --file FILE DBNAME` (and pg_restore to bring it back)"
        )
    source_path = sqlite_path(engine.url)
    if source_path is None:
        raise InvalidInput("an in-memory store cannot be backed up")
    target = target.expanduser()
    if target.resolve() == source_path.resolve():
        raise InvalidInput("the backup file must not be the store itself")
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    import os

    os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    src = sqlite3.connect(source_path)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target.stat().st_size
