"""The book's canonical form: files and store rows normalised to the same values (pure, no store)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.services.book.model import (
    CLIENT_COLUMNS,
    client_document,
    client_from_file,
    client_from_store,
    entries_from_file,
    money_text,
    same,
    slots,
    template_from_file,
)

ROW = {
    "ref": "BAK", "name": "Bakkerij", "status": "active", "contact_name": "", "contact_email": "Piet@Jansen.EXAMPLE",
    "currency": "EUR", "language": "nl", "vat_number": "NL004495445B01", "permissions": ["support", "invoices", "support"],
    "billing_street": "Markt 1", "billing_city": None, "billing_zip": "", "billing_country": "NL",
    "shipping_street": None, "shipping_city": None, "shipping_zip": None, "shipping_country": None,
}  # fmt: skip


def store_client():
    row = [ROW[c] for c in CLIENT_COLUMNS]
    subs = [{"product": "sig", "seats": 10, "payer": "client", "status": "active"},
            {"product": "bk", "seats": 1, "payer": "partner", "status": "suspended"},
            {"product": "sig", "seats": 2, "payer": "partner", "status": "active"}]  # fmt: skip
    return client_from_store(row, ["retail", "Food"], ["bob@acme.example"], [("sso", "pending"),
                             ("exact", "connected")], subs)  # fmt: skip


def test_absent_null_and_empty_are_the_same():
    for a, b in [(None, ""), ("", []), ([], {}), (None, None)]:
        assert same(a, b)
    assert not same(None, "x") and not same(False, None) and not same(0, None)


def test_a_store_client_survives_the_round_trip_through_its_file():
    obj = store_client()
    assert obj.fields["contact_email"] == "piet@jansen.example" and obj.fields["contact_name"] is None
    assert obj.fields["permissions"] == ["invoices", "support"] and obj.fields["groups"] == ["Food", "retail"]
    assert list(obj.subscriptions) == ["sig", "bk", "sig#2"]
    doc = client_document(obj)
    assert [s["product"] for s in doc["subscriptions"]] == ["bk", "sig", "sig"]
    again = client_from_file(doc, "bak", "clients/BAK.toml")
    assert again.fields == obj.fields and again.subscriptions == {
        slot: obj.subscriptions[slot] for slot in ("bk", "sig", "sig#2")
    }


def test_files_are_normalised_as_the_services_would():
    obj = client_from_file(
        {"name": " Bakkerij ", "groups": ["b", "a", "b"], "users": ["BOB@acme.example"], "currency": "eur",
         "integrations": {"Exact": "CONNECTED"}, "billing": {"country": "nl", "zip": " "},
         "subscriptions": [{"product": "SIG", "payer": "Client"}, {"product": "sig", "seats": 3}]},
        "BAK", "x",
    )  # fmt: skip
    assert obj.key == "BAK" and obj.fields["name"] == "Bakkerij" and obj.fields["groups"] == ["a", "b"]
    assert obj.fields["users"] == ["bob@acme.example"] and obj.fields["currency"] == "EUR"
    assert obj.fields["integrations"] == {"exact": "connected"}
    assert obj.fields["billing.country"] == "NL" and obj.fields["billing.zip"] is None
    assert "billing.street" not in obj.fields and "status" not in obj.fields  # left out: not managed
    assert obj.subscriptions == {
        "sig": {"product": "sig", "payer": "client"},
        "sig#2": {"product": "sig", "seats": 3},
    }
    assert client_from_file({"name": "X"}, "NEW", "x").subscriptions is None


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"groups": "retail"}, "groups must be a list of strings"),
        ({"billing": {"planet": "Mars"}}, "unknown key 'planet'"),
        ({"subscriptions": [{"seats": 2}]}, "needs its product"),
        ({"subscriptions": [{"product": "sig", "seats": True}]}, "whole number"),
        ({"subscriptions": {"product": "sig"}}, "list of tables"),
        ({"integrations": {"exact": "maybe"}}, "unknown integration state"),
        ({"ref": "../etc/passwd"}, "invalid reference"),
        ({"contact_email": "nope"}, "invalid contact e-mail"),
    ],
)
def test_bad_client_files(doc, message):
    with pytest.raises(InvalidInput, match=message):
        client_from_file(doc, "BAK", "x")


def test_template_files_are_whole_documents():
    obj = template_from_file({"name": "Small", "users": ["B@x.example", "a@x.example"],
                              "product": {"key": "SIG", "accept_pricing": True}}, "x")  # fmt: skip
    assert obj.fields["users"] == ["a@x.example", "b@x.example"] and obj.accept_pricing
    assert obj.fields["product"] == {"key": "sig", "payer": "partner", "seats": 1}
    assert obj.fields["currency"] is None and obj.fields["default"] is False  # absent: not set
    with pytest.raises(InvalidInput, match="default must be true or false"):
        template_from_file({"name": "Small", "default": "yes"}, "x")


def test_users_and_catalogue_entries():
    (user,) = entries_from_file({"users": [{"email": "Dora@Acme.example", "role": "Admin"}]}, "users", "x")
    assert (user.key, user.fields) == ("dora@acme.example", {"role": "admin"})
    (product,) = entries_from_file({"products": [{"key": "SIG", "price_per_seat": 2.5}]}, "products", "x")
    assert (product.key, product.fields) == ("sig", {"price_per_seat": "2.50"})
    with pytest.raises(InvalidInput, match="has no key"):
        entries_from_file({"integrations": [{"name": "X"}]}, "integrations", "x")


def test_money_text_and_slots():
    from decimal import Decimal

    assert [money_text(Decimal(v)) for v in ("12.5", "12", "0.125", "1E+1")] == [
        "12.50",
        "12.00",
        "0.125",
        "10.00",
    ]
    entries = [SimpleNamespace(p="a"), SimpleNamespace(p="b"), SimpleNamespace(p="a")]
    assert list(slots({"product": e.p} for e in entries)) == ["a", "b", "a#2"]
