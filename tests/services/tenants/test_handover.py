"""Hand-over: the checklist made from a tenant and its administrators, and marking it handed over."""

from __future__ import annotations

import pytest

from partnerctl.services import tenants as svc
from partnerctl.services.tenants.handover import handover_checks
from partnerctl.store.models.tenants import Tenant, TenantAdmin, TenantType
from tests.helpers.store import admin, scope

ADVICE = "at most 3 administrators (advice)"


def _admins(n: int, username=None) -> list[TenantAdmin]:
    return [
        TenantAdmin(
            email=f"a{i}@shop.example",
            username=username or f"a{i}@shop.example",
            username_key=(username or f"a{i}@shop.example").casefold(),
        )  # fmt: skip
        for i in range(n)
    ]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_checklist_required_items_and_advice(backend):
    custom = Tenant(name="Shop", name_key="shop", type=TenantType.custom, needs_setup=True)
    checks = {c.item: c for c in handover_checks(custom, [])}
    assert list(checks) == [
        "at least one administrator",
        "administrator e-mail addresses are valid",
        "CUSTOM tenant is configured",
        ADVICE,
        "usernames are the e-mail addresses (advice)",
    ]
    assert (
        not checks["at least one administrator"].ok
        and "tenant admin add 'Shop'" in checks["at least one administrator"].detail
    )
    assert checks["administrator e-mail addresses are valid"].detail == "no administrator yet"
    assert not checks["CUSTOM tenant is configured"].ok
    assert [c.required for c in checks.values()] == [True, True, True, False, False]

    standard = Tenant(name="Plain", name_key="plain", type=TenantType.standard)
    bad = _admins(1) + [TenantAdmin(email="not-an-email", username="Max", username_key="max")]
    checks = {c.item: c for c in handover_checks(standard, bad)}
    assert "CUSTOM tenant is configured" not in checks
    assert checks["administrator e-mail addresses are valid"].detail == "invalid: not-an-email"
    assert checks["usernames are the e-mail addresses (advice)"].detail == "other usernames: Max"


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("count", [3, 4])
def test_admin_count_advice_is_the_rule_the_commands_warn_by(backend, count):
    # The checklist's advice item and the warnings of `tenant admin add` and `tenant handover`
    # all follow too_many_admins: they never disagree on how many is too many.
    tenant = Tenant(name="Plain", name_key="plain", type=TenantType.standard)
    advice = next(c for c in handover_checks(tenant, _admins(count)) if c.item == ADVICE)
    assert advice.ok is (not svc.too_many_admins(count))
    assert svc.too_many_admins(count) is (count == 4)


def test_handover_marks_the_tenant_once_every_required_item_holds(engine):
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Plain")
    with scope(engine) as s:
        result = svc.handover_tenant(s, admin(s), "Plain")
        assert not result.handed_over and [c.item for c in result.missing] == [
            "at least one administrator",
            "administrator e-mail addresses are valid",
        ]
    with scope(engine) as s:
        svc.add_admin(s, admin(s), "Plain", email="eva@plain.example", password="Wolkenkratzer-Fahrrad-93")
        result = svc.handover_tenant(s, admin(s), "Plain")
        assert result.handed_over and not result.already and result.admins == 1
    with scope(engine) as s:
        again = svc.handover_tenant(s, admin(s), "Plain")
        assert again.handed_over and again.already
        assert svc.describe_tenant(s, admin(s), "Plain").status == "handed over"
