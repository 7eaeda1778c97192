"""Clients, active seats and monthly value per group, template, status, currency or language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from partnerctl.errors import InvalidInput
from partnerctl.services.access import visible_clients_filter
from partnerctl.services.money import monthly_value, rate_table
from partnerctl.store.models import (
    Client,
    ClientGroup,
    ConfigTemplate,
    Product,
    Subscription,
    User,
)
from partnerctl.store.models.subscriptions import SubscriptionStatus

REPORT_KEYS = ("group", "template", "status", "currency", "language")


def client_report(session: Session, actor: User, by: str) -> list[dict[str, Any]]:
    """Clients, active seats and monthly value per group/template/status/currency/language."""
    by = (by or "").strip().lower()
    if by not in REPORT_KEYS:
        raise InvalidInput(f"unknown report key {by!r}: use {', '.join(REPORT_KEYS)}")
    visible = select(Client.id).where(visible_clients_filter(actor))
    if by in ("group", "template"):
        # Clients in no group / from no template count under (none): an outer join.
        other, on, name = {
            "group": (ClientGroup, col(ClientGroup.client_id) == Client.id, ClientGroup.group_name),
            "template": (ConfigTemplate, col(ConfigTemplate.id) == Client.template_id, ConfigTemplate.name),
        }[by]
        keyed = (
            select(Client.id.label("cid"), col(name).label("k"))
            .select_from(Client)
            .outerjoin(other, on)
            .where(col(Client.id).in_(visible))
        )
    else:
        column = {"status": Client.status, "currency": Client.currency, "language": Client.language}[by]
        keyed = select(Client.id.label("cid"), col(column).label("k")).where(col(Client.id).in_(visible))
    keyed = keyed.subquery()
    counts = {
        k: n
        for k, n in session.exec(select(keyed.c.k, func.count(sa.distinct(keyed.c.cid))).group_by(keyed.c.k))
    }
    seats: dict[Any, int] = {}
    value: dict[Any, dict[str, Decimal]] = {}
    rates = rate_table(session)
    for k, n, product, client_currency in session.exec(
        select(keyed.c.k, Subscription.seats, Product, Client.currency)
        .select_from(keyed)
        .join(Subscription, Subscription.client_id == keyed.c.cid)
        .join(Product, col(Product.id) == Subscription.product_id)
        .join(Client, col(Client.id) == keyed.c.cid)
        .where(Subscription.status == SubscriptionStatus.active)
    ):
        seats[k] = seats.get(k, 0) + n
        # The same monthly value as `subscription list`: in the client's currency where a rate exists.
        monthly, currency = monthly_value(n, product, client_currency, rates)
        value.setdefault(k, {})
        value[k][currency] = value[k].get(currency, Decimal(0)) + monthly
    rows = []
    for k, n in counts.items():
        rows.append(
            {
                by: str(k) if k is not None else "(none)",
                "clients": n,
                "seats": seats.get(k, 0),
                "monthly_value": "; ".join(
                    f"{cur} {amount}" for cur, amount in sorted(value.get(k, {}).items())
                ),
            }
        )
    rows.sort(key=lambda r: (-r["clients"], r[by]))
    return rows
