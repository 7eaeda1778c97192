"""Changes to an existing client: edits, assignments, status transitions, outstanding tasks, removal."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, require_admin
from partnerctl.services.billing import assert_currency_change_allowed, client_invoice_count
from partnerctl.services.clients.listing import assigned_of, groups_of, integrations_of
from partnerctl.services.clients.model import (
    ADDRESS_FIELDS,
    ClientUpdate,
    address_part,
    client_snapshot,
    non_negative,
)
from partnerctl.services.templates.settings import Lookups
from partnerctl.services.validation import (
    normalize_currency,
    normalize_email,
    normalize_group,
    normalize_language,
    normalize_permission,
    parse_amount,
    require_text,
)
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    Integration,
    Subscription,
    User,
)
from partnerctl.store.models.clients import ClientStatus, IntegrationState
from partnerctl.store.types import utcnow


def check_currency_change(session: Session, client: Client, new_currency: str) -> None:
    """Hook for the billing rules: the currency cannot change once the client has transactions."""
    assert_currency_change_allowed(session, client, new_currency)


def set_currency(session: Session, client: Client, new: str) -> None:
    if new != client.currency:
        check_currency_change(session, client, new)
        client.currency = new


def edit_client(session: Session, actor: User, ref: str, changes: ClientUpdate) -> Client:
    client = get_client_for(session, actor, ref)
    data = changes.model_dump(exclude_unset=True)
    if not any(v not in (None, []) for v in data.values()):
        raise InvalidInput(
            "nothing to change: pass at least one option (see `partnerctl client edit --help`)"
        )
    lookups_needed = (
        data.get("add_integrations") or data.get("remove_integrations") or data.get("connect_integrations")
    )
    before = client_snapshot(
        client, groups=groups_of(session, [client.id])[client.id],
        integrations=[f"{k}:{s}" for k, s in integrations_of(session, client.id)],
    )  # fmt: skip
    if changes.name is not None:
        client.name = require_text(changes.name, "client name")
        client.name_key = client.name.lower()
    if changes.contact_name is not None:
        client.contact_name = changes.contact_name.strip() or None
    if changes.contact_email is not None:
        client.contact_email = (
            normalize_email(changes.contact_email, field="contact e-mail")
            if changes.contact_email.strip()
            else None
        )
    if changes.language is not None:
        client.language = normalize_language(changes.language)
    for kind in ("billing", "shipping"):
        for part in ADDRESS_FIELDS:
            raw = getattr(changes, f"{kind}_{part}")
            if raw is not None:
                setattr(client, f"{kind}_{part}", address_part(raw, part))
    if changes.currency is not None:
        set_currency(session, client, normalize_currency(changes.currency))
    perms = list(client.permissions or [])
    for p in changes.add_permissions:
        p = normalize_permission(p)
        if p not in perms:
            perms.append(p)
    for p in changes.remove_permissions:
        p = normalize_permission(p)
        if p in perms:
            perms.remove(p)
    client.permissions = perms
    current_groups = set(before["groups"])
    for g in changes.add_groups:
        g = normalize_group(g)
        if g not in current_groups:
            session.add(ClientGroup(client_id=client.id, group_name=g))
            current_groups.add(g)
    for g in changes.remove_groups:
        g = normalize_group(g)
        if g not in current_groups:
            raise InvalidInput(f"client {client.ref} is not in group {g!r}")
        session.exec(
            sa.delete(ClientGroup).where(ClientGroup.client_id == client.id, ClientGroup.group_name == g)
        )
        current_groups.discard(g)
    if lookups_needed:
        _edit_integrations(session, client, changes)
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    after = client_snapshot(
        client, groups=groups_of(session, [client.id])[client.id],
        integrations=[f"{k}:{s}" for k, s in integrations_of(session, client.id)],
    )  # fmt: skip
    audit.record(session, actor, "client.edit", "client", client.ref, before=before, after=after)
    return client


def _integration_by_key(session: Session, key: str) -> Integration:
    found = session.exec(select(Integration).where(Integration.key == (key or "").strip().lower())).first()
    if found is None:
        raise InvalidInput(
            f"unknown integration {key!r}", hint="list them with `partnerctl integration list`"
        )
    return found


def _edit_integrations(session: Session, client: Client, changes: ClientUpdate) -> None:
    have = {k for k, _ in integrations_of(session, client.id)}
    for key in changes.add_integrations:
        integ = _integration_by_key(session, key)
        if integ.key not in have:
            session.add(ClientIntegration(client_id=client.id, integration_id=integ.id))
            have.add(integ.key)
    session.flush()
    for key in changes.connect_integrations:
        integ = _integration_by_key(session, key)
        link = session.get(ClientIntegration, (client.id, integ.id))
        if link is None:
            link = ClientIntegration(client_id=client.id, integration_id=integ.id)
        link.state = IntegrationState.connected
        session.add(link)
    for key in changes.remove_integrations:
        integ = _integration_by_key(session, key)
        link = session.get(ClientIntegration, (client.id, integ.id))
        if link is None:
            raise InvalidInput(f"client {client.ref} has no integration {integ.key}")
        session.delete(link)
    session.flush()


def assign_users(session: Session, actor: User, ref: str, emails: list[str]) -> tuple[Client, list[str]]:
    require_admin(actor, "client assign")
    client = get_client_for(session, actor, ref)
    lookups_users = {u.email: u for u in session.exec(select(User))}
    lk = Lookups(lookups_users, {}, {}, {}, None)
    current = set(assigned_of(session, [client.id])[client.id])
    added = []
    for email in emails:
        user = lk.user(email)
        if user.email not in current:
            session.add(ClientAssignment(client_id=client.id, user_id=user.id))
            current.add(user.email)
            added.append(user.email)
    session.flush()
    audit.record(
        session,
        actor,
        "client.assign",
        "client",
        client.ref,
        after={"added": added, "assigned": sorted(current)},
    )
    return client, added


def unassign_users(session: Session, actor: User, ref: str, emails: list[str]) -> tuple[Client, list[str]]:
    require_admin(actor, "client unassign")
    client = get_client_for(session, actor, ref)
    removed = []
    for email in emails:
        normalized = normalize_email(email, field="user e-mail")
        user = session.exec(select(User).where(User.email == normalized)).first()
        if user is None:
            raise InvalidInput(f"unknown user {email!r}")
        link = session.get(ClientAssignment, (client.id, user.id))
        if link is None:
            raise InvalidInput(f"{normalized} is not assigned to {client.ref}")
        session.delete(link)
        removed.append(normalized)
    session.flush()
    audit.record(
        session, actor, "client.unassign", "client", client.ref,
        after={"removed": removed, "assigned": assigned_of(session, [client.id])[client.id]},
    )  # fmt: skip
    return client, removed


_PAST = {"accept": "accepted", "activate": "activated", "archive": "archived"}


_TRANSITIONS = {
    "accept": ({ClientStatus.invited}, ClientStatus.onboarding),
    "activate": ({ClientStatus.onboarding}, ClientStatus.active),
    "archive": ({ClientStatus.invited, ClientStatus.onboarding, ClientStatus.active}, ClientStatus.archived),
}


def transition_client(session: Session, actor: User, ref: str, action: str) -> Client:
    require_admin(actor, f"client {action}")
    client = get_client_for(session, actor, ref)
    allowed, target = _TRANSITIONS[action]
    if client.status not in allowed:
        raise Conflict(
            f"client {client.ref} is {client.status}; only {' or '.join(sorted(allowed))} clients can be {_PAST[action]}"
        )
    before = {"status": client.status}
    client.status = target
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    audit.record(
        session, actor, f"client.{action}", "client", client.ref, before=before, after={"status": target}
    )
    return client


def activate_client(session: Session, actor: User, ref: str) -> Client:
    return transition_client(session, actor, ref, "activate")


def archive_client(session: Session, actor: User, ref: str) -> Client:
    return transition_client(session, actor, ref, "archive")


def decline_invitation(session: Session, actor: User, ref: str) -> str:
    """Decline an invitation: the invited client is removed."""
    require_admin(actor, "client decline")
    client = get_client_for(session, actor, ref)
    if client.status != ClientStatus.invited:
        raise Conflict(f"client {client.ref} is {client.status}, not an open invitation")
    snap = client_snapshot(client)
    session.delete(client)
    session.flush()
    audit.record(session, actor, "client.decline", "client", snap["ref"], before=snap)
    return snap["ref"]


def remove_client(session: Session, actor: User, ref: str) -> str:
    require_admin(actor, "client remove")
    client = get_client_for(session, actor, ref)
    invoices = client_invoice_count(session, client.id)
    if invoices:
        # Invoices are financial records: they outlive neither a delete nor a cascade.
        raise Conflict(
            f"client {client.ref} has {invoices} invoice(s) and cannot be removed; "
            f"archive it instead with `partnerctl client archive {client.ref}`"
        )
    snap = client_snapshot(client, groups=groups_of(session, [client.id])[client.id])
    # Children go explicitly: SQLite only cascades with foreign_keys on, and subscriptions are others' rows.
    for model in (ClientGroup, ClientAssignment, ClientIntegration, Subscription):
        session.exec(sa.delete(model).where(model.client_id == client.id))
    session.delete(client)
    session.flush()
    audit.record(session, actor, "client.remove", "client", snap["ref"], before=snap)
    return snap["ref"]


def update_tasks(
    session: Session,
    actor: User,
    ref: str,
    *,
    missing_receipts: int | None = None,
    wallet_balance: str | Decimal | None = None,
    expenses_ready: int | None = None,
) -> Client:
    """Update the outstanding-task figures (assigned bookkeepers may do this too)."""
    client = get_client_for(session, actor, ref)
    if missing_receipts is None and wallet_balance is None and expenses_ready is None:
        raise InvalidInput("nothing to change: pass --missing-receipts, --wallet-balance or --expenses-ready")
    before = {
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
    }
    if missing_receipts is not None:
        client.missing_receipts = non_negative(missing_receipts, "missing receipts")
    if wallet_balance is not None:
        client.wallet_balance = parse_amount(wallet_balance, field="wallet balance", allow_negative=True)
    if expenses_ready is not None:
        client.expenses_ready = non_negative(expenses_ready, "expenses ready")
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    after = {
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
    }
    audit.record(session, actor, "client.tasks", "client", client.ref, before=before, after=after)
    return client
