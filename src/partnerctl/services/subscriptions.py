"""Subscriptions: a product with seats for a client, who pays, and when the next payment is due."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.store.models import Client, Product, Subscription, User
from partnerctl.store.models.subscriptions import Payer


def parse_payer(raw: str | Payer) -> Payer:
    try:
        return Payer(str(raw).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown payer {raw!r}: use partner or client") from None


def subscription_snapshot(sub: Subscription, product_key: str | None = None) -> dict:
    return {
        "id": sub.id,
        "client_id": sub.client_id,
        "product": product_key,
        "seats": sub.seats,
        "status": sub.status,
        "payer": sub.payer,
        "start_date": sub.start_date,
        "next_payment_date": sub.next_payment_date,
        "allow_client_edit": sub.allow_client_edit,
    }


def add_subscription(
    session: Session,
    actor: User | str,
    *,
    client: Client,
    product: Product,
    seats: int = 1,
    payer: str | Payer = Payer.partner,
    start: date | None = None,
    next_payment: date | None = None,
    today: date | None = None,
) -> Subscription:
    """Create a subscription (flushed, audited). The first payment is due on the start date by default."""
    if seats < 1:
        raise InvalidInput(f"seats must be at least 1, not {seats}")
    start = start or today or date.today()
    sub = Subscription(
        client_id=client.id,
        product_id=product.id,
        seats=seats,
        payer=parse_payer(payer),
        start_date=start,
        next_payment_date=next_payment or start,
    )
    session.add(sub)
    session.flush()
    audit.record(session, actor, "subscription.add", "subscription", str(sub.id),
                 after={**subscription_snapshot(sub, product.key), "client": client.ref})  # fmt: skip
    return sub
