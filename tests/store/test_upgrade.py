"""A store made with the previous schema (0001) upgrades to roles and row-level security (0002):
its data stays, its first admin becomes whoever upgrades it, and tenant administrators' passwords
are still found when reused, although every fingerprint was re-keyed with a new pepper."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from partnerctl.store.engine import make_engine, normalize_url
from partnerctl.store.models import (
    AuditEvent,
    Client,
    ClientAssignment,
    OutboxMessage,
    Partner,
    Tenant,
    TenantAdmin,
    TenantCredentialKey,
    User,
)
from partnerctl.store.policies import ROW_RULES
from partnerctl.store.schema import SCHEMA_HEAD, upgrade
from tests.helpers.store import ADMIN, store_session

BOB = "bob@acme.example"
OLD_PASSWORD = "Vintage-Marmalade-2024!x"  # noqa: S105  (a test password)
COST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def _fill_0001(url: str) -> tuple[bytes, str]:
    """What the previous release wrote, column by column of the 0001 schema (no new column named).
    Returns the old pepper and the administrator's old fingerprint, argon2id(password, pepper)."""
    from argon2 import PasswordHasher
    from argon2.low_level import Type, hash_secret_raw

    now = datetime.now(UTC)
    pepper = os.urandom(32)
    old_fp = hash_secret_raw(OLD_PASSWORD.encode(), pepper, hash_len=32, type=Type.ID, **COST).hex()
    stamps = {"created_at": now}
    client = {"status": "active", "currency": "EUR", "language": "nl", "permissions": [], "missing_receipts": 1,
              "wallet_balance": Decimal("10.50"), "expenses_ready": 0, "updated_at": now, **stamps}  # fmt: skip
    tenant = {"type": "standard", "edition": "basic", "charset": "UTF-8", "needs_setup": False,
              "handed_over": False, "updated_at": now, **stamps}  # fmt: skip
    rows = [
        (Partner, {"id": 1, "name": "Acme Partners", **stamps}),
        (User, {"id": 1, "email": ADMIN, "name": "Anna", "role": "admin", "language": "en", "active": True,
                "updated_at": now, **stamps}),
        (User, {"id": 2, "email": BOB, "name": "Bob", "role": "bookkeeper", "language": "nl", "active": True,
                "updated_at": now, **stamps}),
        (Client, {"id": 1, "ref": "BAK", "ref_key": "bak", "name": "Bakkerij", "name_key": "bakkerij", **client}),
        (Client, {"id": 2, "ref": "GAR", "ref_key": "gar", "name": "Garage", "name_key": "garage", **client}),
        (ClientAssignment, {"client_id": 1, "user_id": 2}),
        (Tenant, {"id": 1, "is_master": True, "name": "Acme Partners", "name_key": "acme partners", **tenant}),
        (Tenant, {"id": 2, "parent_id": 1, "is_master": False, "name": "Bakery Berlin",
                  "name_key": "bakery berlin", "client_id": 1, **tenant}),
        (Tenant, {"id": 3, "parent_id": 1, "is_master": False, "name": "Garage Tenant",
                  "name_key": "garage tenant", "client_id": 2, **tenant}),
        (TenantCredentialKey, {"id": 1, "pepper": pepper, **COST, **stamps}),
        (TenantAdmin, {"tenant_id": 2, "email": "eva@bak.example", "username": "eva@bak.example",
                       "username_key": "eva@bak.example", "name": "Eva", "password_changed_at": now,
                       "password_hash": PasswordHasher().hash(OLD_PASSWORD), "pw_fingerprint": old_fp, **stamps}),
        (AuditEvent, {"at": now, "actor": ADMIN, "action": "client.add", "entity": "client", "key": "BAK"}),
        (OutboxMessage, {"dedupe_key": "welcome:BAK", "kind": "welcome", "to_addr": "piet@bak.example",
                         "subject": "Welkom", "body_text": "Welkom!", "language": "nl", "status": "pending",
                         "attempts": 0, "next_attempt_at": now, **stamps}),
    ]  # fmt: skip
    engine = make_engine(normalize_url(url))
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            # The tables as 0001 made them: today's models carry later columns (and their defaults),
            # so each insert uses the model's columns (their types) that exist at 0001 only.
            meta, inspector = sa.MetaData(), sa.inspect(conn)
            for model, values in rows:
                name = model.__tablename__
                if name not in meta.tables:
                    present = {c["name"] for c in inspector.get_columns(name)}
                    sa.Table(name, meta, *(c._copy() for c in model.__table__.columns if c.name in present))
                table = meta.tables[name]
                conn.execute(table.insert().values(**values))
            if engine.dialect.name == "postgresql":
                for table in ("partner", "users", "clients", "tenants"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")
    finally:
        engine.dispose()
    return pepper, old_fp


def _check_upgraded(cli, url: str, pepper: bytes, old_fp: str) -> None:
    assert [c["ref"] for c in cli.ok("client", "list", "-o", "json").json()] == ["BAK", "GAR"]
    # bob's assignment survived (SQLite copies a table to alter it: a cascade must not empty it).
    assert [c["ref"] for c in cli.ok("--as", BOB, "client", "list", "-o", "json").json()] == ["BAK"]
    assert [t["name"] for t in cli.ok("--as", BOB, "tenant", "list", "-o", "json").json()] == [
        "Bakery Berlin"
    ]
    assert cli.ok("audit", "list", "--action", "client.add", "-o", "json").json()[0]["key"] == "BAK"
    # Reuse is still found, and so is "the same as the current one", across the re-keying.
    reused = cli.fails(2, "tenant", "admin", "add", "Garage Tenant", "--email", "gus@gar.example",
                       "--password-stdin", input=OLD_PASSWORD + "\n")  # fmt: skip
    assert "already used by another tenant administrator" in reused.stderr
    same = cli.fails(2, "tenant", "admin", "reset-password", "Bakery Berlin", "eva@bak.example",
                     "--password-stdin", input=OLD_PASSWORD + "\n")  # fmt: skip
    assert "same as the current one" in same.stderr
    with store_session(url) as s:  # as the store's owner, the one who may read these
        salt, new_pepper = s.exec(select(TenantCredentialKey.salt, TenantCredentialKey.pepper)).one()
        fingerprint = s.exec(select(TenantAdmin.pw_fingerprint)).one()
        welcome = s.exec(select(OutboxMessage)).one()
    assert salt == pepper and new_pepper != pepper
    assert fingerprint == hmac.new(new_pepper, bytes.fromhex(old_fp), hashlib.sha256).hexdigest()
    assert welcome.client_id is None  # queued before outbox rows named their client


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_sqlite_store_upgrades_itself(store_url, cli, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("PARTNERCTL_STORE", url)
    monkeypatch.setenv("PARTNERCTL_USER", ADMIN)
    pepper, old_fp = _fill_0001(url)
    _check_upgraded(cli, url, pepper, old_fp)  # the first command upgrades it
    assert cli.ok("store", "info", "-o", "json").json()["revision"] == SCHEMA_HEAD


def test_a_postgresql_store_is_upgraded_by_its_owner(pg_roles, cli, monkeypatch):
    owner = pg_roles.login("owner", createrole=True)
    database = pg_roles.own_database(owner)
    url = pg_roles.url(owner, database)
    monkeypatch.setenv("PARTNERCTL_STORE", url)
    pepper, old_fp = _fill_0001(url)
    assert "partnerctl store upgrade" in cli.fails(6, "client", "list").stderr
    assert f"from 0001 to {SCHEMA_HEAD}" in cli.ok("store", "upgrade").stderr
    # The first active admin is now the owner's role: the store keeps working for its owner.
    assert cli.ok("user", "show", ADMIN, "-o", "json").json()["db_role"] == owner
    _check_upgraded(cli, url, pepper, old_fp)
    with store_session(url) as s:
        forced = s.exec(
            sa.text(
                "SELECT relname FROM pg_class "
                "WHERE relforcerowsecurity AND relnamespace = current_schema()::regnamespace"
            )
        ).all()
    assert set(ROW_RULES) <= {r[0] for r in forced}
    # And the database itself now keeps bob to his client.
    bob_role = pg_roles.login("bob")
    cli.ok("user", "link", BOB, "--db-role", bob_role)
    bob = ("--store", pg_roles.url(bob_role, database))
    assert [c["ref"] for c in cli.ok(*bob, "client", "list", "-o", "json").json()] == ["BAK"]
