"""The book's canonical form: store rows and file documents made into the same plain values, so that
equal means unchanged (sets sorted, e-mails and keys lower-cased, absent, null and empty alike)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from partnerctl.errors import InvalidInput
from partnerctl.services.billing import parse_payer
from partnerctl.services.clients import ADDRESS_COLUMNS, address_part, normalize_ref, parse_status
from partnerctl.services.templates import template_changes_from_doc
from partnerctl.services.users import parse_role
from partnerctl.services.validation import (
    normalize_currency,
    normalize_email,
    normalize_group,
    normalize_language,
    normalize_permission,
    normalize_vat_number,
    parse_amount,
    parse_choice,
    require_key,
    require_text,
)
from partnerctl.store.models.clients import IntegrationState
from partnerctl.store.models.core import IntegrationKind, Period
from partnerctl.store.models.subscriptions import SubscriptionStatus

# billing.street ... shipping.country: how the book names the address columns.
ADDRESS_FIELDS = tuple(column.replace("_", ".", 1) for column, _ in ADDRESS_COLUMNS)
# billing -> ((street, billing.street), ...), and the same for shipping.
ADDRESS_PARTS = {
    kind: tuple((name.split(".")[1], name) for name in ADDRESS_FIELDS if name.startswith(kind + "."))
    for kind in ("billing", "shipping")
}
CLIENT_FIELDS = (
    "name", "status", "contact_name", "contact_email", "currency", "language", "vat_number", "groups", "permissions",
    "users", "integrations", *ADDRESS_FIELDS,
)  # fmt: skip
SUBSCRIPTION_FIELDS = ("product", "seats", "payer", "status")
NEW_SUBSCRIPTION = {"seats": 1, "payer": "partner", "status": "active"}
TEMPLATE_FIELDS = (
    "description", "default", "currency", "language", "permissions", "groups", "users", "integrations", "product",
)  # fmt: skip
USER_FIELDS = ("name", "role", "language", "active")
PRODUCT_FIELDS = ("name", "price_per_seat", "currency", "period")
INTEGRATION_FIELDS = ("name", "kind")


@dataclass
class Obj:
    """One object of the book: its identity as shown, its fields, and where it came from.

    From a file, `fields` holds only what the file gives (a field left out is not managed); from
    the store, every field. `subscriptions` (clients only) maps a slot (the product key, then
    `key#2`, `key#3` for a second and third of one product) to the subscription; None: not managed.
    """

    key: str
    fields: dict[str, Any]
    subscriptions: dict[str, dict] | None = None
    where: str = ""
    accept_pricing: bool = False  # templates: the file acknowledges the product's pricing


@contextmanager
def located(where: str) -> Iterator[None]:
    """Bad input found inside names the file it is in."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", hint=exc.hint) from None


def blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def same(a: Any, b: Any) -> bool:
    """Equal, where absent, null and empty are the same thing."""
    return a == b or (blank(a) and blank(b))


def money_text(value: Decimal) -> str:
    """An amount as the book writes it: at least two decimals (12.50), more only when it has them."""
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if cents == value else str(value.normalize())


def slots(entries: Iterable[dict]) -> dict[str, dict]:
    """Subscriptions keyed by product; a second and third of one product are `key#2`, `key#3`, in order."""
    seen: dict[str, int] = {}
    out: dict[str, dict] = {}
    for entry in entries:
        key = entry["product"]
        n = seen[key] = seen.get(key, 0) + 1
        out[key if n == 1 else f"{key}#{n}"] = entry
    return out


def slot_order(slot: str) -> tuple[str, int]:
    key, _, n = slot.partition("#")
    return key, int(n or 1)


# -- from the store --------------------------------------------------------------------------------


# The columns of a client the book reads, in the order `client_from_store` takes them.
CLIENT_COLUMNS = (
    "ref", "name", "status", "contact_name", "contact_email", "currency", "language", "vat_number", "permissions",
    *(column for column, _ in ADDRESS_COLUMNS),
)  # fmt: skip


def client_from_store(row, groups, users, integrations, subscriptions) -> Obj:
    """A client row (CLIENT_COLUMNS), with its groups, users' e-mails, (integration key, state)
    pairs and live subscriptions in id order, in canonical form."""
    ref, name, status, contact_name, contact_email, currency, language, vat_number, permissions, *address = (
        row
    )
    fields = {
        "name": name,
        "status": str(status),
        "contact_name": contact_name or None,
        "contact_email": (contact_email or "").lower() or None,
        "currency": currency,
        "language": language,
        "vat_number": vat_number or None,
        "groups": sorted(set(groups)),
        "permissions": sorted(set(permissions or [])),
        "users": sorted(set(users)),
        "integrations": {key: str(state) for key, state in sorted(integrations)},
    }
    for name, value in zip(ADDRESS_FIELDS, address, strict=True):
        fields[name] = value or None
    return Obj(ref, fields, slots(subscriptions))


def template_from_store(t) -> Obj:
    s = t.settings or {}
    product = s.get("product")
    fields = {
        "description": t.description or None,
        "default": bool(t.is_default),
        "currency": s.get("currency") or None,
        "language": s.get("language") or None,
        "permissions": sorted(set(s.get("permissions") or [])),
        "groups": sorted(set(s.get("groups") or [])),
        "users": sorted(set(s.get("users") or [])),
        "integrations": sorted(set(s.get("integrations") or [])),
        "product": {"key": product["key"], "payer": product.get("payer", "partner"),
                    "seats": int(product.get("seats", 1))} if product else None,
    }  # fmt: skip
    return Obj(t.name, fields)


def user_from_store(u) -> Obj:
    fields = {"name": u.name or None, "role": str(u.role), "language": u.language, "active": bool(u.active)}
    return Obj(u.email, fields)


def product_from_store(p) -> Obj:
    fields = {
        "name": p.name,
        "price_per_seat": money_text(p.price_per_seat),
        "currency": p.currency,
        "period": str(p.period),
    }
    return Obj(p.key, fields)


def integration_from_store(i) -> Obj:
    return Obj(i.key, {"name": i.name, "kind": str(i.kind)})


# -- to files ----------------------------------------------------------------------------------------


def client_document(obj: Obj) -> dict[str, Any]:
    """What `book export` writes for a client: every managed field, empty ones as "" or []."""
    f = obj.fields
    doc: dict[str, Any] = {"ref": obj.key}
    for name in ("name", "status", "contact_name", "contact_email", "currency", "language", "vat_number"):
        doc[name] = f[name] or ""
    for name in ("groups", "permissions", "users"):
        doc[name] = list(f[name])
    doc["subscriptions"] = [
        {k: obj.subscriptions[slot][k] for k in SUBSCRIPTION_FIELDS}
        for slot in sorted(obj.subscriptions or {}, key=slot_order)
    ]
    doc["integrations"] = dict(f["integrations"])
    for kind, parts in ADDRESS_PARTS.items():
        doc[kind] = {part: f[name] or "" for part, name in parts}
    return doc


def user_document(obj: Obj) -> dict[str, Any]:
    return {"email": obj.key, **{k: ("" if obj.fields[k] is None else obj.fields[k]) for k in USER_FIELDS}}


def catalog_document(obj: Obj, fields: tuple[str, ...]) -> dict[str, Any]:
    return {"key": obj.key, **{k: obj.fields[k] for k in fields}}


# -- from files --------------------------------------------------------------------------------------


def check_keys(doc: dict, allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r} in {what} (known: {', '.join(allowed)})")


def as_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    return value


def as_texts(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{field} must be a list of strings")
    return value


def as_table(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be a table")
    return value


def as_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false")
    return value


def as_seats(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"seats must be a whole number of at least 1, not {value!r}")
    return value


def optional_email(value: Any, field: str) -> str | None:
    text = as_text(value, field).strip()
    return normalize_email(text, field=field) if text else None


def _integrations(value: Any) -> dict[str, str]:
    table = as_table(value, "integrations")
    return {
        require_key(key, "integration key"): parse_choice(
            IntegrationState, as_text(state, f"integrations.{key}"), "integration state"
        ).value
        for key, state in sorted(table.items())
    }


# field -> how a file's value becomes canonical (validated with the services' own rules).
_CLIENT_VALUES: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: require_text(as_text(v, "name"), "client name"),
    "status": lambda v: parse_status(as_text(v, "status")).value,
    "contact_name": lambda v: as_text(v, "contact_name").strip() or None,
    "contact_email": lambda v: optional_email(v, "contact e-mail"),
    "currency": lambda v: normalize_currency(as_text(v, "currency")),
    "language": lambda v: normalize_language(as_text(v, "language")),
    "vat_number": lambda v: (
        normalize_vat_number(as_text(v, "vat_number")) if as_text(v, "vat_number").strip() else None
    ),
    "groups": lambda v: sorted({normalize_group(g) for g in as_texts(v, "groups")}),
    "permissions": lambda v: sorted({normalize_permission(p) for p in as_texts(v, "permissions")}),
    "users": lambda v: sorted({normalize_email(e, field="user e-mail") for e in as_texts(v, "users")}),
    "integrations": _integrations,
}
CLIENT_KEYS = ("ref", *_CLIENT_VALUES, "billing", "shipping", "subscriptions")


def client_from_file(doc: dict, stem: str, where: str) -> Obj:
    """A client file in canonical form; only what it gives is managed."""
    check_keys(doc, CLIENT_KEYS, "a client file")
    ref = normalize_ref(as_text(doc.get("ref", stem), "ref"))
    if ref.lower() != stem.lower():
        raise InvalidInput(f"ref {ref!r} does not match the file name: call the file {ref}.toml")
    fields = {name: convert(doc[name]) for name, convert in _CLIENT_VALUES.items() if name in doc}
    for kind, parts in ADDRESS_PARTS.items():
        if kind in doc:
            table = as_table(doc[kind], kind)
            check_keys(table, [part for part, _ in parts], f"[{kind}]")
            for part, value in table.items():
                fields[f"{kind}.{part}"] = address_part(as_text(value, f"{kind}.{part}"), part)
    subscriptions = None
    if "subscriptions" in doc:
        value = doc["subscriptions"]
        if not isinstance(value, list):
            raise InvalidInput("subscriptions must be a list of tables")
        subscriptions = slots(_subscription(as_table(entry, "a subscription")) for entry in value)
    return Obj(ref, fields, subscriptions, where)


def _subscription(entry: dict) -> dict:
    """A subscription entry: the product, and the seats, payer and status it gives."""
    check_keys(entry, SUBSCRIPTION_FIELDS, "a subscription")
    if "product" not in entry:
        raise InvalidInput('a subscription needs its product = "KEY"')
    out: dict[str, Any] = {"product": require_key(as_text(entry["product"], "product"), "product key")}
    if "seats" in entry:
        out["seats"] = as_seats(entry["seats"])
    if "payer" in entry:
        out["payer"] = parse_payer(as_text(entry["payer"], "payer")).value
    if "status" in entry:
        status = parse_choice(SubscriptionStatus, as_text(entry["status"], "status"), "subscription status")
        if status == SubscriptionStatus.cancelled:
            raise InvalidInput(
                "a subscription's status is active or suspended: remove the entry to cancel it"
            )
        out["status"] = status.value
    return out


def template_from_file(doc: dict, where: str) -> Obj:
    """A template file (`template export`'s document) in canonical form: the whole template."""
    name, ch = template_changes_from_doc(doc)
    name = require_text(name, "template name", max_length=100)
    product = None
    if ch.product:
        product = {
            "key": require_key(as_text(ch.product, "product key"), "product key"),
            "payer": parse_payer(as_text(ch.payer or "partner", "payer")).value,
            "seats": as_seats(1 if ch.seats is None else ch.seats),
        }
    fields = {
        "description": ch.description.strip() or None,
        "default": as_bool(doc.get("default", False), "default"),
        "currency": normalize_currency(ch.currency) if ch.currency else None,
        "language": normalize_language(ch.language) if ch.language else None,
        "permissions": sorted({normalize_permission(p) for p in ch.permissions}),
        "groups": sorted({normalize_group(g) for g in ch.groups}),
        "users": sorted({normalize_email(e, field="user e-mail") for e in ch.users}),
        "integrations": sorted({require_key(k, "integration key") for k in ch.integrations}),
        "product": product,
    }
    return Obj(name, fields, where=where, accept_pricing=ch.accept_pricing)


_USER_VALUES: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: as_text(v, "name").strip() or None,
    "role": lambda v: parse_role(as_text(v, "role")).value,
    "language": lambda v: normalize_language(as_text(v, "language")),
    "active": lambda v: as_bool(v, "active"),
}
_PRODUCT_VALUES: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: require_text(as_text(v, "name"), "product name"),
    "price_per_seat": lambda v: money_text(parse_amount(_amount_text(v), field="price per seat")),
    "currency": lambda v: normalize_currency(as_text(v, "currency")),
    "period": lambda v: parse_choice(Period, as_text(v, "period"), "period").value,
}
_INTEGRATION_VALUES: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: require_text(as_text(v, "name"), "name"),
    "kind": lambda v: parse_choice(IntegrationKind, as_text(v, "kind"), "integration kind").value,
}


def _amount_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInput('price_per_seat must be a number or a string like "12.50"')
    return str(value)


def entries_from_file(doc: dict, section: str, where: str) -> list[Obj]:
    """The entries of users.toml (`users`) or catalog.toml (`products`, `integrations`)."""
    entries = doc.get(section, [])
    if not isinstance(entries, list):
        raise InvalidInput(f"{section} must be a list of tables")
    return [_entry(as_table(entry, f"an entry of {section}"), section, where) for entry in entries]


def _entry(entry: dict, section: str, where: str) -> Obj:
    values, identity = {
        "users": (_USER_VALUES, "email"),
        "products": (_PRODUCT_VALUES, "key"),
        "integrations": (_INTEGRATION_VALUES, "key"),
    }[section]
    check_keys(entry, (identity, *values), f"an entry of {section}")
    if identity not in entry:
        raise InvalidInput(f"an entry of {section} has no {identity}")
    raw = as_text(entry[identity], identity)
    key = (
        normalize_email(raw, field="user e-mail")
        if identity == "email"
        else require_key(raw, f"{section[:-1]} key")
    )
    fields = {name: convert(entry[name]) for name, convert in values.items() if name in entry}
    return Obj(key, fields, where=where)
