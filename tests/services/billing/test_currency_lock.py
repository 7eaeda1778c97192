"""The currency lock: a client's currency is fixed once it has an invoice."""

from __future__ import annotations

from datetime import date

import pytest

from partnerctl.errors import Conflict
from partnerctl.services import billing
from tests.helpers.store import add_client, add_product, admin, scope, set_invoicing

TODAY = date(2026, 1, 5)


def test_currency_lock(engine):
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        c1 = add_client(s, "A1", groups=["retail", "north"])
        c2 = add_client(s, "B2", groups=["retail"], currency="USD")
        p = add_product(s, "sig", "2.50")
        billing.add_subscription(s, a, client=c1, product=p, seats=4, start=date(2026, 1, 1), today=TODAY)
        billing.add_subscription(s, a, client=c2, product=p, seats=2, today=TODAY)
        billing.assert_currency_change_allowed(s, c1, "USD")  # no invoice yet
        assert billing.client_invoice_count(s, c1.id) == 0
        billing.run_billing(s, a, as_of=date(2026, 1, 1))
        assert billing.client_invoice_count(s, c1.id) == 1
        with pytest.raises(Conflict, match="cannot change"):
            billing.assert_currency_change_allowed(s, c1, "USD")
        with pytest.raises(Conflict, match="1 invoice"):
            billing.assert_currency_change_allowed(s, c1)  # no new currency named: any change is refused
        billing.assert_currency_change_allowed(s, c1, "EUR")  # not a change
        billing.assert_currency_change_allowed(s, c2, "EUR")
