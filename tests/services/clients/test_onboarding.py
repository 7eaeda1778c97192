"""Onboarding one client: pure preparation with template defaults, references, the welcome e-mail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.services import clients
from partnerctl.services.clients import ClientCreate
from partnerctl.services.templates import Lookups, TemplateInfo
from partnerctl.store.models import Integration, Product, User
from partnerctl.store.models.core import Role
from tests.helpers.store import store_session


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


def test_client_add_and_import_queue_the_same_welcome_mail(initialized, cli, tmp_path):
    # One welcome context for both ways in: were they built apart, subject or body would differ.
    from sqlmodel import select

    from partnerctl.store.models import OutboxMessage

    cli.ok(
        "client", "add", "Bakery Jansen", "--ref", "W1", "--contact-email", "ina@jansen.example", "--welcome"
    )
    path = tmp_path / "w.csv"
    path.write_text("ref,name,contact_email,welcome\nW2,Bakery Jansen,ina@jansen.example,yes\n")
    cli.ok("client", "import", str(path))
    with store_session(initialized) as s:
        mails = {m.dedupe_key: m for m in s.exec(select(OutboxMessage))}
    added, imported = mails["welcome:W1"], mails["welcome:W2"]
    assert imported.subject.replace("W2", "W1") == added.subject
    assert imported.body_text.replace("W2", "W1") == added.body_text
    assert (imported.body_html or "").replace("W2", "W1") == (added.body_html or "")
    assert (imported.language, imported.to_addr) == (added.language, added.to_addr)
    # No contact name: both greet the client by its name.
    assert "Bakery Jansen" in added.body_text


def test_welcome_context_falls_back_to_the_client_name():
    ctx = clients.welcome_context(name="Bakery", ref="B1", contact_name=None, partner_name="Acme")
    assert ctx == {
        "client_name": "Bakery",
        "client_ref": "B1",
        "contact_name": "Bakery",
        "partner_name": "Acme",
    }
    assert (
        clients.welcome_context(name="B", ref="B1", contact_name="Ina", partner_name="")["contact_name"]
        == "Ina"
    )
