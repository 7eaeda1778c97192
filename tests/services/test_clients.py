"""Client services: pure preparation, template resolution, visibility and search escaping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerctl.errors import InvalidInput, NotFound
from partnerctl.services import clients
from partnerctl.services.access import get_client_for
from partnerctl.services.clients import ClientCreate, ClientFilters
from partnerctl.services.templates import Lookups, TemplateInfo
from partnerctl.store.models import Integration, Product, User
from partnerctl.store.models.core import Role


def _lookups() -> Lookups:
    bob = User(id=2, email="bob@acme.example", role=Role.bookkeeper)
    gone = User(id=3, email="gone@acme.example", role=Role.bookkeeper, active=False)
    exact = Integration(id=1, key="exact", name="Exact")
    bk = Product(id=1, key="bk", name="BK", price_per_seat=Decimal("9.5"), currency="EUR")
    small = TemplateInfo(
        id=7, name="Small", version=3, is_default=True,
        settings={"currency": "DKK", "language": "da", "users": ["bob@acme.example"], "integrations": ["exact"],
                  "groups": ["Small"], "product": {"key": "bk", "payer": "client", "seats": 2}},
    )  # fmt: skip
    return Lookups(
        users_by_email={u.email: u for u in (bob, gone)},
        integrations_by_key={"exact": exact},
        products_by_key={"bk": bk},
        templates_by_key={"small": small},
        default_template=small,
    )


def test_prepare_client_is_pure_and_explicit_values_win():
    lk = _lookups()  # no database anywhere in this test
    p = clients.prepare_client(lk, ClientCreate(name="Ærø Bikes", currency="sek", groups=["Own"]))
    assert p.ref == "aero-bikes" and p.ref_derived
    assert p.values["currency"] == "SEK" and p.values["language"] == "da"
    assert p.groups == ["Own"] and [u.email for u in p.users] == ["bob@acme.example"]
    assert p.product.product.key == "bk" and p.product.seats == 2 and p.product.payer == "client"
    assert (p.values["template_id"], p.values["template_version"]) == (7, 3)
    assert (
        "currency" not in p.applied
        and "groups" not in p.applied
        and p.applied["users"] == ["bob@acme.example"]
    )
    none = clients.prepare_client(lk, ClientCreate(name="Plain", ref="P-1", no_template=True))
    assert none.template is None and none.product is None and none.values["currency"] == "EUR"
    assert none.values["ref_key"] == "p-1"
    invited = clients.prepare_client(lk, ClientCreate(name="Inv", invited=True))
    assert invited.values["status"] == "invited" and invited.template is None


@pytest.mark.parametrize(
    "data",
    [
        {"assign": ["gone@acme.example"]},
        {"assign": ["ghost@acme.example"]},
        {"integrations": ["nope"]},
        {"template": "nope"},
        {"currency": "EUX"},
        {"permissions": ["payroll"]},
        {"contact_email": "x@"},
        {"missing_receipts": -1},
        {"wallet_balance": "abc"},
    ],
)
def test_prepare_client_refuses_bad_input(data):
    with pytest.raises(InvalidInput):
        clients.prepare_client(_lookups(), ClientCreate(name="X", **data))


def test_derive_ref():
    assert clients.derive_ref("Bäckerei Müller & Co.") == "backerei-muller-co"
    assert clients.derive_ref("Smørrebrød ApS") == "smorrebrod-aps"
    assert clients.derive_ref("!!!") == "client"
    assert len(clients.derive_ref("x" * 300)) == 64


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


def test_one_default_template_is_enforced_by_the_database(initialized):
    from sqlalchemy.exc import IntegrityError

    from partnerctl.context import AppContext
    from partnerctl.store.models import ConfigTemplate

    with pytest.raises(IntegrityError), AppContext().session() as s:
        s.add(ConfigTemplate(name="Second", name_key="second", is_default=True))
        s.flush()
    with AppContext().session() as s:  # a non-default one is fine
        s.add(ConfigTemplate(name="Third", name_key="third", is_default=False))
