"""Changes to an existing client: edits, assignments, status transitions, outstanding tasks, removal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, require_admin
from partnerctl.services.billing import assert_currency_change_allowed, client_invoice_count
from partnerctl.services.clients.delta import ListDelta, list_delta
from partnerctl.services.clients.listing import assigned_of, groups_of, integrations_of
from partnerctl.services.clients.model import (
    ADDRESS_COLUMNS,
    ClientUpdate,
    address_part,
    client_snapshot,
    non_negative,
    vat_number_for,
)
from partnerctl.services.templates import Lookups, load_link_lookups
from partnerctl.services.validation import (
    check_vat_country,
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


@dataclass
class ClientEdit:
    """What `client edit` changes: plain fields, the currency (checked against invoices), and lists."""

    fields: dict[str, Any] = field(default_factory=dict)
    currency: str | None = None
    permissions: ListDelta[str] = field(default_factory=ListDelta)
    groups: ListDelta[str] = field(default_factory=ListDelta)
    integrations: ListDelta[str] = field(default_factory=ListDelta)  # integration keys
    connect: list[str] = field(default_factory=list)  # integration keys to mark connected


def _edited_fields(changes: ClientUpdate) -> dict[str, Any]:
    """The validated new values of the plain fields `changes` names."""
    fields: dict[str, Any] = {}
    if changes.name is not None:
        fields["name"] = require_text(changes.name, "client name")
        fields["name_key"] = fields["name"].lower()
    if changes.contact_name is not None:
        fields["contact_name"] = changes.contact_name.strip() or None
    if changes.contact_email is not None:
        email = changes.contact_email
        fields["contact_email"] = normalize_email(email, field="contact e-mail") if email.strip() else None
    if changes.language is not None:
        fields["language"] = normalize_language(changes.language)
    for column, part in ADDRESS_COLUMNS:
        raw = getattr(changes, column)
        if raw is not None:
            fields[column] = address_part(raw, part)
    return fields


def _vat_number_change(client: Client, changes: ClientUpdate, fields: dict[str, Any]) -> None:
    """A new VAT number, or a new billing country, must leave the two agreeing."""
    country = fields.get("billing_country", client.billing_country)
    if changes.vat_number is not None:
        fields["vat_number"] = vat_number_for(changes.vat_number, country)
    elif "billing_country" in fields:
        check_vat_country(client.vat_number, country)


def plan_edit(
    client: Client,
    changes: ClientUpdate,
    *,
    groups: list[str],
    integrations: list[str],
    lookups: Lookups | None,
) -> ClientEdit:
    """What `changes` does to `client` (current groups and integration keys given); validates, writes nothing."""
    edit = ClientEdit(fields=_edited_fields(changes))
    _vat_number_change(client, changes, edit.fields)
    if changes.currency is not None:
        edit.currency = normalize_currency(changes.currency)
    edit.permissions = list_delta(
        client.permissions or [],
        add=[normalize_permission(p) for p in changes.add_permissions],
        remove=[normalize_permission(p) for p in changes.remove_permissions],
    )
    edit.groups = list_delta(
        groups,
        add=[normalize_group(g) for g in changes.add_groups],
        remove=[normalize_group(g) for g in changes.remove_groups],
    )
    if edit.groups.missing:
        raise InvalidInput(f"client {client.ref} is not in group {edit.groups.missing[0]!r}")
    if lookups is not None:
        added = [lookups.integration(k).key for k in changes.add_integrations]
        edit.connect = [lookups.integration(k).key for k in changes.connect_integrations]
        removed = [lookups.integration(k).key for k in changes.remove_integrations]
        # Connecting one the client does not have adds it (connected).
        edit.integrations = list_delta(integrations, add=added + edit.connect, remove=removed)
        if edit.integrations.missing:
            raise InvalidInput(f"client {client.ref} has no integration {edit.integrations.missing[0]}")
    return edit


def _apply_edit(session: Session, client: Client, edit: ClientEdit, lookups: Lookups | None) -> None:
    for name, value in edit.fields.items():
        setattr(client, name, value)
    if edit.currency is not None:
        set_currency(session, client, edit.currency)
    client.permissions = edit.permissions.result
    for g in edit.groups.add:
        session.add(ClientGroup(client_id=client.id, group_name=g))
    for g in edit.groups.remove:
        session.exec(
            sa.delete(ClientGroup).where(ClientGroup.client_id == client.id, ClientGroup.group_name == g)
        )
    if lookups is not None:
        connect = set(edit.connect)
        for key in edit.integrations.add:
            state = IntegrationState.connected if key in connect else IntegrationState.pending
            session.add(
                ClientIntegration(
                    client_id=client.id, integration_id=lookups.integration(key).id, state=state
                )
            )
        session.flush()
        for key in connect.difference(edit.integrations.add, edit.integrations.remove):
            link = session.get(ClientIntegration, (client.id, lookups.integration(key).id))
            link.state = IntegrationState.connected
            session.add(link)
        for key in edit.integrations.remove:
            session.delete(session.get(ClientIntegration, (client.id, lookups.integration(key).id)))
    client.updated_at = utcnow()
    session.add(client)
    session.flush()


def _list_snapshot(session: Session, client: Client) -> dict:
    return client_snapshot(
        client, groups=groups_of(session, [client.id])[client.id],
        integrations=[f"{k}:{s}" for k, s in integrations_of(session, client.id)],
    )  # fmt: skip


def edit_client(session: Session, actor: User, ref: str, changes: ClientUpdate) -> Client:
    """`client edit`: change fields, groups, permissions and integrations of one client, audited."""
    client = get_client_for(session, actor, ref)
    data = changes.model_dump(exclude_unset=True)
    if not any(v not in (None, []) for v in data.values()):
        raise InvalidInput(
            "nothing to change: pass at least one option (see `partnerctl client edit --help`)"
        )
    needs_integrations = (
        data.get("add_integrations") or data.get("remove_integrations") or data.get("connect_integrations")
    )
    lookups = load_link_lookups(session) if needs_integrations else None
    before = _list_snapshot(session, client)
    keys = [k for k, _ in integrations_of(session, client.id)] if lookups is not None else []
    edit = plan_edit(client, changes, groups=before["groups"], integrations=keys, lookups=lookups)
    _apply_edit(session, client, edit, lookups)
    after = _list_snapshot(session, client)
    audit.record(session, actor, "client.edit", "client", client.ref, before=before, after=after)
    return client


def assign_users(session: Session, actor: User, ref: str, emails: list[str]) -> tuple[Client, list[str]]:
    require_admin(actor, "client assign")
    client = get_client_for(session, actor, ref)
    lookups = load_link_lookups(session)
    current = assigned_of(session, [client.id])[client.id]
    users = [lookups.user(email) for email in emails]
    delta = list_delta(current, add=[u.email for u in users])
    for email in delta.add:
        session.add(ClientAssignment(client_id=client.id, user_id=lookups.users_by_email[email].id))
    session.flush()
    audit.record(
        session, actor, "client.assign", "client", client.ref,
        after={"added": delta.add, "assigned": sorted(delta.result)},
    )  # fmt: skip
    return client, delta.add


def unassign_users(session: Session, actor: User, ref: str, emails: list[str]) -> tuple[Client, list[str]]:
    require_admin(actor, "client unassign")
    client = get_client_for(session, actor, ref)
    lookups = load_link_lookups(session)
    current = assigned_of(session, [client.id])[client.id]
    # A deactivated user can still be unassigned (that is often why they are being removed).
    delta = list_delta(current, remove=[lookups.user(email, active=False).email for email in emails])
    if delta.missing:
        raise InvalidInput(f"{delta.missing[0]} is not assigned to {client.ref}")
    for email in delta.remove:
        session.delete(session.get(ClientAssignment, (client.id, lookups.users_by_email[email].id)))
    session.flush()
    audit.record(
        session, actor, "client.unassign", "client", client.ref,
        after={"removed": delta.remove, "assigned": assigned_of(session, [client.id])[client.id]},
    )  # fmt: skip
    return client, delta.remove


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
