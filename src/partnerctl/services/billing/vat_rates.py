"""The VAT rate table: the domestic rate (the partner's own country's) and destination rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.partner import get_partner
from partnerctl.services.validation import normalize_country, parse_amount
from partnerctl.store.models import User, VatRate
from partnerctl.store.types import utcnow


def parse_vat_rate(raw: str | Decimal) -> Decimal:
    """A VAT rate in percent: 0 to 100, at most 2 decimals (21, 5.5, 25)."""
    value = parse_amount(raw, field="VAT rate")
    if value > 100:
        raise InvalidInput(f"VAT rate is a percentage from 0 to 100, not {raw}")
    if value != round(value, 2):
        raise InvalidInput(f"VAT rate has more than 2 decimals: {raw}")
    return value


def set_vat_rate(session: Session, actor: User, rate: str | Decimal, country: str | None = None) -> VatRate:
    """Set the VAT rate of `country`, by default the partner's own (the domestic rate). Admins only.
    Issued invoices keep the rate they were issued with."""
    require_admin(actor, "billing vat set")
    value = parse_vat_rate(rate)
    if country is None:
        partner = get_partner(session)
        if partner is None or not partner.country:
            raise InvalidInput(
                "the domestic rate is the rate of the partner's country, which is not set",
                hint="pass --country CC, or set it with `partnerctl partner set --country CC`",
            )
        code = partner.country
    else:
        code = normalize_country(country)
    row = session.get(VatRate, code)
    before = {"country": code, "rate": row.rate} if row else None
    if row is None:
        row = VatRate(country=code, rate=value)
    row.rate, row.updated_by, row.updated_at = value, actor.email, utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "vat.set", "vat_rate", code, before=before, after={"country": code, "rate": value}
    )
    return row


@dataclass
class VatRateRow:
    country: str
    rate: Decimal
    domestic: bool
    updated_by: str | None
    updated_at: datetime


def list_vat_rates(session: Session) -> list[VatRateRow]:
    """Every configured rate by country; the partner's own country's is marked domestic."""
    partner = get_partner(session)
    home = partner.country if partner else None
    return [
        VatRateRow(r.country, r.rate, r.country == home, r.updated_by, r.updated_at)
        for r in session.exec(select(VatRate).order_by(VatRate.country))
    ]


def vat_rate_table(session: Session) -> dict[str, Decimal]:
    """country -> rate in percent, for billing."""
    return {r.country: r.rate for r in session.exec(select(VatRate))}
