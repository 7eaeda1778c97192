"""What other areas ask of billing about a client: its invoice count and the currency lock."""

from __future__ import annotations

from sqlmodel import Session, func, select

from partnerctl.errors import Conflict
from partnerctl.store.models import Client, Invoice


def client_invoice_count(session: Session, client_id: int) -> int:
    return session.exec(select(func.count()).select_from(Invoice).where(Invoice.client_id == client_id)).one()


def assert_currency_change_allowed(session: Session, client: Client, new_currency: str | None = None) -> None:
    """The currency lock: once a client has an invoice, its currency is fixed (Conflict, exit 4)."""
    if new_currency is not None and new_currency == client.currency:
        return
    count = client_invoice_count(session, client.id)
    if count:
        raise Conflict(
            f"client {client.ref} already has {count} invoice(s) in {client.currency}; "
            "its currency cannot change once it has been invoiced"
        )
