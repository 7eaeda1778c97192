"""Changes to one client: edits of its lists, assignments, one way to name a user or an integration."""

from __future__ import annotations

import pytest
from sqlmodel import select

from partnerctl.errors import InvalidInput
from partnerctl.services import clients
from partnerctl.services.clients import ClientUpdate
from partnerctl.services.templates import TemplateChanges, load_lookups, settings_from
from partnerctl.store.models import User
from tests.helpers.store import add_user, admin, store_session


@pytest.fixture
def client_with_links(initialized, cli):
    cli.ok("user", "add", "bob@acme.example")
    cli.ok("integration", "add", "exact", "--name", "Exact", "--kind", "accounting")
    cli.ok("integration", "add", "moneybird", "--name", "Moneybird", "--kind", "accounting")
    cli.ok(
        "client", "add", "Links Ltd", "--ref", "L1", "--no-template", "--group", "A", "--integration", "exact"
    )
    return initialized


def _edit(url: str, **changes):
    with store_session(url) as s:
        clients.edit_client(s, admin(s), "L1", ClientUpdate(**changes))
        return clients.client_details(s, admin(s), "L1")


def test_edit_connects_adds_and_removes_integrations(client_with_links):
    url = client_with_links
    shown = _edit(url, connect_integrations=["Exact"], add_integrations=["moneybird"])
    assert shown["integrations"] == ["exact (connected)", "moneybird (pending)"]
    # Connecting one the client does not have adds it connected; removing it again in the same edit undoes it.
    shown = _edit(url, remove_integrations=["moneybird"], connect_integrations=["moneybird"])
    assert shown["integrations"] == ["exact (connected)"]
    with pytest.raises(InvalidInput, match="client L1 has no integration moneybird"):
        _edit(url, remove_integrations=["moneybird"])


def test_edit_groups_and_permissions(client_with_links):
    url = client_with_links
    shown = _edit(url, add_groups=["B"], remove_groups=["A"], remove_permissions=["support"])
    assert shown["groups"] == ["B"] and "support" not in shown["permissions"]
    with pytest.raises(InvalidInput, match="client L1 is not in group 'A'"):
        _edit(url, remove_groups=["A"])


def test_assign_and_unassign_name_an_unknown_user_the_same_way(client_with_links):
    with store_session(client_with_links) as s:
        with pytest.raises(InvalidInput) as assigning:
            clients.assign_users(s, admin(s), "L1", ["ghost@acme.example"])
        with pytest.raises(InvalidInput) as unassigning:
            clients.unassign_users(s, admin(s), "L1", ["ghost@acme.example"])
    assert assigning.value.message == unassigning.value.message == "unknown user 'ghost@acme.example'"
    assert assigning.value.hint == unassigning.value.hint


def test_a_deactivated_user_can_be_unassigned_not_assigned(client_with_links):
    with store_session(client_with_links) as s:
        clients.assign_users(s, admin(s), "L1", ["bob@acme.example"])
        add_user(s, "gone@acme.example", active=False)
        bob = s.exec(select(User).where(User.email == "bob@acme.example")).one()
        bob.active = False
        s.add(bob)
    with store_session(client_with_links) as s:
        with pytest.raises(InvalidInput, match="gone@acme.example is deactivated"):
            clients.assign_users(s, admin(s), "L1", ["gone@acme.example"])
        _, removed = clients.unassign_users(s, admin(s), "L1", ["BOB@acme.example"])
        assert removed == ["bob@acme.example"]
        with pytest.raises(InvalidInput, match="bob@acme.example is not assigned to L1"):
            clients.unassign_users(s, admin(s), "L1", ["bob@acme.example"])


def test_edit_and_templates_name_an_unknown_integration_the_same_way(client_with_links):
    with store_session(client_with_links) as s:
        with pytest.raises(InvalidInput) as editing:
            clients.edit_client(s, admin(s), "L1", ClientUpdate(add_integrations=["nope"]))
        with pytest.raises(InvalidInput) as templating:
            settings_from(load_lookups(s), {}, TemplateChanges(integrations=["nope"]))
    assert editing.value.message == templating.value.message == "unknown integration 'nope'"
    assert editing.value.hint == templating.value.hint
