"""Editing the catalogue (what the book applies to a product or an integration) and reactivating a
user: validated, admins only, one audit event each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from partnerctl.errors import Forbidden, InvalidInput, NotFound
from partnerctl.services import catalog, users
from partnerctl.services.money import monthly_value
from partnerctl.store.models import AuditEvent
from tests.helpers.store import add_bookkeeper, add_product, admin, scope


def _events(s, action: str) -> list[AuditEvent]:
    return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_edit_product_changes_the_price_billing_reads(engine):
    with scope(engine) as s:
        p = add_product(s, "sig", "2.50")
        assert monthly_value(10, p, "EUR", {}) == (Decimal("25.00"), "EUR")
        catalog.edit_product(s, admin(s), "SIG", price_per_seat="3", name=" Signatures ", period="yearly")
        p = catalog.get_product(s, "sig")
        assert (p.price_per_seat, p.name, p.period) == (Decimal(3), "Signatures", "yearly")
        assert monthly_value(10, p, "EUR", {}) == (Decimal("2.50"), "EUR")
        (event,) = _events(s, "product.edit")
        assert event.before["price_per_seat"] == "2.50" and event.after["price_per_seat"] == "3"
        for bad in ({"price_per_seat": "-1"}, {"currency": "EUX"}, {"period": "weekly"}, {"name": " "}, {}):
            with pytest.raises(InvalidInput):
                catalog.edit_product(s, admin(s), "sig", **bad)
        with pytest.raises(NotFound):
            catalog.edit_product(s, admin(s), "nope", name="x")
        with pytest.raises(Forbidden):
            catalog.edit_product(s, add_bookkeeper(s, "bob@acme.example"), "sig", name="x")


def test_edit_integration(engine):
    with scope(engine) as s:
        catalog.create_integration(s, admin(s), key="exact", name="Exact")
        i = catalog.edit_integration(s, admin(s), "Exact", name="Exact Online", kind="accounting")
        assert (i.name, i.kind) == ("Exact Online", "accounting")
        assert _events(s, "integration.edit")[0].after == {"key": "exact", "name": "Exact Online",
                                                           "kind": "accounting"}  # fmt: skip
        with pytest.raises(InvalidInput, match="integration kind"):
            catalog.edit_integration(s, admin(s), "exact", kind="erp")
        with pytest.raises(InvalidInput, match="nothing to change"):
            catalog.edit_integration(s, admin(s), "exact")
        with pytest.raises(NotFound):
            catalog.get_integration(s, "nope")


def test_activate_user_undoes_deactivate(engine):
    with scope(engine) as s:
        bob = add_bookkeeper(s, "bob@acme.example")
        users.deactivate_user(s, admin(s), "bob@acme.example")
        with pytest.raises(Forbidden):
            users.activate_user(s, bob, "bob@acme.example")
        assert users.activate_user(s, admin(s), "BOB@acme.example").active
        assert [e.after["active"] for e in _events(s, "user.activate")] == [True]
        users.activate_user(s, admin(s), "bob@acme.example")  # already active: nothing recorded
        assert len(_events(s, "user.activate")) == 1
