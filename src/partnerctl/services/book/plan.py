"""`book plan`: the book's files against the store, as changes per object and field, with what they
do to monthly billing. Nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session

from partnerctl.errors import InvalidInput
from partnerctl.services.book.files import CATALOG, CLIENTS, TEMPLATES, USERS, Layout, Reader, scan
from partnerctl.services.book.model import (
    CLIENT_FIELDS,
    INTEGRATION_FIELDS,
    NEW_SUBSCRIPTION,
    PRODUCT_FIELDS,
    TEMPLATE_FIELDS,
    USER_FIELDS,
    Obj,
    check_keys,
    client_document,
    client_from_file,
    entries_from_file,
    located,
    same,
    slot_order,
    template_from_file,
)
from partnerctl.services.book.money import PRODUCT_DEFAULTS, MoneyEffect
from partnerctl.services.book.snapshot import StoreBook, read_store, scope_of
from partnerctl.services.catalog import price_text
from partnerctl.store.models import Client, Product, User

ACTIONS = ("create", "update", "archive")
KINDS = ("integration", "product", "user", "template", "client")
SUBSCRIPTION_PREFIX = "subscriptions."
# What a new client, user or integration gets when its file leaves a field out (as the commands do).
DEFAULT_CURRENCY = Client.model_fields["currency"].default
USER_DEFAULTS = {"role": "bookkeeper", "language": "en", "active": True}
INTEGRATION_DEFAULTS = {"kind": "other"}


@dataclass
class Change:
    """One object to create, update or archive: `fields` maps each field that changes to its
    `{"from": ..., "to": ...}`; a client's subscriptions are fields `subscriptions.<product>`."""

    action: str
    kind: str
    key: str
    fields: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "key": self.key, "fields": self.fields}


@dataclass
class Plan:
    changes: list[Change]
    money: list[dict[str, str]]
    fingerprint: str  # of the store state the plan was computed against
    files: dict[str, str]  # relative path -> sha256 of every file the plan read
    unmanaged: list[str]  # references of clients in the store without a file
    prune: bool
    scope: str

    def as_json(self) -> dict[str, Any]:
        return {"changes": [c.as_dict() for c in self.changes], "money": self.money}


@dataclass
class Wanted:
    """The small files of the book in canonical form; None: that file (or section) is absent."""

    users: dict[str, Obj] | None = None
    products: dict[str, Obj] | None = None
    integrations: dict[str, Obj] | None = None
    templates: dict[str, Obj] | None = None


@dataclass
class World:
    """What exists once the plan is applied: what a file may refer to."""

    active: dict[str, bool]  # user e-mail -> active
    products: dict[str, Product]
    integrations: set[str]
    money: MoneyEffect = field(repr=False)


def plan_book(session: Session, actor: User, directory: Path, *, prune: bool = False) -> Plan:
    """Compare the book in `directory` with the store as `actor` sees it."""
    layout = scan(directory)
    reader = Reader(directory)
    store = read_store(session, actor)
    wanted = read_wanted(layout, reader)
    world = world_after(store, wanted)
    changes = [
        *plan_entries("integration", store.integrations, wanted.integrations, INTEGRATION_FIELDS,
                      required=("name",), defaults=INTEGRATION_DEFAULTS),
        *plan_entries("product", store.products, wanted.products, PRODUCT_FIELDS,
                      required=("name", "price_per_seat"), defaults=PRODUCT_DEFAULTS),
        *plan_users(store, wanted.users, prune),
        *plan_templates(store, wanted.templates, world),
    ]  # fmt: skip
    client_changes, unmanaged = plan_clients(store, layout, reader, world, prune=prune)
    return Plan(
        changes=changes + client_changes,
        money=world.money.totals(),
        fingerprint=store.fingerprint(),
        files=reader.hashes,
        unmanaged=unmanaged,
        prune=prune,
        scope=scope_of(actor),
    )


def read_wanted(layout: Layout, reader: Reader) -> Wanted:
    wanted = Wanted()
    if layout.catalog:
        doc = reader.load(CATALOG)
        where = str(layout.root / CATALOG)
        with located(where):
            check_keys(doc, ("products", "integrations"), CATALOG)
            if "products" in doc:
                wanted.products = unique(entries_from_file(doc, "products", where))
            if "integrations" in doc:
                wanted.integrations = unique(entries_from_file(doc, "integrations", where))
    if layout.users:
        doc = reader.load(USERS)
        where = str(layout.root / USERS)
        with located(where):
            check_keys(doc, ("users",), USERS)
            wanted.users = unique(entries_from_file(doc, "users", where))
    if layout.templates is not None:
        wanted.templates = {}
        for name in layout.templates:
            where = str(layout.root / TEMPLATES / name)
            doc = reader.load(f"{TEMPLATES}/{name}")
            with located(where):
                obj = template_from_file(doc, where)
            other = wanted.templates.setdefault(obj.key.lower(), obj)
            if other is not obj:
                raise InvalidInput(f"{other.where} and {where} are both template {obj.key!r}")
    return wanted


def unique(objs: list[Obj]) -> dict[str, Obj]:
    out: dict[str, Obj] = {}
    for obj in objs:
        if out.setdefault(obj.key, obj) is not obj:
            raise InvalidInput(f"{obj.key} is listed twice")
    return out


def world_after(store: StoreBook, wanted: Wanted) -> World:
    active = {email: obj.fields["active"] for email, obj in store.users.items()}
    for email, obj in (wanted.users or {}).items():
        active[email] = obj.fields.get("active", active.get(email, True))
    money = MoneyEffect(store.rates, store.products, wanted.products)
    products = {
        key: Product(key=key, name=key, price_per_seat=p.price_per_seat, currency=p.currency, period=p.period)
        for key, p in money.after.items()
    }
    return World(active, products, set(store.integrations) | set(wanted.integrations or {}), money)


def diff_fields(current: dict[str, Any], wanted: dict[str, Any], order: tuple[str, ...]) -> dict[str, dict]:
    """`{"from", "to"}` of each field `wanted` manages whose value differs."""
    return {
        name: {"from": current.get(name), "to": wanted[name]}
        for name in order
        if name in wanted and not same(current.get(name), wanted[name])
    }


def new_fields(wanted: dict[str, Any], order: tuple[str, ...]) -> dict[str, dict]:
    """The fields of a new object: everything its file gives, empty values included."""
    return {name: {"from": None, "to": wanted[name]} for name in order if name in wanted}


def plan_entries(
    kind: str,
    current: dict[str, Obj],
    wanted: dict[str, Obj] | None,
    order: tuple[str, ...],
    *,
    required: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> list[Change]:
    """Creates and updates of users, products or integrations; ones without an entry are left alone."""
    changes: list[Change] = []
    for key in sorted(wanted or {}):
        want, cur = wanted[key], current.get(key)
        if cur is None:
            missing = [name for name in required if name not in want.fields]
            if missing:
                raise InvalidInput(f"{want.where}: the new {kind} {key} needs {missing[0]}")
            changes.append(
                Change("create", kind, want.key, new_fields({**(defaults or {}), **want.fields}, order))
            )
        elif fields := diff_fields(cur.fields, want.fields, order):
            changes.append(Change("update", kind, cur.key, fields))
    return changes


def plan_users(store: StoreBook, wanted: dict[str, Obj] | None, prune: bool) -> list[Change]:
    changes = plan_entries("user", store.users, wanted, USER_FIELDS, defaults=USER_DEFAULTS)
    if prune and wanted is not None:
        changes += [
            Change("archive", "user", obj.key, {"active": {"from": True, "to": False}})
            for email, obj in sorted(store.users.items())
            if email not in wanted and obj.fields["active"]
        ]

    def promotes(change: Change) -> bool:
        # Made admins and reactivated users go first, so no step leaves the space without an admin.
        f = change.fields
        return f.get("role", {}).get("to") == "admin" or f.get("active", {}).get("to") is True

    return sorted(changes, key=lambda c: not promotes(c))


def plan_templates(store: StoreBook, wanted: dict[str, Obj] | None, world: World) -> list[Change]:
    """Creates and updates of templates with a file; a template without one is left alone."""
    if wanted is None:
        return []
    check_one_default(store.templates, wanted)
    changes: list[Change] = []
    for key in sorted(wanted):
        want, cur = wanted[key], store.templates.get(key)
        with located(want.where):
            check_references(want, cur, world)
            check_pricing(want, cur, world)
        if cur is None:
            changes.append(Change("create", "template", want.key, new_fields(want.fields, TEMPLATE_FIELDS)))
        elif fields := diff_fields(cur.fields, want.fields, TEMPLATE_FIELDS):
            changes.append(Change("update", "template", cur.key, fields))
    return changes


def check_one_default(current: dict[str, Obj], wanted: dict[str, Obj]) -> None:
    says = [key for key in sorted(wanted) if wanted[key].fields["default"]]
    if len(says) > 1:
        raise InvalidInput(
            f"{wanted[says[0]].where} and {wanted[says[1]].where} both say default = true: "
            "exactly one template is the default"
        )
    default = next((key for key, obj in current.items() if obj.fields["default"]), None)
    if not says and default in wanted:
        raise InvalidInput(
            f"{wanted[default].where}: default = false, but exactly one template is the default: "
            "set default = true in the file of the one that should be"
        )


def check_pricing(want: Obj, cur: Obj | None, world: World) -> None:
    product = want.fields["product"]
    before = cur.fields["product"] if cur else None
    if product and (before is None or before["key"] != product["key"]) and not want.accept_pricing:
        raise InvalidInput(
            f"product {product['key']} costs {price_text(world.products[product['key']])}; set "
            "accept_pricing = true under [product] to confirm you understand the pricing"
        )


def check_references(want: Obj, cur: Obj | None, world: World) -> None:
    """Every user, integration and product a file names exists once the plan is applied; users it
    newly assigns are active."""
    users = want.fields.get("users") or []
    for email in users:
        if email not in world.active:
            raise InvalidInput(
                f"unknown user {email!r}", hint=f"add it to {USERS} or with `partnerctl user add`"
            )
    for email in sorted(set(users) - set((cur.fields.get("users") if cur else None) or [])):
        if not world.active[email]:
            raise InvalidInput(f"user {email} is deactivated")
    for key in want.fields.get("integrations") or []:
        if key not in world.integrations:
            raise InvalidInput(f"unknown integration {key!r}", hint=f"add it to {CATALOG}")
    products = [s["product"] for s in (want.subscriptions or {}).values()]
    if want.fields.get("product"):
        products.append(want.fields["product"]["key"])
    for key in products:
        if key not in world.products:
            raise InvalidInput(f"unknown product {key!r}", hint=f"add it to {CATALOG}")


# -- clients ------------------------------------------------------------------------------------------


def plan_clients(
    store: StoreBook, layout: Layout, reader: Reader, world: World, *, prune: bool
) -> tuple[list[Change], list[str]]:
    """The clients, file by file against the store (both in reference order, streamed)."""
    files = layout.clients
    changes: list[Change] = []
    unmanaged: list[str] = []
    for key, cur in merged(store.clients(), sorted(files or {})):
        if files is None or key not in files:
            if world.money.affects(cur.subscriptions):
                add_money(world.money, cur, None)
            if files is not None:
                unmanaged.append(cur.key)
                if prune and cur.fields["status"] != "archived":
                    changes.append(archive_client(cur))
            continue
        rel = f"{CLIENTS}/{files[key]}"
        doc = reader.load(rel)
        if cur is not None and doc == client_document(cur):
            # Exactly what `book export` writes for the store's client: nothing changes, and
            # everything in it came from the store (the common case, so it skips normalising).
            if world.money.affects(cur.subscriptions):
                add_money(world.money, cur, None)
            continue
        where = str(layout.root / rel)
        with located(where):
            want = client_from_file(doc, files[key][: -len(".toml")], where)
            check_references(want, cur, world)
        change = client_change(cur, want)
        if change is not None or world.money.affects(cur.subscriptions if cur else None):
            add_money(world.money, cur, change)
        if change is not None:
            changes.append(change)
    return changes, unmanaged


def merged(clients: Iterator[Obj], file_keys: list[str]) -> Iterator[tuple[str, Obj | None]]:
    """(reference key, the store's client or None) over both sorted sequences."""
    keys = iter(file_keys)
    pending = next(keys, None)
    previous = ""
    for obj in clients:
        key = obj.key.lower()
        if key < previous:
            raise RuntimeError("the store did not return clients in reference order")
        previous = key
        while pending is not None and pending < key:
            yield pending, None
            pending = next(keys, None)
        if pending == key:
            pending = next(keys, None)
        yield key, obj
    while pending is not None:
        yield pending, None
        pending = next(keys, None)


def archive_client(cur: Obj) -> Change:
    return Change("archive", "client", cur.key, {"status": {"from": cur.fields["status"], "to": "archived"}})


def client_change(cur: Obj | None, want: Obj) -> Change | None:
    if cur is None:
        if "name" not in want.fields:
            raise InvalidInput(f"{want.where}: a new client needs a name")
        fields = new_fields(want.fields, CLIENT_FIELDS)
        fields.update(diff_subscriptions({}, want.subscriptions))
        return Change("create", "client", want.key, fields)
    fields = diff_fields(cur.fields, want.fields, CLIENT_FIELDS)
    fields.update(diff_subscriptions(cur.subscriptions or {}, want.subscriptions))
    return Change("update", "client", cur.key, fields) if fields else None


def diff_subscriptions(current: dict[str, dict], wanted: dict[str, dict] | None) -> dict[str, dict]:
    """Subscription slots to add (from null), change, or cancel (to null); seats, payer or status
    left out of an entry keep their value (a new subscription: 1 seat, the partner pays, active)."""
    if wanted is None:
        return {}
    out: dict[str, dict] = {}
    for slot in sorted(set(current) | set(wanted), key=slot_order):
        cur, want = current.get(slot), wanted.get(slot)
        if want is not None:
            want = {**(cur or {**NEW_SUBSCRIPTION, "product": want["product"]}), **want}
        if cur != want:
            out[SUBSCRIPTION_PREFIX + slot] = {"from": cur, "to": want}
    return out


def add_money(money: MoneyEffect, cur: Obj | None, change: Change | None) -> None:
    """Add a client's subscriptions to the plan's totals; each changed subscription field gets its
    monthly value and currency before and after."""
    fields = change.fields if change else {}
    before = (cur.fields["currency"], cur.subscriptions or {}) if cur else None
    subs = dict(cur.subscriptions or {}) if cur else {}
    for name, value in fields.items():
        if name.startswith(SUBSCRIPTION_PREFIX):
            slot = name[len(SUBSCRIPTION_PREFIX) :]
            if value["to"] is None:
                subs.pop(slot)
            else:
                subs[slot] = value["to"]
    currency = fields.get("currency", {}).get("to") or (cur.fields["currency"] if cur else DEFAULT_CURRENCY)
    values = money.client(before, (currency, subs))
    for slot, (vb, va) in values.items():
        entry = fields.get(SUBSCRIPTION_PREFIX + slot)
        if entry is not None:
            entry["from"] = monthly(entry["from"], vb)
            entry["to"] = monthly(entry["to"], va)


def monthly(sub: dict | None, value: tuple[Decimal, str] | None) -> dict | None:
    if sub is None or value is None:
        return sub
    return {**sub, "monthly_value": str(value[0]), "currency": value[1]}
