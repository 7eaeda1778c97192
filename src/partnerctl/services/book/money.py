"""What a plan does to monthly billing: the monthly value of each subscription it changes, before and
after, and the totals per currency over everything the plan changes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from partnerctl.services.book.model import Obj
from partnerctl.services.money import Rates, monthly_value, round_money

# What a new product gets when catalog.toml leaves these out (as `product add` does).
PRODUCT_DEFAULTS = {"currency": "EUR", "period": "monthly"}

Value = tuple[Decimal, str]  # (monthly amount, currency)


@dataclass(frozen=True)
class Priced:
    """The part of a product that sets a monthly value (what `money.monthly_value` reads)."""

    price_per_seat: Decimal
    currency: str
    period: str


def priced(fields: dict[str, Any]) -> Priced:
    return Priced(Decimal(fields["price_per_seat"]), fields["currency"], fields["period"])


class MoneyEffect:
    """Monthly values before and after a plan, and their totals per currency."""

    def __init__(self, rates: Rates, products: dict[str, Obj], wanted: dict[str, Obj] | None) -> None:
        self.rates = rates
        self.before = {key: priced(obj.fields) for key, obj in products.items()}
        self.after = dict(self.before)
        for key, obj in (wanted or {}).items():
            base = products[key].fields if key in products else PRODUCT_DEFAULTS
            if key in products or "price_per_seat" in obj.fields:
                self.after[key] = priced({**base, **obj.fields})
        # Products whose price, currency or period the plan changes: every subscription of one moves.
        self.repriced = {k for k, p in self.before.items() if self.after[k] != p}
        self.totals_before: dict[str, Decimal] = defaultdict(Decimal)
        self.totals_after: dict[str, Decimal] = defaultdict(Decimal)

    def value(self, sub: dict, currency: str, products: dict[str, Priced]) -> Value:
        """What billing charges per month for `sub`: nothing while it is suspended."""
        amount, in_currency = monthly_value(sub["seats"], products[sub["product"]], currency, self.rates)
        return (amount if sub["status"] == "active" else round_money(Decimal(0), in_currency)), in_currency

    def affects(self, subscriptions: dict[str, dict] | None) -> bool:
        return bool(self.repriced) and any(
            s["product"] in self.repriced for s in (subscriptions or {}).values()
        )

    def client(
        self, before: tuple[str, dict[str, dict]] | None, after: tuple[str, dict[str, dict]] | None
    ) -> dict[str, tuple[Value | None, Value | None]]:
        """The subscriptions of one client (currency, slot -> subscription) before and after the
        plan: the value of each one that changes, by slot, added to the totals."""
        cur_b, subs_b = before or ("", {})
        cur_a, subs_a = after or ("", {})
        changed: dict[str, tuple[Value | None, Value | None]] = {}
        for slot in sorted(set(subs_b) | set(subs_a)):
            vb = self.value(subs_b[slot], cur_b, self.before) if slot in subs_b else None
            va = self.value(subs_a[slot], cur_a, self.after) if slot in subs_a else None
            if vb == va:
                continue
            changed[slot] = (vb, va)
            if vb is not None:
                self.totals_before[vb[1]] += vb[0]
                self.totals_after[vb[1]] += 0
            if va is not None:
                self.totals_after[va[1]] += va[0]
                self.totals_before[va[1]] += 0
        return changed

    def totals(self) -> list[dict[str, str]]:
        """`{"currency", "before", "after", "delta"}` per currency the plan changes, as exact strings."""
        rows = []
        for currency in sorted(self.totals_before):
            before = round_money(self.totals_before[currency], currency)
            after = round_money(self.totals_after[currency], currency)
            rows.append(
                {
                    "currency": currency,
                    "before": str(before),
                    "after": str(after),
                    "delta": str(after - before),
                }
            )
        return rows
