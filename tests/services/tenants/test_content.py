"""Tenant content: what a copy does to each target and item, and one count of it for output and audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from partnerctl.errors import Conflict, NotFound
from partnerctl.services import tenants as svc
from partnerctl.services.tenants.content import COPY_ACTIONS, get_content, plan_copy
from partnerctl.store.models import AuditEvent
from partnerctl.store.models.tenants import TenantContent
from tests.helpers.store import admin, scope


def _item(tenant_id: int, name: str, sha: str) -> TenantContent:
    return TenantContent(tenant_id=tenant_id, name=name, name_key=name.casefold(), data=b"", sha256=sha)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("on_existing", ["skip", "replace"])
def test_plan_copy_decides_each_target_and_item(backend, on_existing):
    welcome, logo = _item(1, "Welcome", "aaa"), _item(1, "Logo", "bbb")
    targets = [(2, 1, "A", 1), (3, 2, "A1", 2)]
    existing = {(2, "welcome"): _item(2, "welcome", "aaa"), (3, "welcome"): _item(3, "WELCOME", "old")}
    steps = plan_copy(targets, [logo, welcome], existing, on_existing)
    assert [(st.tenant, st.item.name, st.action) for st in steps] == [
        ("A", "Logo", "added"),
        ("A", "Welcome", "unchanged"),
        ("A1", "Logo", "added"),
        ("A1", "Welcome", "replaced" if on_existing == "replace" else "skipped"),
    ]
    assert steps[3].current is existing[(3, "welcome")] and steps[0].current is None


def test_copy_counts_are_what_the_audit_records(engine):
    # `tenant content copy` prints copy_counts(lines); the audit event must count the same.
    with scope(engine) as s:
        a = admin(s)
        svc.create_tenant(s, a, name="A")
        svc.create_tenant(s, a, name="A1", parent="A")
        svc.create_tenant(s, a, name="A2", parent="A")
        svc.add_content(s, a, "Acme Partners", "Welcome", b"Willkommen!")
        svc.add_content(s, a, "Acme Partners", "Signature", b"Viele Gruesse")
        svc.add_content(s, a, "A1", "welcome", b"own")
        svc.add_content(s, a, "A2", "Welcome", b"Willkommen!")
    with scope(engine) as s:
        lines = svc.copy_content(s, admin(s), source="Acme Partners", recursive=True)
        counts = svc.copy_counts(lines)
        assert counts == {"added": 4, "replaced": 0, "skipped": 1, "unchanged": 1}
        assert list(counts) == list(COPY_ACTIONS)
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "tenant.content.copy")).one()
        assert {k: event.after[k] for k in COPY_ACTIONS} == counts
        assert event.after["targets"] == 3
    with scope(engine, readonly=True) as s:
        assert get_content(s, "A", "welcome") == b"Willkommen!"
        assert get_content(s, "A1", "Welcome") == b"own"  # skipped: kept as it was


def test_items_are_found_by_name_ignoring_case(engine):
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="B")
        svc.add_content(s, admin(s), "B", "Welcome", b"hi")
    with scope(engine) as s, pytest.raises(Conflict, match="pass --replace"):
        svc.add_content(s, admin(s), "B", "WELCOME", b"again")
    with scope(engine) as s:
        item, action = svc.add_content(s, admin(s), "B", "welcome ", b"again", replace=True)
        assert (item.name, action) == ("Welcome", "replaced")
        svc.remove_content(s, admin(s), "b", "  WELCOME")
    with scope(engine) as s, pytest.raises(NotFound, match="no content item 'Welcome'"):
        svc.remove_content(s, admin(s), "B", "Welcome")
    with scope(engine, readonly=True) as s, pytest.raises(NotFound, match="no content item"):
        get_content(s, "B", "welcome")
