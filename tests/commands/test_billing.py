"""`partnerctl billing ...` through the CLI: runs, the report, rates, and two concurrent cron runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.helpers.cli import setup_invoicing, setup_space
from tests.helpers.store import ADMIN, set_invoicing


def test_billing_run_invoices_and_report(initialized, cli):
    setup_space(cli)
    setup_invoicing(cli)
    cli.ok(
        "client", "add", "Tokyo KK", "--ref", "TKY", "--currency", "JPY", "--no-template", "--group", "asia"
    )
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "3", "--start", "2026-01-31")
    cli.ok("subscription", "add", "GAR", "--product", "sig-gws", "--seats", "7", "--start", "2026-02-15",
           "--payer", "client")  # fmt: skip
    cli.ok("subscription", "add", "TKY", "--product", "sig-m365", "--seats", "3", "--start", "2026-03-01")

    dry = cli(*("billing", "run", "--as-of", "2026-03-31", "--dry-run", "-o", "json"))
    assert dry.exit_code == 9, dry  # TKY needs EUR->JPY
    assert "would create 5 invoice(s)" in dry.stderr
    assert [r["number"] for r in dry.json()] == [None] * 5
    assert cli.ok("invoice", "list", "-o", "json").json() == []

    # No EUR->JPY rate: TKY is reported and skipped, the rest is billed and committed; exit 9.
    first = cli(*("billing", "run", "--as-of", "2026-03-31", "-o", "json"))
    assert first.exit_code == 9, first
    assert "subscription 3 (TKY, sig-m365) not billed" in first.stderr
    assert "billing rate set EUR JPY" in first.stderr
    created = first.json()
    # Net, 21 % VAT (7.50 -> 1.575 -> 1.58 half-even) and gross.
    assert [
        (r["client"], r["period_start"], r["period_end"], r["net"], r["vat"], r["total"]) for r in created
    ] == [
        ("BAK", "2026-01-31", "2026-02-28", "7.50", "1.58", "9.08"),
        ("BAK", "2026-02-28", "2026-03-31", "7.50", "1.58", "9.08"),
        ("BAK", "2026-03-31", "2026-04-30", "7.50", "1.58", "9.08"),
        ("GAR", "2026-02-15", "2026-03-15", "14.00", "2.94", "16.94"),
        ("GAR", "2026-03-15", "2026-04-15", "14.00", "2.94", "16.94"),
    ]
    assert cli.ok("subscription", "show", "1", "-o", "json").json()["next_payment_date"] == "2026-04-30"

    cli.ok("billing", "rate", "set", "EUR", "JPY", "161.5")
    assert cli.ok("billing", "rate", "list", "-o", "json").json()[0]["rate"] == "161.5"
    second = cli.ok("billing", "run", "--as-of", "2026-03-31", "-o", "json").json()
    # 3 x 2.50 x 161.5 = 1211.25 -> 1211 yen net, no minor units; 21 % VAT 254.31 -> 254.
    assert [(r["client"], r["net"], r["total"], r["currency"]) for r in second] == [
        ("TKY", "1211", "1465", "JPY")
    ]
    assert cli.ok("billing", "run", "--as-of", "2026-03-31", "-o", "json").json() == []  # nothing new

    invoices = cli.ok("invoice", "list", "-o", "json").json()
    assert len(invoices) == 6
    report = cli.ok("billing", "report", "-o", "json").json()
    for row in report:
        mine = [
            Decimal(i["total"])
            for i in invoices
            if (i["currency"], i["payer"]) == (row["currency"], row["payer"])
        ]
        assert Decimal(row["total"]) == sum(mine) and row["invoices"] == len(mine)
        assert Decimal(row["net"]) + Decimal(row["vat"]) == Decimal(row["total"])
    assert {(r["currency"], r["payer"], r["net"], r["total"]) for r in report} == {
        ("EUR", "partner", "22.50", "27.24"), ("EUR", "client", "28.00", "33.88"), ("JPY", "partner", "1211", "1465"),
    }  # fmt: skip


def test_currency_lock_and_client_report(initialized, cli):
    setup_space(cli)
    setup_invoicing(cli)
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "4", "--start", "2026-01-01")
    cli.ok("client", "edit", "BAK", "--currency", "USD")  # no invoice yet: allowed
    cli.ok("client", "edit", "BAK", "--currency", "EUR")
    cli.ok("billing", "rate", "set", "EUR", "USD", "1.08")
    cli.ok("billing", "run", "--as-of", "2026-01-01")
    refused = cli.fails(4, "client", "edit", "BAK", "--currency", "USD")
    assert "invoice" in refused.stderr and "cannot change" in refused.stderr
    assert cli.ok("client", "show", "BAK", "-o", "json").json()["currency"] == "EUR"
    cli.ok("client", "edit", "GAR", "--currency", "USD")  # GAR has no invoice
    rows = {r["group"]: r for r in cli.ok("client", "report", "-o", "json").json()}
    assert rows["retail"]["seats"] == 4 and "10.00" in rows["retail"]["monthly_value"]
    # A client with invoices is archived, never removed (the invoices must survive).
    removed = cli.fails(4, "client", "remove", "BAK", "--yes")
    assert "archive" in removed.stderr
    assert cli.ok("client", "show", "BAK", "-o", "json").json()["ref"] == "BAK"
    cli.ok("client", "remove", "GAR", "--yes")


def test_billing_needs_an_admin(initialized, cli):
    setup_space(cli)
    cli.ok("user", "add", "bob@acme.example")
    cli.fails(5, "--as", "bob@acme.example", "billing", "run")
    cli.fails(5, "--as", "bob@acme.example", "billing", "rate", "set", "EUR", "USD", "1.1")
    cli.fails(2, "billing", "rate", "set", "EUR", "USD", "-1")
    cli.fails(2, "billing", "rate", "set", "EUR", "EUR", "1")
    cli.fails(2, "billing", "run", "--as-of", "yesterday")


def _seed_due_subscriptions(store_url: str, n: int) -> None:
    """n clients each with a subscription six months behind, inserted directly (fast)."""
    from partnerctl.services import billing as subs
    from partnerctl.services.catalog import create_product
    from partnerctl.store.engine import make_engine, normalize_url, session_scope
    from partnerctl.store.models import Client, User

    engine = make_engine(normalize_url(store_url))
    with session_scope(engine) as s:
        admin = s.exec(sa.select(User).where(User.email == ADMIN)).scalar_one()
        set_invoicing(s)
        product = create_product(s, admin, key="sig", name="Sig", price_per_seat="1.99", currency="EUR")
        for i in range(n):
            client = Client(ref=f"C{i:03d}", ref_key=f"c{i:03d}", name=f"Client {i}", name_key=f"client {i}")
            s.add(client)
            s.flush()
            subs.add_subscription(s, admin, client=client, product=product, seats=i + 1,
                                  start=date(2026, 1, 31), today=date(2026, 1, 31))  # fmt: skip
    engine.dispose()


def _both_waiting(conn, procs, store_url: str) -> bool:
    if conn.dialect.name == "postgresql":
        # Statistics views are a snapshot per transaction; this one holds the gate open.
        conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        waiting = conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'partnerctl' "
            "AND wait_event_type = 'Lock'"
        )).scalar()  # fmt: skip
        return waiting >= 2
    # SQLite shows no waiters: both processes holding the store file open means both have reached
    # their (blocked) BEGIN IMMEDIATE, the first thing a run does with the store.
    path = os.path.realpath(store_url.removeprefix("sqlite:///"))
    for p in procs:
        try:
            fds = os.listdir(f"/proc/{p.pid}/fd")
        except FileNotFoundError:
            return False
        if not any(_readlink(f"/proc/{p.pid}/fd/{fd}") == path for fd in fds):
            return False
    return True


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


@pytest.mark.slow
def test_two_concurrent_billing_runs_create_each_invoice_once(initialized):
    subscriptions, periods = 25, 6
    _seed_due_subscriptions(initialized, subscriptions)
    env = {**os.environ, "PARTNERCTL_USER": ADMIN}
    cmd = [sys.executable, "-m", "partnerctl", "billing", "run", "--as-of", "2026-06-30", "-o", "json"]
    gate = sa.create_engine(initialized)
    with gate.connect() as conn:
        # Hold the runs at the gate so their transactions truly overlap: on PostgreSQL both block on
        # the invoices table (or on each other), on SQLite both block on the write lock held here.
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE"))
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]  # fmt: skip
        for _ in range(600):
            if _both_waiting(conn, procs, initialized) or any(p.poll() is not None for p in procs):
                break
            time.sleep(0.05)
        conn.rollback()
    gate.dispose()
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    created = [json.loads(out) for out, _ in outs]
    # Between them the two runs created every invoice, and no invoice twice.
    assert sum(len(c) for c in created) == subscriptions * periods

    engine = sa.create_engine(initialized)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT subscription_id, period_start, number FROM invoices")).all()
        next_dates = (
            conn.execute(sa.text("SELECT DISTINCT next_payment_date FROM subscriptions")).scalars().all()
        )
    engine.dispose()
    assert len(rows) == subscriptions * periods
    assert len({(r[0], str(r[1])) for r in rows}) == len(rows)
    # Numbers are unique and gapless.
    assert sorted(r[2] for r in rows) == [f"INV-2026-{k:06d}" for k in range(1, subscriptions * periods + 1)]
    assert [str(d) for d in next_dates] == ["2026-07-31"]
