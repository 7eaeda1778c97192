"""The billing run: catch-up, month-ends, dry runs, states, explicit rates, the (subscription, period)
constraint and gapless numbering."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from partnerctl.services import billing
from partnerctl.store.models import Invoice, InvoiceLine, Subscription
from tests.helpers.store import add_client, add_product, admin, scope, set_invoicing

TODAY = date(2026, 1, 5)


def test_catch_up_month_end_and_idempotence(engine):
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub = billing.add_subscription(
            s, a, client=c, product=p, seats=4, start=date(2026, 1, 31), today=TODAY
        )
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
        assert all(
            (i.net, i.vat, i.total) == (Decimal("10.00"), Decimal("2.10"), Decimal("12.10"))
            for i in run.invoices
        )
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
        set_invoicing(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub_id = billing.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 15), today=TODAY).id
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 2, 15), dry_run=True)
        assert [(i.number, i.period_start) for i in run.invoices] == [
            (None, date(2026, 1, 15)),
            (None, date(2026, 2, 15)),
        ]
    with scope(engine) as s:
        assert s.exec(select(Invoice)).all() == []
        assert s.get(Subscription, sub_id).next_payment_date == date(2026, 1, 15)


def test_a_run_reports_each_invoice_as_the_invoice_list_shows_it(engine):
    """A run's result and the invoice list are one row type: they agree field by field, in a dry run
    too (only the number is missing there)."""
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        billing.set_rate(s, a, "EUR", "JPY", "161.5")
        for ref, currency in (("A1", "EUR"), ("J1", "JPY")):
            c = add_client(s, ref, currency=currency)
            billing.add_subscription(s, a, client=c, product=add_product(s, ref.lower(), "2.35"), seats=3,
                                     payer="client", start=date(2026, 1, 31), today=TODAY)  # fmt: skip
    with scope(engine) as s:
        dry = billing.run_billing(s, admin(s), as_of=date(2026, 2, 28), dry_run=True)
    with scope(engine) as s:
        run = billing.run_billing(s, admin(s), as_of=date(2026, 2, 28))
        listed = billing.list_invoices(s, admin(s))
    assert len(run.invoices) == len(listed) == 4
    for made, shown, planned in zip(run.invoices, listed, dry.invoices, strict=True):
        row, made_row = asdict(shown), asdict(made)
        # The list adds what happened since (paid, credited); everything the run knew agrees.
        assert {k: v for k, v in made_row.items() if k in row} == {
            k: v for k, v in row.items() if k in made_row
        }
        assert (shown.paid_on, shown.credited_by) == (None, None)
        assert {**asdict(planned), "number": made.number} == asdict(made)
    # Net 7.05 EUR + 21 % = 8.53; 1139 yen + 21 % (239.19 -> 239, no minor units) = 1378.
    assert [(i.net, i.total, i.currency) for i in listed] == [
        (Decimal("7.05"), Decimal("8.53"), "EUR")
    ] * 2 + [(Decimal("1139"), Decimal("1378"), "JPY")] * 2


def test_an_invoice_charges_the_monthly_value_the_subscription_shows(engine):
    """One money rule: a monthly product's invoice net total is the subscription's monthly value."""
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        billing.set_rate(s, a, "EUR", "USD", "1.0837")
        subs = []
        for n, (price, currency) in enumerate([("0.333", "USD"), ("2.675", "EUR"), ("19.99", "USD")]):
            c = add_client(s, f"C{n}", currency=currency)
            subs.append(billing.add_subscription(s, a, client=c, product=add_product(s, f"p{n}", price),
                                                 seats=n + 7, start=date(2026, 1, 1), today=TODAY))  # fmt: skip
        views = {sub.id: billing.show_subscription(s, a, sub.id) for sub in subs}
        run = billing.run_billing(s, a, as_of=date(2026, 1, 1))
        assert len(run.invoices) == 3
        for inv in run.invoices:
            assert (inv.net, inv.currency) == (
                views[inv.subscription_id].monthly_value,
                views[inv.subscription_id].currency,
            )


def test_only_active_subscriptions_are_billed_and_yearly_moves_a_year(engine):
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        y = add_product(s, "arch", "99.99", period="yearly")
        active = billing.add_subscription(
            s, a, client=c, product=y, seats=3, start=date(2024, 2, 29), today=TODAY
        )
        suspended = billing.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        cancelled = billing.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
        billing.suspend_subscription(s, a, suspended.id)
        billing.cancel_subscription(s, a, cancelled.id)
        run = billing.run_billing(s, a, as_of=date(2026, 1, 31))
        assert {i.subscription_id for i in run.invoices} == {active.id}
        assert [(i.period_start, i.period_end) for i in run.invoices] == [
            (date(2024, 2, 29), date(2025, 2, 28)),
            (date(2025, 2, 28), date(2026, 2, 28)),
        ]
        assert (run.invoices[0].net, run.invoices[0].total) == (Decimal("299.97"), Decimal("362.96"))
        assert active.next_payment_date == date(2026, 2, 28)


def test_currency_conversion_needs_an_explicit_rate(engine):
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        jp = add_client(s, "JP1", currency="JPY")
        eu = add_client(s, "EU1")
        p = add_product(s, "sig", "2.35")
        s_jp = billing.add_subscription(
            s, a, client=jp, product=p, seats=3, start=date(2026, 1, 1), today=TODAY
        )
        s_eu = billing.add_subscription(
            s, a, client=eu, product=p, seats=3, start=date(2026, 1, 1), today=TODAY
        )
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
        assert [(i.subscription_id, i.net, i.currency) for i in run.invoices] == [
            (s_jp.id, Decimal("1139"), "JPY")
        ]
        line = s.exec(select(InvoiceLine).where(InvoiceLine.amount == Decimal("1139"))).one()
        assert (line.price_currency, line.rate) == ("EUR", Decimal("161.5"))


def test_unique_constraint_on_subscription_and_period(engine):
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub = billing.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 1), today=TODAY)
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
