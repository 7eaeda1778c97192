"""Client input models and the rules for a client's own fields: references, status, addresses, snapshots."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from partnerctl.errors import InvalidInput
from partnerctl.services.validation import (
    check_vat_country,
    normalize_country,
    normalize_vat_number,
    parse_choice,
)
from partnerctl.store.models import (
    Client,
)
from partnerctl.store.models.clients import ClientStatus

REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


ADDRESS_FIELDS = ("street", "city", "zip", "country")
# (column, part) of both addresses: billing_street ... shipping_country.
ADDRESS_COLUMNS = tuple(
    (f"{kind}_{part}", part) for kind in ("billing", "shipping") for part in ADDRESS_FIELDS
)


# Letters NFKD does not take apart (Danish, German, Polish, Icelandic names are common here).
_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                       "þ": "th", "Þ": "TH", "œ": "oe", "Œ": "OE"})  # fmt: skip


def derive_ref(name: str) -> str:
    """A reference from a name: 'Bäckerei Müller & Co.' -> 'backerei-muller-co' (at most 64)."""
    folded = name.translate(_FOLD)
    ascii_name = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug or "client"


def normalize_ref(raw: str) -> str:
    value = (raw or "").strip()
    if not REF_RE.match(value):
        raise InvalidInput(
            f"invalid reference {raw!r}: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)"
        )
    return value


def parse_status(raw: str) -> ClientStatus:
    return parse_choice(ClientStatus, raw, "status")


def unique_values(values) -> list:
    seen: dict = {}
    for v in values:
        key = v.lower() if isinstance(v, str) else getattr(v, "id", v)  # table models are unhashable
        seen.setdefault(key, v)
    return list(seen.values())


class AddressInput(BaseModel):
    """Both addresses' fields as given on the command line or in an import row (None: not given)."""

    billing_street: str | None = None
    billing_city: str | None = None
    billing_zip: str | None = None
    billing_country: str | None = None
    shipping_street: str | None = None
    shipping_city: str | None = None
    shipping_zip: str | None = None
    shipping_country: str | None = None


class ClientCreate(AddressInput):
    """What `client add` (and one row of a bulk import) asks for; unset fields come from the template."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ref: str | None = None
    template: str | None = None  # a template name; None = the default template
    no_template: bool = False
    invited: bool = False
    contact_name: str | None = None
    contact_email: str | None = None
    vat_number: str | None = None
    currency: str | None = None
    language: str | None = None
    # default_factory, not `= []`: pydantic deep-copies a mutable default on every row of an import.
    groups: list[str] = Field(default_factory=list)
    assign: list[str] = Field(default_factory=list)  # partner users' e-mails
    integrations: list[str] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    welcome: bool = False
    missing_receipts: int = 0
    wallet_balance: Decimal | str = Decimal(0)
    expenses_ready: int = 0


class ClientUpdate(AddressInput):
    """`client edit`: every field optional; lists are changed by add/remove."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    vat_number: str | None = None  # '' clears it
    currency: str | None = None
    language: str | None = None
    add_groups: list[str] = []
    remove_groups: list[str] = []
    add_permissions: list[str] = []
    remove_permissions: list[str] = []
    add_integrations: list[str] = []
    remove_integrations: list[str] = []
    connect_integrations: list[str] = []


def non_negative(value: int, field_name: str) -> int:
    if value is None or int(value) < 0:
        raise InvalidInput(f"{field_name} must be 0 or more, not {value!r}")
    return int(value)


def address_part(raw: str | None, part: str) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if part == "country":
        return normalize_country(value)
    limits = {"street": 200, "city": 100, "zip": 20}
    if len(value) > limits[part]:
        raise InvalidInput(f"{part} is longer than {limits[part]} characters")
    return value


def vat_number_for(raw: str | None, billing_country: str | None) -> str | None:
    """A client's VAT number, validated with python-stdnum, in its compact form; '' or None is none.
    Its country prefix must agree with the billing country when that is known (EL for GR)."""
    if raw is None or not raw.strip():
        return None
    vat_number = normalize_vat_number(raw)
    check_vat_country(vat_number, billing_country)
    return vat_number


def address_of(client) -> dict[str, str | None]:
    """A client's billing and shipping address fields as stored (billing_street ... shipping_country)."""
    return {column: getattr(client, column) for column, _ in ADDRESS_COLUMNS}


def client_fields(client) -> dict:
    """A client's own identifying and contact fields: how every view of one client starts."""
    return {
        "ref": client.ref,
        "name": client.name,
        "status": client.status,
        "contact_name": client.contact_name,
        "contact_email": client.contact_email,
        "vat_number": client.vat_number,
        "currency": client.currency,
        "language": client.language,
    }


def client_snapshot(client: Client, *, groups=None, users=None, integrations=None) -> dict:
    """A client as the audit log records it (lists only when given)."""
    snap = {
        **client_fields(client),
        "permissions": list(client.permissions or []),
        "template_id": client.template_id,
        "template_version": client.template_version,
    }
    snap.update(address_of(client))
    if groups is not None:
        snap["groups"] = list(groups)
    if users is not None:
        snap["assigned"] = list(users)
    if integrations is not None:
        snap["integrations"] = list(integrations)
    return snap
