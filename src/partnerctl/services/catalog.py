"""The catalogues later features draw from: products (priced per seat) and integrations."""

from __future__ import annotations

from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
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


def edit_product(
    session: Session,
    actor: User,
    key: str,
    *,
    name: str | None = None,
    price_per_seat: str | None = None,
    currency: str | None = None,
    period: str | None = None,
) -> Product:
    """Change a product's name, price, currency or period (admins only). Subscriptions keep their
    seats; the next invoices use the new price."""
    require_admin(actor, "product edit")
    product = get_product(session, key)
    changes: dict = {}
    if name is not None:
        changes["name"] = require_text(name, "product name")
    if price_per_seat is not None:
        changes["price_per_seat"] = parse_amount(price_per_seat, field="price per seat")
    if currency is not None:
        changes["currency"] = normalize_currency(currency)
    if period is not None:
        changes["period"] = parse_choice(Period, period, "period")
    if not changes:
        raise InvalidInput("nothing to change: pass a name, price per seat, currency or period")
    return _edit(session, actor, product, changes, "product", product_snapshot)


def _edit(session: Session, actor: User, item, changes: dict, entity: str, snapshot):
    """Set validated `changes` on a catalogue item, audited as `<entity>.edit`."""
    before = snapshot(item)
    for field, value in changes.items():
        setattr(item, field, value)
    session.add(item)
    session.flush()
    audit.record(session, actor, f"{entity}.edit", entity, item.key, before=before, after=snapshot(item))
    return item


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


def get_integration(session: Session, key: str) -> Integration:
    integration = session.exec(select(Integration).where(Integration.key == key.strip().lower())).first()
    if integration is None:
        raise NotFound(f"no integration {key!r}", hint="list them with `partnerctl integration list`")
    return integration


def edit_integration(
    session: Session, actor: User, key: str, *, name: str | None = None, kind: str | None = None
) -> Integration:
    """Change an integration's name or kind (admins only)."""
    require_admin(actor, "integration edit")
    integration = get_integration(session, key)
    changes: dict = {}
    if name is not None:
        changes["name"] = require_text(name, "name")
    if kind is not None:
        changes["kind"] = parse_choice(IntegrationKind, kind, "integration kind")
    if not changes:
        raise InvalidInput("nothing to change: pass a name or kind")
    return _edit(session, actor, integration, changes, "integration", integration_snapshot)


def list_integrations(session: Session) -> list[Integration]:
    return list(session.exec(select(Integration).order_by(Integration.key)))


def price_text(product: Product) -> str:
    per = "month" if product.period == Period.monthly else "year"
    return f"{product.currency} {product.price_per_seat:.2f} per seat per {per}"
