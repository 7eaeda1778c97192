"""Template settings: edits to the canonical form, and exactly one default."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.services.templates import Lookups, TemplateChanges, settings_from
from partnerctl.store.models import Integration, Product, User
from partnerctl.store.models.core import Role


def _lookups() -> Lookups:
    users = [User(id=2, email="bob@acme.example", role=Role.bookkeeper)]
    return Lookups(
        users_by_email={u.email: u for u in users},
        integrations_by_key={"exact": Integration(id=1, key="exact", name="Exact")},
        products_by_key={
            "bk": Product(id=1, key="bk", name="BK", price_per_seat=Decimal("9.5"), currency="EUR")
        },
        templates_by_key={},
        default_template=None,
    )


CURRENT = {
    "currency": "DKK",
    "users": ["bob@acme.example"],
    "groups": ["Small"],
    "permissions": ["support", "invoices"],
    "product": {"key": "bk", "payer": "partner", "seats": 1},
}


def test_settings_from_applies_edits_in_canonical_form():
    changes = TemplateChanges(
        integrations=["EXACT"], remove_users=["Bob@acme.example"], groups=["Big"], remove_groups=["Small"],
        remove_permissions=["support"], language="NL", seats=3, payer="client",
    )  # fmt: skip
    assert settings_from(_lookups(), CURRENT, changes) == {
        "currency": "DKK",
        "language": "nl",
        "permissions": ["invoices"],
        "groups": ["Big"],
        "integrations": ["exact"],
        "product": {"key": "bk", "payer": "client", "seats": 3},
    }
    cleared = settings_from(_lookups(), CURRENT, TemplateChanges(no_currency=True, no_product=True))
    assert "currency" not in cleared and "product" not in cleared and cleared["users"] == ["bob@acme.example"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (TemplateChanges(remove_users=["ghost@acme.example"]), "does not assign 'ghost@acme.example'"),
        (TemplateChanges(remove_integrations=["exact"]), "has no integration 'exact'"),
        (TemplateChanges(remove_groups=["Big"]), "has no group 'Big'"),
        (TemplateChanges(integrations=["nope"]), "unknown integration 'nope'"),
        (TemplateChanges(users=["ghost@acme.example"]), "unknown user 'ghost@acme.example'"),
        (TemplateChanges(product="bk"), "pass --accept-pricing"),
        (TemplateChanges(no_product=True, seats=2), "need a product"),
        (TemplateChanges(seats=0), "at least 1"),
    ],
)
def test_settings_from_refuses_bad_edits(changes, message):
    with pytest.raises(InvalidInput, match=message):
        settings_from(_lookups(), CURRENT, changes)


def test_one_default_template_is_enforced_by_the_database(initialized):
    from sqlalchemy.exc import IntegrityError

    from partnerctl.context import AppContext
    from partnerctl.store.models import ConfigTemplate

    with pytest.raises(IntegrityError), AppContext().session() as s:
        s.add(ConfigTemplate(name="Second", name_key="second", is_default=True))
        s.flush()
    with AppContext().session() as s:  # a non-default one is fine
        s.add(ConfigTemplate(name="Third", name_key="third", is_default=False))
