"""The client list: search escaping, visibility per role, the tab counts."""

from __future__ import annotations

import pytest

from partnerctl.errors import NotFound
from partnerctl.services import clients
from partnerctl.services.access import get_client_for
from partnerctl.services.clients import ClientFilters


def test_like_escape():
    assert clients.like_escape("100%_a\\b") == "100\\%\\_a\\\\b"


def test_visibility_and_search_on_the_store(initialized, cli):
    from partnerctl.context import AppContext

    cli.ok("user", "add", "bob@acme.example")
    cli.ok("client", "add", "Under_Score", "--ref", "U-1", "--assign", "bob@acme.example")
    cli.ok("client", "add", "Under Score", "--ref", "U-2")
    cli.ok("client", "add", "Back\\slash", "--ref", "U-3")
    with AppContext().session(readonly=True) as s:
        from partnerctl.services.users import resolve_actor

        admin = resolve_actor(s, "anna@acme.example")
        bob = resolve_actor(s, "bob@acme.example")
        assert [c.ref for c in clients.list_clients(s, admin, ClientFilters(search="r_s")).rows] == ["U-1"]
        assert [c.ref for c in clients.list_clients(s, admin, ClientFilters(search="k\\s")).rows] == ["U-3"]
        page = clients.list_clients(s, bob, ClientFilters(search="under"))
        assert [c.ref for c in page.rows] == ["U-1"] and page.total == 1
        assert page.tab_counts == {clients.Tab.onboarding: 1, clients.Tab.mine: 1}
        assert get_client_for(s, bob, "u-1").ref == "U-1"
        with pytest.raises(NotFound):
            get_client_for(s, bob, "U-2")
        assert get_client_for(s, admin, "U-2").ref == "U-2"


def test_list_groups_holds_only_the_groups_of_visible_clients(initialized, cli):
    from partnerctl.context import AppContext
    from partnerctl.services.users import resolve_actor

    cli.ok("user", "add", "bob@acme.example")
    cli.ok("client", "add", "Bakery", "--ref", "B-1", "--group", "retail", "--group", "nl",
           "--assign", "bob@acme.example")  # fmt: skip
    cli.ok("client", "add", "Garage", "--ref", "G-1", "--group", "retail", "--group", "cars")
    cli.ok("client", "add", "Plain", "--ref", "P-1")
    with AppContext().session(readonly=True) as s:
        assert clients.list_groups(s, resolve_actor(s, "anna@acme.example")) == ["cars", "nl", "retail"]
        assert clients.list_groups(s, resolve_actor(s, "bob@acme.example")) == ["nl", "retail"]
