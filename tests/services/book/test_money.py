"""What a plan does to monthly billing: values by subscription, totals per currency (no store)."""

from __future__ import annotations

from decimal import Decimal

from partnerctl.services.book.model import Obj
from partnerctl.services.book.money import MoneyEffect


def products(**prices):
    return {
        k: Obj(k, {"name": k, "price_per_seat": p, "currency": c, "period": per})
        for k, (p, c, per) in prices.items()
    }


def test_values_follow_rates_periods_and_suspension():
    rates = {("USD", "EUR"): Decimal("0.9")}
    catalog = products(
        sig=("2.50", "EUR", "monthly"), year=("120.00", "EUR", "yearly"), us=("10.00", "USD", "monthly")
    )
    money = MoneyEffect(rates, catalog, None)
    before = ("EUR", {"sig": {"product": "sig", "seats": 10, "status": "active"},
                      "year": {"product": "year", "seats": 1, "status": "suspended"}})  # fmt: skip
    after = ("EUR", {"sig": {"product": "sig", "seats": 10, "status": "active"},
                     "year": {"product": "year", "seats": 1, "status": "active"},
                     "us": {"product": "us", "seats": 3, "status": "active"}})  # fmt: skip
    changed = money.client(before, after)
    assert changed == {
        "us": (None, (Decimal("27.00"), "EUR")),  # 3 x 10 USD at 0.9
        "year": ((Decimal("0.00"), "EUR"), (Decimal("10.00"), "EUR")),  # 120 a year, no longer suspended
    }
    # Without a rate a value stays in the product's currency (never guessed): its own total.
    changed = money.client(("DKK", {}), ("DKK", {"us": {"product": "us", "seats": 1, "status": "active"}}))
    assert changed == {"us": (None, (Decimal("10.00"), "USD"))}
    assert money.totals() == [
        {"currency": "EUR", "before": "0.00", "after": "37.00", "delta": "37.00"},
        {"currency": "USD", "before": "0.00", "after": "10.00", "delta": "10.00"},
    ]


def test_a_new_price_and_a_new_client_currency_move_the_value():
    wanted = {"sig": Obj("sig", {"price_per_seat": "3.00"}), "new": Obj("new", {"price_per_seat": "1"})}
    money = MoneyEffect({("EUR", "DKK"): Decimal("7.5")}, products(sig=("2.50", "EUR", "monthly")), wanted)
    assert money.repriced == {"sig"} and money.after["new"].currency == "EUR"
    sub = {"sig": {"product": "sig", "seats": 2, "status": "active"}}
    assert money.affects(sub) and not money.affects({})
    assert money.client(("EUR", sub), ("DKK", sub)) == {
        "sig": ((Decimal("5.00"), "EUR"), (Decimal("45.00"), "DKK"))
    }
