"""The catalogues later features draw from: products (priced per seat) and integrations."""

from __future__ import annotations

from sqlmodel import Session, select

from partnerctl.errors import Conflict, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.validation import (
    normalize_currency,
    parse_amount,
    parse_choice,
    require_key,
    require_text,
)
from partnerctl.store.models import Integration, Product, User
from partnerctl.store.models.core import IntegrationKind, Period


def product_snapshot(p: Product) -> dict:
    """A product as the audit log and `product list` show it."""
    return {
        "key": p.key,
        "name": p.name,
        "price_per_seat": p.price_per_seat,
        "currency": p.currency,
        "period": p.period,
    }


def create_product(
    session: Session,
    actor: User,
    *,
    key: str,
    name: str,
    price_per_seat: str,
    currency: str,
    period: str = "monthly",
) -> Product:
    require_admin(actor, "product add")
    period_value = parse_choice(Period, period, "period")
    product = Product(
        key=require_key(key, "product key"),
        name=require_text(name, "product name"),
        price_per_seat=parse_amount(price_per_seat, field="price per seat"),
        currency=normalize_currency(currency),
        period=period_value,
    )
    if session.exec(select(Product).where(Product.key == product.key)).first():
        raise Conflict(f"product {product.key} already exists")
    session.add(product)
    session.flush()
    audit.record(session, actor, "product.add", "product", product.key, after=product_snapshot(product))
    return product


def get_product(session: Session, key: str) -> Product:
    product = session.exec(select(Product).where(Product.key == key.strip().lower())).first()
    if product is None:
        raise NotFound(f"no product {key!r}", hint="list them with `partnerctl product list`")
    return product


def list_products(session: Session) -> list[Product]:
    return list(session.exec(select(Product).order_by(Product.key)))


def integration_snapshot(i: Integration) -> dict:
    """An integration as the audit log and `integration list` show it."""
    return {"key": i.key, "name": i.name, "kind": i.kind}


def create_integration(
    session: Session, actor: User, *, key: str, name: str, kind: str = "other"
) -> Integration:
    require_admin(actor, "integration add")
    kind_value = parse_choice(IntegrationKind, kind, "integration kind")
    integration = Integration(
        key=require_key(key, "integration key"), name=require_text(name, "name"), kind=kind_value
    )
    if session.exec(select(Integration).where(Integration.key == integration.key)).first():
        raise Conflict(f"integration {integration.key} already exists")
    session.add(integration)
    session.flush()
    audit.record(
        session,
        actor,
        "integration.add",
        "integration",
        integration.key,
        after=integration_snapshot(integration),
    )
    return integration


def list_integrations(session: Session) -> list[Integration]:
    return list(session.exec(select(Integration).order_by(Integration.key)))


def price_text(product: Product) -> str:
    per = "month" if product.period == Period.monthly else "year"
    return f"{product.currency} {product.price_per_seat:.2f} per seat per {per}"
