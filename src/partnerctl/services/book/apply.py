"""`book apply`: exactly the saved plan, in one transaction, only against the store state it was made
for, each change through the service that owns it, then checked by planning the same files again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from partnerctl.errors import Conflict, PartnerctlError
from partnerctl.services import audit, billing, catalog, clients, templates, users
from partnerctl.services.access import get_client_for, require_admin
from partnerctl.services.book.files import file_hashes, scan
from partnerctl.services.book.model import ADDRESS_FIELDS, PRODUCT_FIELDS, same, slot_order
from partnerctl.services.book.plan import SUBSCRIPTION_PREFIX, Change, plan_book
from partnerctl.services.book.planfile import load_plan
from partnerctl.services.book.snapshot import (
    live_subscription_ids,
    lock_book,
    read_store,
    scope_of,
    store_clients,
)
from partnerctl.store.models import User, UserUpdate

AGAIN = "run `partnerctl book plan` again"


@dataclass
class Applied:
    counts: Counter  # (action, kind) -> number of objects
    directory: Path


def apply_plan(session: Session, actor: User, path: Path) -> Applied:
    """Apply the plan in `path` (admins only). Refused (exit 4) when the store or the files changed
    since the plan; nothing is committed unless planning the same files afterwards shows no change."""
    require_admin(actor, "book apply")
    saved = load_plan(path)
    lock_book(session)
    if saved.scope != scope_of(actor):
        raise Conflict(
            f"the plan was made for {saved.scope}, not {scope_of(actor)}: {AGAIN} as {actor.email}"
        )
    if read_store(session, actor).fingerprint() != saved.fingerprint:
        raise Conflict("the store changed since the plan", hint=AGAIN)
    if file_hashes(scan(saved.directory)) != saved.files:
        raise Conflict(f"the files in {saved.directory} changed since the plan", hint=AGAIN)
    for change in saved.changes:
        apply_change(session, actor, change)
    session.flush()
    again = plan_book(session, actor, saved.directory, prune=saved.prune)
    if again.files != saved.files:
        raise Conflict(f"the files in {saved.directory} changed while the plan was applied", hint=AGAIN)
    if again.changes:
        first = again.changes[0]
        raise Conflict(
            f"after applying, the store still differs from the files ({first.action} {first.kind} "
            f"{first.key}: {', '.join(first.fields)}); nothing was changed"
        )
    return Applied(Counter((c.action, c.kind) for c in saved.changes), saved.directory)


def apply_change(session: Session, actor: User, change: Change) -> None:
    """One object, through its services, recorded as one audit event marked as made by the book."""
    try:
        with audit.grouped(session) as steps:
            _APPLY[change.kind](session, actor, change)
    except PartnerctlError as exc:
        raise type(exc)(f"{change.kind} {change.key}: {exc.message}", hint=exc.hint) from None
    audit.record(
        session, actor, f"{change.kind}.{change.action}", change.kind, change.key,
        before={name: value["from"] for name, value in change.fields.items()},
        after={**{name: value["to"] for name, value in change.fields.items()}, "via": "book",
               "steps": [event.action for event in steps]},
    )  # fmt: skip


def _to(change: Change) -> dict[str, Any]:
    return {name: value["to"] for name, value in change.fields.items()}


def _set_delta(fields: dict, name: str) -> tuple[list, list]:
    """(added, removed) of a list (or the keys of a table) between a field's from and to."""
    before, after = set(fields[name]["from"] or []), set(fields[name]["to"] or [])
    return sorted(after - before), sorted(before - after)


# -- clients ------------------------------------------------------------------------------------------

_PLAIN_CLIENT_FIELDS = {
    "name": "name", "contact_name": "contact_name", "contact_email": "contact_email", "currency": "currency",
    "language": "language", "vat_number": "vat_number", **{name: name.replace(".", "_") for name in ADDRESS_FIELDS},
}  # fmt: skip


def apply_client(session: Session, actor: User, change: Change) -> None:
    if change.action == "archive":
        clients.archive_client(session, actor, change.key)
        return
    fields = change.fields
    if change.action == "create":
        client = clients.create_client(session, actor, new_client(change))
        created = next(store_clients(session, actor, ids=[client.id]))
        # What `client add` did not already set (connected integrations, no permissions, status...).
        fields = {
            name: {"from": created.fields.get(name), "to": value["to"]}
            for name, value in fields.items()
            if name.startswith(SUBSCRIPTION_PREFIX) or not same(created.fields.get(name), value["to"])
        }
    update_client(session, actor, change.key, fields)


def new_client(change: Change) -> clients.ClientCreate:
    """`client add` without a template, with what the file gives."""
    to = _to(change)
    data: dict[str, Any] = {
        "name": to["name"], "ref": change.key, "no_template": True, "invited": to.get("status") == "invited",
        "contact_name": to.get("contact_name"), "contact_email": to.get("contact_email"),
        "currency": to.get("currency"), "language": to.get("language"), "groups": to.get("groups") or [],
        "assign": to.get("users") or [], "integrations": sorted(to.get("integrations") or {}),
        "permissions": to.get("permissions") or [], "vat_number": to.get("vat_number"),
    }  # fmt: skip
    for name, column in _PLAIN_CLIENT_FIELDS.items():
        if name in ADDRESS_FIELDS:
            data[column] = to.get(name)
    return clients.ClientCreate(**data)


def client_update(fields: dict[str, dict]) -> tuple[clients.ClientUpdate | None, list[str]]:
    """The `client edit` that makes `fields` so, and the integrations that go back from connected
    to pending (removed here, added again by a second edit)."""
    values: dict[str, Any] = {
        column: fields[name]["to"] or "" for name, column in _PLAIN_CLIENT_FIELDS.items() if name in fields
    }
    for name in ("groups", "permissions"):
        if name in fields:
            values[f"add_{name}"], values[f"remove_{name}"] = _set_delta(fields, name)
    downgrade: list[str] = []
    if "integrations" in fields:
        before, after = fields["integrations"]["from"] or {}, fields["integrations"]["to"] or {}
        downgrade = sorted(k for k, s in after.items() if s == "pending" and before.get(k) == "connected")
        values["add_integrations"] = sorted(k for k, s in after.items() if k not in before and s == "pending")
        values["connect_integrations"] = sorted(
            k for k, s in after.items() if s == "connected" and before.get(k) != "connected"
        )
        values["remove_integrations"] = sorted([k for k in before if k not in after] + downgrade)
    if not any(v != [] for v in values.values()):
        return None, downgrade
    return clients.ClientUpdate(**values), downgrade


def update_client(session: Session, actor: User, ref: str, fields: dict[str, dict]) -> None:
    update, downgrade = client_update(fields)
    if update is not None:
        clients.edit_client(session, actor, ref, update)
    if downgrade:
        clients.edit_client(session, actor, ref, clients.ClientUpdate(add_integrations=downgrade))
    if "users" in fields:
        added, removed = _set_delta(fields, "users")
        if added:
            clients.assign_users(session, actor, ref, added)
        if removed:
            clients.unassign_users(session, actor, ref, removed)
    subscriptions = {
        name[len(SUBSCRIPTION_PREFIX) :]: value
        for name, value in fields.items()
        if name.startswith(SUBSCRIPTION_PREFIX)
    }
    if subscriptions:
        apply_subscriptions(session, actor, ref, subscriptions)
    if "status" in fields:
        move_client(session, actor, ref, fields["status"]["from"], fields["status"]["to"])


def apply_subscriptions(session: Session, actor: User, ref: str, changes: dict[str, dict]) -> None:
    """Add, change (seats, payer, suspend or resume) and cancel a client's subscriptions by slot."""
    ids = live_subscription_ids(session, get_client_for(session, actor, ref).id)
    for slot in sorted(changes, key=slot_order):
        before, after = changes[slot]["from"], changes[slot]["to"]
        if after is None:
            billing.cancel_subscription(session, actor, ids[slot])
            continue
        if before is None:
            sub = billing.create_subscription(
                session, actor, client_ref=ref, product_key=after["product"], seats=after["seats"],
                payer=after["payer"],
            )  # fmt: skip
            if after["status"] == "suspended":
                billing.suspend_subscription(session, actor, sub.id)
            continue
        edits = {name: after[name] for name in ("seats", "payer") if after[name] != before[name]}
        if edits:
            billing.edit_subscription(session, actor, ids[slot], **edits)
        if after["status"] != before["status"]:
            move = (
                billing.suspend_subscription
                if after["status"] == "suspended"
                else billing.resume_subscription
            )
            move(session, actor, ids[slot])


def move_client(session: Session, actor: User, ref: str, before: str, after: str) -> None:
    if after == before:
        return
    if after == "archived":
        clients.archive_client(session, actor, ref)
    elif (before, after) == ("onboarding", "active"):
        clients.activate_client(session, actor, ref)
    else:
        raise Conflict(
            f"status cannot go from {before} to {after}: the book moves a client from onboarding to "
            "active, and from any status to archived",
            hint="accept an invitation with `partnerctl client accept REF`",
        )


# -- templates, users, the catalogue --------------------------------------------------------------------


def apply_template(session: Session, actor: User, change: Change) -> None:
    to = _to(change)
    if change.action == "create":
        product = to.get("product") or {}
        templates.create_template(
            session, actor, change.key,
            templates.TemplateChanges(
                description=to.get("description") or "", users=to.get("users") or [],
                integrations=to.get("integrations") or [], permissions=to.get("permissions") or [],
                groups=to.get("groups") or [], currency=to.get("currency"), language=to.get("language"),
                product=product.get("key"), payer=product.get("payer"), seats=product.get("seats"),
                accept_pricing=True, default=bool(to.get("default")),
            ),
        )  # fmt: skip
        return
    delta = template_delta(change.fields)
    if delta is not None:
        templates.edit_template(session, actor, change.key, delta)
    if to.get("default") is True:
        templates.set_default(session, actor, change.key)


def template_delta(fields: dict[str, dict]) -> templates.TemplateChanges | None:
    """The `template edit` that makes `fields` so (None when only `default` changes: that is
    `set-default`, and a default = false is what another template's default = true does)."""
    delta = templates.TemplateChanges()
    for name in ("users", "integrations", "permissions", "groups"):
        if name in fields:
            added, removed = _set_delta(fields, name)
            setattr(delta, name, added)
            setattr(delta, f"remove_{name}", removed)
    for name in ("currency", "language"):
        if name in fields:
            value = fields[name]["to"]
            setattr(delta, name if value else f"no_{name}", value or True)
    if "description" in fields:
        delta.description = fields["description"]["to"] or ""
    if "product" in fields:
        product = fields["product"]["to"]
        if product is None:
            delta.no_product = True
        else:
            delta.product, delta.payer, delta.seats = product["key"], product["payer"], product["seats"]
            delta.accept_pricing = True  # the plan refused a new product without accept_pricing
    return delta if set(fields) - {"default"} else None


def apply_user(session: Session, actor: User, change: Change) -> None:
    to = _to(change)
    if change.action == "create":
        users.create_user(session, actor, email=change.key, name=to.get("name") or "", role=to["role"],
                          language=to["language"])  # fmt: skip
    elif change.action == "update" and {"name", "role", "language"} & set(to):
        edits = {name: (to[name] or "") if name == "name" else to[name] for name in ("name", "role", "language")
                 if name in to}  # fmt: skip
        users.edit_user(session, actor, change.key, UserUpdate(**edits))
    if "active" in to and (change.action != "create" or to["active"] is False):
        (users.activate_user if to["active"] else users.deactivate_user)(session, actor, change.key)


def apply_product(session: Session, actor: User, change: Change) -> None:
    to = _to(change)
    if change.action == "create":
        catalog.create_product(session, actor, key=change.key, name=to["name"], price_per_seat=to["price_per_seat"],
                               currency=to["currency"], period=to["period"])  # fmt: skip
    else:
        catalog.edit_product(session, actor, change.key, **{k: to[k] for k in PRODUCT_FIELDS if k in to})


def apply_integration(session: Session, actor: User, change: Change) -> None:
    to = _to(change)
    if change.action == "create":
        catalog.create_integration(session, actor, key=change.key, name=to["name"], kind=to["kind"])
    else:
        catalog.edit_integration(
            session, actor, change.key, **{k: to[k] for k in ("name", "kind") if k in to}
        )


_APPLY: dict[str, Callable[[Session, User, Change], None]] = {
    "client": apply_client,
    "template": apply_template,
    "user": apply_user,
    "product": apply_product,
    "integration": apply_integration,
}
