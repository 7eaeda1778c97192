"""Upgrading a store at 0001 that already holds invoices: their totals stay, numbering continues."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from partnerctl.store.engine import make_engine, normalize_url
from partnerctl.store.schema import SCHEMA_HEAD, current_revision, upgrade
from tests.helpers.pg import postgres_admin_url

ROWS = [
    "INSERT INTO partner (id, name, created_at) VALUES (1, 'Acme Partners', '2026-01-01 00:00:00')",
    "INSERT INTO users (id, email, name, role, language, active, created_at, updated_at) VALUES "
    "(1, 'anna@acme.example', 'Anna', 'admin', 'en', true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO products (id, key, name, price_per_seat, currency, period, created_at) VALUES "
    "(1, 'seat', 'Seat', 12.5, 'EUR', 'monthly', '2026-01-01 00:00:00')",
    "INSERT INTO clients (id, ref, ref_key, name, name_key, status, currency, language, permissions, "
    "missing_receipts, wallet_balance, expenses_ready, billing_country, contact_email, created_at, updated_at) "
    "VALUES (1, 'NL1', 'nl1', 'Smørrebrød ApS', 'smørrebrød aps', 'active', 'EUR', 'nl', '[]', 0, 0, 0, 'NL', "
    "'ina@example.com', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO subscriptions (id, client_id, product_id, seats, status, payer, start_date, next_payment_date, "
    "anchor_day, allow_client_edit, created_at, updated_at) VALUES (1, 1, 1, 100, 'active', 'partner', "
    "'2026-01-01', '2026-02-01', 1, false, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO invoices (id, number, subscription_id, client_id, payer, currency, period_start, period_end, "
    "issue_date, total, created_at) VALUES (1, 'INV-2026-000007', 1, 1, 'partner', 'EUR', '2026-01-01', "
    "'2026-02-01', '2026-01-01', 1250, '2026-01-01 00:00:00')",
    "INSERT INTO invoice_lines (id, invoice_id, product_key, description, seats, unit_price, price_currency, "
    "rate, amount) VALUES (1, 1, 'seat', 'Seat x 100', 100, 12.5, 'EUR', 1, 1250)",
    "INSERT INTO invoice_sequences (year, last_number) VALUES (2026, 7)",
]


@pytest.fixture
def old_store(backend, tmp_path):
    """An empty store migrated to 0001 only (its own SQLite file or PostgreSQL database)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        yield url
        return
    admin_url = normalize_url(postgres_admin_url())
    name = f"partnerctl_m3_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_keeps_existing_invoices_and_their_totals(old_store):
    engine = make_engine(normalize_url(old_store))
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            for statement in ROWS:
                conn.execute(sa.text(statement.replace("true", "1").replace("false", "0")
                                     if engine.dialect.name == "sqlite" else statement))  # fmt: skip
            if engine.dialect.name == "postgresql":  # explicit ids: move the id sequences past them
                for table in (
                    "partner",
                    "users",
                    "products",
                    "clients",
                    "subscriptions",
                    "invoices",
                    "invoice_lines",
                ):
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1)"))
        upgrade(engine)
        assert current_revision(engine) == SCHEMA_HEAD
        with engine.connect() as conn:
            inv = conn.execute(sa.text("SELECT * FROM invoices")).mappings().one()
            line = conn.execute(sa.text("SELECT * FROM invoice_lines")).mappings().one()
            seq = conn.execute(sa.text("SELECT series, year, last_number FROM invoice_sequences")).all()
        # Issued without VAT, they stay so: category O at 0 %, net = total, due on their issue date.
        assert Decimal(str(inv["total"])) == Decimal(str(inv["net_total"])) == Decimal(1250)
        assert Decimal(str(inv["vat_total"])) == 0 and inv["kind"] == "invoice" and inv["language"] == "nl"
        assert str(inv["due_date"]) == "2026-01-01"
        assert (line["vat_category"], Decimal(str(line["vat_rate"])), Decimal(str(line["vat_amount"]))) == (
            "O",
            0,
            0,
        )
        assert [tuple(r) for r in seq] == [("INV", 2026, 7)]
    finally:
        engine.dispose()
    _continue_billing(old_store)


def _continue_billing(url: str) -> None:
    """The upgraded store reads its old invoice and bills on from the next number."""
    from partnerctl.services import billing
    from partnerctl.services.billing import documents
    from partnerctl.services.billing.files import document_for
    from partnerctl.store.models import Invoice
    from tests.helpers.store import admin, set_invoicing, store_session

    with store_session(url) as s:
        old = billing.get_invoice(s, admin(s), "INV-2026-000007")
        assert (old.net, old.vat, old.total) == (Decimal("1250.00"), Decimal("0.00"), Decimal("1250.00"))
        assert old.buyer["name"] == "Smørrebrød ApS" and old.seller == {"name": "Acme Partners"}
        xml = documents.cii_xml(document_for(s, s.get(Invoice, 1)))
        assert b"<ram:GrandTotalAmount>1250.00</ram:GrandTotalAmount>" in xml
        set_invoicing(s)
        run = billing.run_billing(s, admin(s), as_of=date(2026, 2, 1))
        assert [(i.number, i.total) for i in run.invoices] == [("INV-2026-000008", Decimal("1512.50"))]
