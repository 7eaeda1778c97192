"""Engines and session scope for SQLite (local) and PostgreSQL (team) stores."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from partnerctl.errors import InvalidInput, StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(raw: str) -> URL:
    """Parse a store URL; plain postgresql:// and postgres:// mean psycopg 3."""
    raw = raw.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        url = make_url(raw)
    except ArgumentError:
        raise InvalidInput(
            f"not a store URL: {redact(raw)!r} (expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    if url.drivername in ("postgresql", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        return url.set(drivername="sqlite")
    raise InvalidInput(
        f"unsupported store {url.drivername!r}: use sqlite:///PATH or postgresql+psycopg://..."
    )


def redact(url: str | URL) -> str:
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<invalid url>"
    return url.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    if not is_sqlite(url) or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _prepare_sqlite_file(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # The store holds client data: only its owner may read it.
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the SQLite store {path}: {exc.strerror or exc}") from None


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        # WAL + NORMAL is durable across application crashes and much faster than FULL.
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front so two processes queue on busy_timeout instead of
        # failing with "database is locked" when a read lock would have to be upgraded mid-transaction.
        if conn.get_execution_options().get("partnerctl_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: URL, *, password: str | None = None) -> Engine:
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            _prepare_sqlite_file(path)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _install_sqlite_hooks(engine)
        return engine
    if password and not url.password:
        url = url.set(password=password)
    engine = create_engine(
        url,
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=False,
        connect_args={"connect_timeout": 10, "application_name": "partnerctl"},
    )
    _install_postgres_hooks(engine)
    return engine


def _install_postgres_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # An admin acting for another user (--as): every transaction of the command says so, so
        # row-level security shows that user's view (the setting is transaction-local).
        act_as = conn.get_execution_options().get("partnerctl_act_as")
        if act_as is not None:
            from partnerctl.store.roles import set_acting_user

            set_acting_user(conn, act_as)


def acting_for(engine: Engine, user_id: int | None) -> Engine:
    """The engine whose transactions act for `user_id` on PostgreSQL (itself when None or SQLite)."""
    if user_id is None or is_sqlite(engine.url):
        return engine
    return engine.execution_options(partnerctl_act_as=user_id)


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One command, one transaction: commit on success, roll back on any error."""
    bind = engine.execution_options(partnerctl_readonly=True) if readonly else engine
    session = Session(bind=bind, expire_on_commit=False, autoflush=True)
    try:
        yield session
        if readonly:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively.*")
