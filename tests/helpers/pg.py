"""The PostgreSQL leg of the tests: where the server is, and emptying a test database."""

from __future__ import annotations

import os

import pytest

PG_ENV = "PARTNERCTL_TEST_POSTGRES_URL"


def postgres_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL leg")
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL leg")
    return url


def truncate_all(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlmodel import SQLModel

    import partnerctl.store.models  # noqa: F401

    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        # audit_events is append-only (a trigger refuses TRUNCATE, owner included). Only a superuser
        # can step around it, and only here: in replica mode ordinary triggers do not fire.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def drop_group_roles(conn, database: str) -> None:
    """Drop the group roles of the store in `database` (after the database itself is dropped)."""
    from sqlalchemy import text

    from partnerctl.store.roles import group_roles

    for role in group_roles(database).both:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


class RoleFactory:
    """Uniquely named PostgreSQL roles for one test (roles are cluster-wide), dropped at its end.

    Only the set-up runs as the superuser; what a test checks runs as the roles made here.
    """

    def __init__(self, store_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.store_url = store_url
        self.database = make_url(store_url).database
        self.names: list[str] = []
        self.databases: list[str] = []

    def name(self, stem: str) -> str:
        """A fresh role name (the role is made by the test, e.g. by `user add --db-role`)."""
        import uuid

        name = f"{stem}_{uuid.uuid4().hex[:8]}"
        self.names.append(name)
        return name

    def superuser(self, *statements: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.store_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def login(self, stem: str, *, createrole: bool = False, groups: tuple[str, ...] = ()) -> str:
        """A LOGIN role (not a superuser), member of `groups` with the admin option to pass them on."""
        name = self.name(stem)
        grants = [f'GRANT "{g}" TO "{name}" WITH ADMIN OPTION' for g in groups]
        self.superuser(f'CREATE ROLE "{name}" LOGIN{" CREATEROLE" if createrole else ""}', *grants)
        return name

    def url(self, role: str, database: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.store_url).set(username=role, password=None, database=database or self.database)
        return url.render_as_string(hide_password=False)

    def own_database(self, owner: str) -> str:
        """A new, empty database owned by `owner`, as a DBA makes one for a team's store."""
        import uuid

        name = f"partnerctl_own_{uuid.uuid4().hex[:8]}"
        self.databases.append(name)
        self.superuser(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return name

    def drop_all(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.store_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for database in self.databases:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                    drop_group_roles(conn, database)
                for name in self.names:
                    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
                        conn.execute(text(f'DROP OWNED BY "{name}"'))
                        conn.execute(text(f'DROP ROLE "{name}"'))
        finally:
            engine.dispose()
