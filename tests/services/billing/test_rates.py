"""The exchange-rate table: validation, updates, admins only, and what a rate changes in values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerctl.errors import Forbidden, InvalidInput
from partnerctl.services import billing, clients
from tests.helpers.store import add_bookkeeper, add_client, add_product, admin, scope

TODAY = date(2026, 1, 5)


def test_rate_validation_and_update(engine):
    with scope(engine) as s:
        a = admin(s)
        with pytest.raises(InvalidInput):
            billing.set_rate(s, a, "EUR", "EUR", "1")
        with pytest.raises(InvalidInput):
            billing.set_rate(s, a, "EUR", "XXY", "1")
        with pytest.raises(InvalidInput):
            billing.set_rate(s, a, "EUR", "USD", "0")
        with pytest.raises(InvalidInput):
            billing.set_rate(s, a, "EUR", "USD", "abc")
        billing.set_rate(s, a, "eur", "usd", "1.08")
        billing.set_rate(s, a, "EUR", "USD", "1.0815")
        assert [(r.base, r.quote, r.rate) for r in billing.list_rates(s)] == [
            ("EUR", "USD", Decimal("1.0815"))
        ]
        bk = add_bookkeeper(s, "bob@acme.example")
        with pytest.raises(Forbidden):
            billing.set_rate(s, bk, "EUR", "DKK", "7.46")
        with pytest.raises(Forbidden):
            billing.run_billing(s, bk)


def test_group_values_use_a_rate_once_it_is_set(engine):
    with scope(engine) as s:
        a = admin(s)
        c1 = add_client(s, "A1", groups=["retail", "north"])
        c2 = add_client(s, "B2", groups=["retail"], currency="USD")
        c3 = add_client(s, "C3")
        p = add_product(s, "sig", "2.50")
        billing.add_subscription(s, a, client=c1, product=p, seats=4, start=date(2026, 1, 1), today=TODAY)
        billing.add_subscription(s, a, client=c2, product=p, seats=2, today=TODAY)
        gone = billing.add_subscription(s, a, client=c3, product=p, seats=7, today=TODAY)
        billing.cancel_subscription(s, a, gone.id)
        billing.run_billing(s, a, as_of=date(2026, 1, 1))

        def by_group(actor):
            return {
                r["group"]: (r["seats"], r["monthly_value"]) for r in clients.client_report(s, actor, "group")
            }

        # B2 has no EUR->USD rate: its value stays in EUR rather than being guessed.
        assert by_group(a) == {"north": (4, "EUR 10.00"), "retail": (6, "EUR 15.00"), "(none)": (0, "")}
        # With a rate, B2's value is in its own currency, as `subscription list` shows it.
        billing.set_rate(s, a, "EUR", "USD", "1.1")
        assert by_group(a)["retail"] == (6, "EUR 10.00; USD 5.50")
        bk = add_bookkeeper(s, "bob@acme.example", c2)
        assert by_group(bk) == {"retail": (2, "USD 5.50")}
