"""The explicit exchange-rate table: billing converts a price only with a rate an admin has set."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.validation import normalize_currency, parse_amount
from partnerctl.store.models import ExchangeRate, User
from partnerctl.store.types import utcnow


def set_rate(session: Session, actor: User, base: str, quote: str, rate: str | Decimal) -> ExchangeRate:
    """Set the explicit rate 1 BASE = RATE QUOTE (admins only)."""
    require_admin(actor, "billing rate set")
    base, quote = normalize_currency(base), normalize_currency(quote)
    if base == quote:
        raise InvalidInput(f"a rate needs two different currencies, not {base} and {quote}")
    value = parse_amount(rate, field="rate")
    if value <= 0:
        raise InvalidInput("rate must be greater than 0")
    if value != round(value, 6):
        raise InvalidInput("rate has more than 6 decimals")
    existing = session.exec(
        select(ExchangeRate).where(ExchangeRate.base == base, ExchangeRate.quote == quote)
    ).first()
    before = {"rate": existing.rate} if existing else None
    if existing is None:
        existing = ExchangeRate(base=base, quote=quote, rate=value)
    existing.rate, existing.updated_by, existing.updated_at = value, actor.email, utcnow()
    session.add(existing)
    session.flush()
    audit.record(session, actor, "rate.set", "exchange_rate", f"{base}/{quote}", before=before,
                 after={"base": base, "quote": quote, "rate": value})  # fmt: skip
    return existing


def list_rates(session: Session) -> list[ExchangeRate]:
    """Every explicit rate, by currency pair."""
    return list(session.exec(select(ExchangeRate).order_by(ExchangeRate.base, ExchangeRate.quote)))
