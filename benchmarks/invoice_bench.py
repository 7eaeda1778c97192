"""Benchmark: `billing run --send` through the real CLI on N due subscriptions (default 10,000).

Run:  python benchmarks/invoice_bench.py [--subscriptions 10000] [--pages 200]

Each run gets a fresh temporary SQLite store holding the partner identity, a 21 % domestic rate and
N clients (Dutch, German businesses and Danish consumers, a third each) with one due subscription.
It times, each in a `python -m partnerctl` subprocess:
- `billing run --send` on N/4 and on N subscriptions (linearity: the time ratio should be ~4);
- `billing run` without --send on N (the baseline: what making the PDFs and queueing costs on top);
and, in this process, the Factur-X PDF of one invoice rendered --pages times (fpdf2 + factur-x alone).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

ADMIN = "bench-admin@acme.example"
KINDS = (("NL", None, "nl"), ("DE", "DE136695976", "de"), ("DK", None, "da"))


def build(url: str, n: int) -> None:
    from partnerctl.services.billing import set_vat_rate
    from partnerctl.services.catalog import create_product
    from partnerctl.services.partner import set_partner_identity
    from partnerctl.services.setup import init_partner_space
    from partnerctl.store.engine import make_engine, normalize_url, session_scope
    from partnerctl.store.models import Client, Subscription, User
    from partnerctl.store.schema import upgrade

    engine = make_engine(normalize_url(url))
    upgrade(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        init_partner_space(s, partner="Bench Partners", admin_email=ADMIN, admin_name="Admin")
        admin = s.exec(sa.select(User).where(User.email == ADMIN)).scalar_one()
        set_partner_identity(s, admin, legal_name="Bench Partners B.V.", country="NL", vat_number="NL004495445B01",
                             iban="NL91ABNA0417164300", bic="ABNANL2A", city="Amsterdam", street="Keizersgracht 1",
                             zip="1015 AA")  # fmt: skip
        set_vat_rate(s, admin, "21")
        set_vat_rate(s, admin, "25", "DK")
        product = create_product(
            s, admin, key="seat", name="Bookkeeping seat", price_per_seat="12.50", currency="EUR"
        )
        s.execute(sa.insert(Client), [
            {"ref": f"C{i:06d}", "ref_key": f"c{i:06d}", "name": f"Client Łódź {i}", "name_key": f"client {i}",
             "status": "active", "currency": "EUR", "language": KINDS[i % 3][2], "permissions": [],
             "billing_country": KINDS[i % 3][0], "vat_number": KINDS[i % 3][1],
             "contact_email": f"client{i}@example.com", "missing_receipts": 0, "wallet_balance": 0,
             "expenses_ready": 0, "created_at": now, "updated_at": now}
            for i in range(n)
        ])  # fmt: skip
        ids = [cid for (cid,) in s.execute(sa.select(Client.id).order_by(Client.id))]
        s.execute(sa.insert(Subscription), [
            {"client_id": cid, "product_id": product.id, "seats": 1 + i % 50, "status": "active", "payer": "client",
             "start_date": date(2026, 3, 1), "next_payment_date": date(2026, 3, 1), "anchor_day": 1,
             "allow_client_edit": False, "created_at": now, "updated_at": now}
            for i, cid in enumerate(ids)
        ])  # fmt: skip
    engine.dispose()


def timed_run(n: int, *extra: str) -> tuple[float, str]:
    """Seconds of one `billing run` (with `extra` options) on a fresh store of n subscriptions."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        build(url, n)
        env = {**os.environ, "PARTNERCTL_STORE": url, "PARTNERCTL_USER": ADMIN,
               "PARTNERCTL_CONFIG_DIR": str(Path(tmp) / "config"), "PARTNERCTL_DATA_DIR": str(Path(tmp) / "data")}  # fmt: skip
        command = [
            sys.executable,
            "-m",
            "partnerctl",
            "billing",
            "run",
            "--as-of",
            "2026-03-01",
            *extra,
            "-o",
            "ids",
        ]
        start = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        made = len(proc.stdout.split())
        if proc.returncode != 0 or made != n:
            raise SystemExit(
                f"billing run failed ({proc.returncode}, {made} of {n} invoices): {proc.stderr[-500:]}"
            )
        return elapsed, proc.stderr.strip().splitlines()[-1]


def render_loop(pages: int) -> float:
    """Seconds to render one invoice's Factur-X PDF `pages` times, in this process (no store)."""
    from partnerctl.services.billing.documents import facturx_pdf
    from partnerctl.services.billing.documents.model import Document, Line, Party, VatGroup

    d = __import__("decimal").Decimal
    doc = Document(
        number="INV-2026-000001", type_code="380", language="nl", currency="EUR", issue_date=date(2026, 3, 1),
        due_date=date(2026, 3, 31), period_start=date(2026, 3, 1), period_last_day=date(2026, 3, 31),
        seller=Party("Bench Partners B.V.", "Keizersgracht 1", "Amsterdam", "1015 AA", "NL", "NL004495445B01"),
        buyer=Party("Smørrebrød ApS", country="NL"), buyer_ref="C1",
        lines=(Line(1, "Bookkeeping seat x 100", 100, d("12.50"), d("1250.00"), "S", d(21)),),
        vat_groups=(VatGroup("S", d(21), d("1250.00"), d("262.50"), None, None),), net_total=d("1250.00"),
        vat_total=d("262.50"), total=d("1512.50"), notes=(), iban="NL91ABNA0417164300", bic="ABNANL2A",
    )  # fmt: skip
    facturx_pdf(doc)  # warm up: imports, fonts from disk
    start = time.perf_counter()
    for _ in range(pages):
        facturx_pdf(doc)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    n, quarter = args.subscriptions, args.subscriptions // 4

    render = render_loop(args.pages)
    plain, _ = timed_run(n)
    small, _ = timed_run(quarter, "--send")
    large, said = timed_run(n, "--send")

    print(f"{'run':<46}{'invoices':>9}{'seconds':>10}{'per second':>12}")
    rows = (
        ("render the Factur-X PDF in a loop (baseline)", args.pages, render),
        ("billing run, no --send (baseline)", n, plain),
        ("billing run --send, N/4", quarter, small),
        ("billing run --send, N", n, large),
    )
    for label, count, seconds in rows:
        print(f"{label:<46}{count:>9}{seconds:>10.1f}{count / seconds:>12.1f}")
    print(f"last line of the N run: {said}")
    print()
    print(f"linearity: time at N / time at N/4 = {large / small:.2f} (4.00 is linear)")
    print(f"--send costs x{large / plain:.1f} the run without it")
    print(f"PDFs per second in the run: {n / large:.1f}, vs {args.pages / render:.1f} rendering alone "
          f"(x{(args.pages / render) / (n / large):.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
