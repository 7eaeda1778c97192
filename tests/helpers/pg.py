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
