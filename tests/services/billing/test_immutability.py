"""Issued invoices and credit notes never change: there is no UPDATE path, the ORM refuses one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from partnerctl.errors import Conflict
from partnerctl.services import billing
from partnerctl.store.models import Invoice, InvoiceLine
from tests.helpers.store import add_client, add_product, admin, scope, set_invoicing


def _columns(inv: Invoice) -> dict:
    return {c.name: getattr(inv, c.name) for c in Invoice.__table__.columns}


def _one_invoice(engine) -> str:
    with scope(engine) as s:
        a = admin(s)
        set_invoicing(s)
        c = add_client(s, "A1")
        billing.add_subscription(s, a, client=c, product=add_product(s, "sig", "2.50"), seats=4,
                                 start=date(2026, 1, 1), today=date(2026, 1, 1))  # fmt: skip
        return billing.run_billing(s, a, as_of=date(2026, 1, 1)).invoices[0].number


def test_an_issued_invoice_refuses_any_change(engine):
    number = _one_invoice(engine)
    for change in (lambda inv, line: setattr(inv, "total", Decimal(1)),
                   lambda inv, line: setattr(inv, "buyer", {"name": "someone else"}),
                   lambda inv, line: setattr(line, "vat_rate", Decimal(9))):  # fmt: skip
        with pytest.raises(Conflict, match="never changes"), scope(engine) as s:
            inv = s.exec(select(Invoice).where(Invoice.number == number)).one()
            line = s.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)).one()
            change(inv, line)
            s.flush()
    with scope(engine, readonly=True) as s:
        inv = s.exec(select(Invoice).where(Invoice.number == number)).one()
        assert inv.total == Decimal("12.1") and inv.buyer["name"] == "Client A1"


def test_reading_crediting_and_paying_leave_it_as_issued(engine):
    number = _one_invoice(engine)
    with scope(engine) as s:
        before = _columns(s.exec(select(Invoice).where(Invoice.number == number)).one())
        billing.record_payment(s, admin(s), number, paid_on=date(2026, 1, 2), today=date(2026, 1, 3))
        billing.credit_invoice(s, admin(s), number, today=date(2026, 1, 3))
    with scope(engine, readonly=True) as s:
        assert _columns(s.exec(select(Invoice).where(Invoice.number == number)).one()) == before
