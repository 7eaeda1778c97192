"""Tenant administrators: the row to add, unique address and username, one summary for output and audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import tenants as svc
from partnerctl.services.tenants.admins import new_admin, verify_admin_password
from partnerctl.store.models import AuditEvent
from partnerctl.store.models.tenants import Tenant
from tests.helpers.store import admin, scope

P1 = "Wolkenkratzer-Fahrrad-93"
P2 = "Quittengelee+Ostsee/417"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_new_admin_checks_the_email_and_cleans_username_and_name(backend):
    tenant = Tenant(id=7, name="Shop", name_key="shop")
    a = new_admin(tenant, email=" Eva@Shop.Example ", name="  Eva   Example ")
    assert (a.tenant_id, a.email, a.username, a.username_key, a.name) == (
        7, "eva@shop.example", "eva@shop.example", "eva@shop.example", "Eva Example",
    )  # fmt: skip
    b = new_admin(tenant, email="max@shop.example", username=" Max  Mustermann ")
    assert (b.username, b.username_key) == ("Max Mustermann", "max mustermann")
    with pytest.raises(InvalidInput):
        new_admin(tenant, email="not-an-email")


def test_address_and_username_are_unique_per_tenant(engine):
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Shop")
        svc.add_admin(s, admin(s), "Shop", email="eva@shop.example", username="Eva", password=P1)
    with scope(engine) as s, pytest.raises(Conflict, match="already an administrator"):
        svc.add_admin(s, admin(s), "Shop", email="EVA@shop.example", password=P2)
    with scope(engine) as s, pytest.raises(Conflict, match="username 'EVA' is already taken"):
        svc.add_admin(s, admin(s), "Shop", email="max@shop.example", username="EVA", password=P2)


def test_one_summary_for_the_listing_the_command_and_the_audit(engine):
    # `tenant admin add -o json` prints admin_summary; the listing and the audit event say the same.
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Shop")
        added, _count = svc.add_admin(s, admin(s), "shop", email="Eva@Shop.example", name="Eva", password=P1)
        summary = svc.admin_summary(added, svc.get_tenant(s, "shop"))
    assert summary == {"tenant": "Shop", "email": "eva@shop.example", "username": "eva@shop.example",
                       "name": "Eva"}  # fmt: skip
    with scope(engine, readonly=True) as s:
        (listed,) = svc.list_admins(s, admin(s), "Shop")
        assert {k: listed[k] for k in summary} == summary
        assert set(listed) == {*summary, "password_changed_at", "created_at"}
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "tenant.admin.add")).one()
        assert event.after == summary


def test_lookups_use_the_address_as_stored(engine):
    # `tenant admin remove` reports admin_address(EMAIL): the address the look-up found.
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Shop")
        svc.add_admin(s, admin(s), "Shop", email="Eva@Shop.example", password=P1)
        svc.add_admin(s, admin(s), "Shop", email="max@shop.example", password=P2)
    typed = "  EVA@shop.EXAMPLE "
    assert svc.admin_address(typed) == "eva@shop.example"
    with scope(engine, readonly=True) as s:
        assert verify_admin_password(s, "Shop", typed, P1)
        assert not verify_admin_password(s, "Shop", typed, P2)
    with scope(engine) as s:
        assert svc.remove_admin(s, admin(s), "Shop", typed) == 1
        assert [a["email"] for a in svc.list_admins(s, admin(s), "Shop")] == ["max@shop.example"]
