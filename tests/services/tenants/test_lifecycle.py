"""Tenant lifecycle: what an edit changes (checked before the store), moves without cycles, removal order."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import tenants as svc
from partnerctl.services.tenants.lifecycle import edit_changes, removal_order
from partnerctl.store.models.tenants import Edition, TenantType
from tests.helpers.store import admin, scope


def test_cycles_in_deep_chains_and_recursive_remove(engine, bulk_tree):
    with scope(engine) as s:
        bulk_tree(s, fanout=0, levels=0, chain=30)
    with scope(engine) as s, pytest.raises(InvalidInput, match="cycle"):
        svc.move_tenant(s, admin(s), "chain000", "chain029")
    with scope(engine) as s:
        svc.move_tenant(s, admin(s), "chain029", "Acme Partners")
        removed = svc.remove_tenant(s, admin(s), "chain000", recursive=True)
        assert len(removed) == 29 and removed[0] == "chain028"  # deepest first
    with scope(engine, readonly=True) as s:
        assert [n.name for n in svc.tenant_tree(s, admin(s)).nodes.values()] == ["Acme Partners", "chain029"]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (30, 10)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_edit_changes_are_checked_and_normalised_without_the_store(backend):
    changes = edit_changes(
        TenantType.custom,
        new_name="  Bakery   Berlin ",
        edition="PROFESSIONAL",
        charset="latin-1",
        logo=_png(),
        client_ref="BAK",
        configured=True,
    )
    assert changes["name"] == "Bakery Berlin" and changes["edition"] == Edition.professional
    assert changes["charset"] == "ISO-8859-1" and changes["client"] == "BAK"
    assert changes["needs_setup"] is False and changes["logo"][1].mime == "image/png"
    removing = edit_changes(TenantType.standard, remove_logo=True, remove_client=True)
    assert removing == {"logo": None, "client": None}
    for kwargs, message in (
        ({}, "nothing to change"),
        ({"logo": _png(), "remove_logo": True}, "--logo or --remove-logo"),
        ({"client_ref": "BAK", "remove_client": True}, "--client or --no-client"),
        ({"configured": False}, "only CUSTOM tenants need setup"),
        ({"charset": "latin-1"}, "always UTF-8"),
        ({"edition": "gold"}, "unknown edition"),
        ({"logo": b"not an image"}, "not an image"),
    ):
        with pytest.raises(InvalidInput, match=message):
            edit_changes(TenantType.standard, **kwargs)


def test_edit_applies_the_changes_after_the_store_checks(engine):
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Shop", type_="custom")
        svc.create_tenant(s, admin(s), name="Plain")
    with scope(engine) as s, pytest.raises(Conflict, match="'Plain' already exists"):
        svc.edit_tenant(s, admin(s), "Shop", new_name="PLAIN")
    with scope(engine) as s, pytest.raises(NotFound, match="no client"):
        svc.edit_tenant(s, admin(s), "Shop", client_ref="NOPE-1")
    with scope(engine) as s:
        tenant = svc.edit_tenant(s, admin(s), "shop", new_name="Shop 2", configured=True, logo=_png())
        assert (tenant.name, tenant.name_key, tenant.needs_setup) == ("Shop 2", "shop 2", False)
        assert (tenant.logo_mime, tenant.logo_width) == ("image/png", 30)
    with scope(engine, readonly=True) as s:
        info = svc.describe_tenant(s, admin(s), "Shop 2")
        assert info.status == "no admin" and info.shows == "logo"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_removal_order_is_deepest_first_one_depth_at_a_time(backend):
    rows = [(1, None, "A", 0), (2, 1, "B", 1), (3, 2, "C", 2), (4, 1, "D", 1), (5, 4, "E", 2)]
    ordered, levels = removal_order(rows)
    assert [r[2] for r in ordered] == ["C", "E", "B", "D", "A"]
    assert levels == [[3, 5], [2, 4], [1]]
