"""Everything about one client, as `client show` prints it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from partnerctl.services.access import get_client_for
from partnerctl.services.clients.listing import assigned_of, groups_of, integrations_of
from partnerctl.services.clients.model import ADDRESS_FIELDS, address_of, client_fields
from partnerctl.store.models import (
    ConfigTemplate,
    Product,
    Subscription,
    User,
)


def client_details(session: Session, actor: User, ref: str) -> dict[str, Any]:
    """Everything about one client, template origin and assigned users included."""
    client = get_client_for(session, actor, ref)
    template = session.get(ConfigTemplate, client.template_id) if client.template_id else None
    subs = session.exec(
        select(Subscription, Product.key)
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.client_id == client.id)
        .order_by(Subscription.id)
    ).all()
    details: dict[str, Any] = {
        **client_fields(client),
        "groups": groups_of(session, [client.id])[client.id],
        "permissions": list(client.permissions or []),
        "assigned": assigned_of(session, [client.id], actor)[client.id],
        "integrations": [f"{k} ({s})" for k, s in integrations_of(session, client.id)],
        "subscriptions": [f"{key} x{sub.seats} ({sub.status}, {sub.payer} pays)" for sub, key in subs],
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
    }
    details.update(address_of(client))
    if not any(getattr(client, f"shipping_{p}") for p in ADDRESS_FIELDS):
        # Shipping falls back to billing, as on invoices.
        details.update({f"shipping_{part}": getattr(client, f"billing_{part}") for part in ADDRESS_FIELDS})
    details["template"] = template.name if template else None
    details["template_version"] = client.template_version
    details["template_current_version"] = template.version if template else None
    details["template_applied"] = client.template_applied
    details["created_by"] = client.created_by
    details["created_at"] = client.created_at
    details["updated_at"] = client.updated_at
    return details
