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
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
