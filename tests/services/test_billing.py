"""Billing services: runs, catch-up, month-ends, rounding, explicit rates, totals, the currency lock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from partnerctl.errors import Conflict, Forbidden, InvalidInput, NotFound
from partnerctl.services import billing, clients, money
from partnerctl.services import billing as subs
from partnerctl.store.models import Invoice, InvoiceLine, Subscription
from tests.helpers.store import add_bookkeeper, add_client, add_product, admin, scope

TODAY = date(2026, 1, 5)


def test_catch_up_month_end_and_idempotence(engine):
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub = subs.add_subscription(s, a, client=c, product=p, seats=4, start=date(2026, 1, 31), today=TODAY)
        sub_id = sub.id
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 3, 31))
        # Three periods due (Jan 31, Feb 28, Mar 31): one invoice each, month-ends kept.
        assert [(i.period_start, i.period_end) for i in run.invoices] == [
            (date(2026, 1, 31), date(2026, 2, 28)),
            (date(2026, 2, 28), date(2026, 3, 31)),
            (date(2026, 3, 31), date(2026, 4, 30)),
        ]
        assert [i.number for i in run.invoices] == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
        assert all(i.total == Decimal("10.00") for i in run.invoices)
    with scope(engine) as s:
        assert s.get(Subscription, sub_id).next_payment_date == date(2026, 4, 30)
        # The same date again creates nothing new.
        again = billing.run_billing(s, admin(s), as_of=date(2026, 3, 31))
        assert again.invoices == [] and again.skipped == []
        nxt = billing.run_billing(s, admin(s), as_of=date(2026, 4, 30))
        assert [(i.period_start, i.period_end, i.number) for i in nxt.invoices] == [
            (date(2026, 4, 30), date(2026, 5, 31), "INV-2026-000004")
        ]
    with scope(engine) as s:
        assert len(s.exec(select(Invoice)).all()) == 4
        line = s.exec(select(InvoiceLine).order_by(InvoiceLine.id)).first()
        assert (line.seats, line.unit_price, line.rate, line.amount) == (
            4,
            Decimal("2.5"),
            Decimal(1),
            Decimal("10"),
        )


def test_dry_run_changes_nothing(engine):
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub_id = subs.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 15), today=TODAY).id
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 2, 15), dry_run=True)
        assert [(i.number, i.period_start) for i in run.invoices] == [
            (None, date(2026, 1, 15)),
            (None, date(2026, 2, 15)),
        ]
    with scope(engine) as s:
        assert s.exec(select(Invoice)).all() == []
        assert s.get(Subscription, sub_id).next_payment_date == date(2026, 1, 15)


def test_only_active_subscriptions_are_billed_and_yearly_moves_a_year(engine):
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        y = add_product(s, "arch", "99.99", period="yearly")
        active = subs.add_subscription(
            s, a, client=c, product=y, seats=3, start=date(2024, 2, 29), today=TODAY
        )
        suspended = subs.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        cancelled = subs.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        subs.suspend_subscription(s, a, suspended.id)
        subs.cancel_subscription(s, a, cancelled.id)
        run = billing.run_billing(s, a, as_of=date(2026, 1, 31))
        assert {i.subscription_id for i in run.invoices} == {active.id}
        assert [(i.period_start, i.period_end) for i in run.invoices] == [
            (date(2024, 2, 29), date(2025, 2, 28)),
            (date(2025, 2, 28), date(2026, 2, 28)),
        ]
        assert run.invoices[0].total == Decimal("299.97")
        assert active.next_payment_date == date(2026, 2, 28)


def test_currency_conversion_needs_an_explicit_rate(engine):
    with scope(engine) as s:
        a = admin(s)
        jp = add_client(s, "JP1", currency="JPY")
        eu = add_client(s, "EU1")
        p = add_product(s, "sig", "2.35")
        s_jp = subs.add_subscription(s, a, client=jp, product=p, seats=3, start=date(2026, 1, 1), today=TODAY)
        s_eu = subs.add_subscription(s, a, client=eu, product=p, seats=3, start=date(2026, 1, 1), today=TODAY)
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 1, 1))
        # No EUR->JPY rate: reported and skipped, the other subscription is still billed.
        assert [i.subscription_id for i in run.invoices] == [s_eu.id]
        assert [(k.subscription_id, k.client_ref) for k in run.skipped] == [(s_jp.id, "JP1")]
        assert "EUR->JPY" in run.skipped[0].reason
        # The inverse pair is not used either: only the explicit direction converts.
        billing.set_rate(s, admin(s), "JPY", "EUR", "0.0061")
        assert billing.run_billing(s, admin(s), as_of=date(2026, 1, 1)).skipped[0].subscription_id == s_jp.id
    with scope(engine) as s:
        # 3 x 2.35 x 161.5 = 1138.575 -> 1139 yen (no minor units).
        billing.set_rate(s, admin(s), "EUR", "JPY", "161.5")
        run = billing.run_billing(s, admin(s), as_of=date(2026, 1, 1))
        assert run.skipped == []
        assert [(i.subscription_id, i.total, i.currency) for i in run.invoices] == [
            (s_jp.id, Decimal("1139"), "JPY")
        ]
        # Half-even on yen: 3 x 2.35 x 150 = 1057.5 -> 1058 and 1058.5 -> 1058.
        assert money.round_money(Decimal(3) * Decimal("2.35") * Decimal("150"), "JPY") == Decimal("1058")
        assert money.round_money(Decimal("1058.5"), "JPY") == Decimal("1058")
        line = s.exec(select(InvoiceLine).where(InvoiceLine.amount == Decimal("1139"))).one()
        assert (line.price_currency, line.rate) == ("EUR", Decimal("161.5"))


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


def test_totals_add_up_exactly_to_the_invoices(engine):
    # Prices with awkward fractions and a conversion: rounding happens once per line, and the
    # report is the exact Decimal sum of the invoice totals (no float anywhere).
    prices = ["0.333", "1.005", "2.675", "19.99", "0.125"]
    with scope(engine) as s:
        a = admin(s)
        billing.set_rate(s, a, "EUR", "USD", "1.0837")
        products = [add_product(s, f"p{i}", price) for i, price in enumerate(prices)]
        for n in range(12):
            c = add_client(s, f"C{n:02d}", currency="USD" if n % 3 == 0 else "EUR")
            subs.add_subscription(s, a, client=c, product=products[n % len(products)], seats=n + 1,
                                  start=date(2026, 1, 1 + n), today=TODAY)  # fmt: skip
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 3, 31))
        assert len(run.invoices) == 36
    with scope(engine) as s:
        a = admin(s)
        invoices = billing.list_invoices(s, a)
        totals = billing.invoice_totals(s, a)
        for row in totals:
            mine = [i.total for i in invoices if (i.currency, i.payer) == (row.currency, row.payer)]
            assert row.total == sum(mine, Decimal(0)) and row.invoices == len(mine)
        assert sum(r.invoices for r in totals) == 36
        for inv in invoices:
            detail = billing.get_invoice(s, a, inv.number)
            assert detail.total == sum((ln["amount"] for ln in detail.lines), Decimal(0))
            assert -detail.total.as_tuple().exponent <= 2
        # A known line: 4 seats x 0.333 EUR = 1.332 -> 1.33; 1 seat x 0.333 x 1.0837 USD = 0.3608721 -> 0.36.
        assert billing.get_invoice(s, a, invoices[0].number).total == Decimal("0.36")
        since = billing.invoice_totals(s, a, since=date(2026, 3, 1))
        assert sum(r.invoices for r in since) == len(billing.list_invoices(s, a, since=date(2026, 3, 1)))


def test_unique_constraint_on_subscription_and_period(engine):
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub = subs.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        billing.run_billing(s, a, as_of=date(2026, 1, 1))
    with scope(engine) as s:
        dup = Invoice(number="INV-X", subscription_id=sub.id, client_id=c.id, payer="partner", currency="EUR",
                      period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), issue_date=date(2026, 1, 1),
                      total=Decimal(1))  # fmt: skip
        s.add(dup)
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()
    with scope(engine) as s:
        # A run that reads a stale next payment date (as a concurrent run without the lock would)
        # hits the constraint in its savepoint, skips that period and carries on.
        sub = s.get(Subscription, sub.id)
        sub.next_payment_date = date(2026, 1, 1)
        s.add(sub)
        s.flush()
        run = billing.run_billing(s, admin(s), as_of=date(2026, 2, 1))
        assert [i.period_start for i in run.invoices] == [date(2026, 2, 1)]
        assert sub.next_payment_date == date(2026, 3, 1)
    with scope(engine) as s:
        assert sorted(i.period_start for i in s.exec(select(Invoice))) == [date(2026, 1, 1), date(2026, 2, 1)]
        # The number taken by the rolled-back savepoint is reused: numbering stays gapless.
        assert sorted(i.number for i in s.exec(select(Invoice))) == ["INV-2026-000001", "INV-2026-000002"]


def test_currency_lock_and_group_values(engine):
    with scope(engine) as s:
        a = admin(s)
        c1 = add_client(s, "A1", groups=["retail", "north"])
        c2 = add_client(s, "B2", groups=["retail"], currency="USD")
        c3 = add_client(s, "C3")
        p = add_product(s, "sig", "2.50")
        subs.add_subscription(s, a, client=c1, product=p, seats=4, start=date(2026, 1, 1), today=TODAY)
        subs.add_subscription(s, a, client=c2, product=p, seats=2, today=TODAY)
        gone = subs.add_subscription(s, a, client=c3, product=p, seats=7, today=TODAY)
        subs.cancel_subscription(s, a, gone.id)
        billing.assert_currency_change_allowed(s, c1, "USD")  # no invoice yet
        billing.run_billing(s, a, as_of=date(2026, 1, 1))
        with pytest.raises(Conflict, match="cannot change"):
            billing.assert_currency_change_allowed(s, c1, "USD")
        billing.assert_currency_change_allowed(s, c1, "EUR")  # not a change
        billing.assert_currency_change_allowed(s, c2, "EUR")

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


def test_bookkeeper_sees_invoices_of_assigned_clients_only(engine):
    with scope(engine) as s:
        a = admin(s)
        c1, c2 = add_client(s, "A1"), add_client(s, "B2")
        p = add_product(s, "sig", "2.50")
        for c in (c1, c2):
            subs.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        run = billing.run_billing(s, a, as_of=date(2026, 1, 1))
        by_client = {i.client_ref: i.number for i in run.invoices}
        bk = add_bookkeeper(s, "bob@acme.example", c1)
        assert [i.number for i in billing.list_invoices(s, bk)] == [by_client["A1"]]
        with pytest.raises(NotFound):
            billing.get_invoice(s, bk, by_client["B2"])
        assert billing.get_invoice(s, bk, by_client["A1"].lower()).client_ref == "A1"
