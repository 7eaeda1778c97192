"""Reading invoices: totals that add up exactly, per-currency totals, and who sees which invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerctl.errors import NotFound
from partnerctl.services import billing
from tests.helpers.store import add_bookkeeper, add_client, add_product, admin, scope, set_invoicing

TODAY = date(2026, 1, 5)


def test_totals_add_up_exactly_to_the_invoices(engine):
    # Prices with awkward fractions and a conversion: rounding happens once per line, and the
    # report is the exact Decimal sum of the invoice totals (no float anywhere).
    prices = ["0.333", "1.005", "2.675", "19.99", "0.125"]
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        billing.set_rate(s, a, "EUR", "USD", "1.0837")
        products = [add_product(s, f"p{i}", price) for i, price in enumerate(prices)]
        for n in range(12):
            c = add_client(s, f"C{n:02d}", currency="USD" if n % 3 == 0 else "EUR")
            billing.add_subscription(s, a, client=c, product=products[n % len(products)], seats=n + 1,
                                     start=date(2026, 1, 1 + n), today=TODAY)  # fmt: skip
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 3, 31))
        assert len(run.invoices) == 36
        run_totals = run.totals()
    with scope(engine) as s:
        a = admin(s)
        invoices = billing.list_invoices(s, a)
        totals = billing.invoice_totals(s, a)
        for row in totals:
            mine = [i.total for i in invoices if (i.currency, i.payer) == (row.currency, row.payer)]
            assert row.total == sum(mine, Decimal(0)) and row.invoices == len(mine)
        assert sum(r.invoices for r in totals) == 36
        # The run's closing totals and the invoice list's are one sum per currency.
        assert billing.totals_by_currency(invoices) == run_totals
        assert run_totals == {
            c: sum((r.total for r in totals if r.currency == c), Decimal(0)) for c in run_totals
        }
        for inv in invoices:
            detail = billing.get_invoice(s, a, inv.number)
            assert detail.net == sum((ln["amount"] for ln in detail.lines), Decimal(0))
            assert detail.vat == sum((ln["vat_amount"] for ln in detail.lines), Decimal(0))
            assert detail.total == detail.net + detail.vat
            assert -detail.total.as_tuple().exponent <= 2
        # A known line: 4 seats x 0.333 EUR = 1.332 -> 1.33; 1 seat x 0.333 x 1.0837 USD = 0.3608721 -> 0.36.
        assert billing.get_invoice(s, a, invoices[0].number).net == Decimal("0.36")
        since = billing.invoice_totals(s, a, since=date(2026, 3, 1))
        assert sum(r.invoices for r in since) == len(billing.list_invoices(s, a, since=date(2026, 3, 1)))


def test_bookkeeper_sees_invoices_of_assigned_clients_only(engine):
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        c1, c2 = add_client(s, "A1"), add_client(s, "B2")
        p = add_product(s, "sig", "2.50")
        for c in (c1, c2):
            billing.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        run = billing.run_billing(s, a, as_of=date(2026, 1, 1))
        by_client = {i.client_ref: i.number for i in run.invoices}
        bk = add_bookkeeper(s, "bob@acme.example", c1)
        assert [i.number for i in billing.list_invoices(s, bk)] == [by_client["A1"]]
        with pytest.raises(NotFound):
            billing.get_invoice(s, bk, by_client["B2"])
        assert billing.get_invoice(s, bk, by_client["A1"].lower()).client_ref == "A1"
