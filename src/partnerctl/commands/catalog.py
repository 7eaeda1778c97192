"""`partnerctl product ...` and `partnerctl integration ...`: the catalogues."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.output import Column

product_app = sub_app("Manage the product catalogue.")
integration_app = sub_app("Manage the integration catalogue.")

PRODUCT_COLUMNS = [
    Column("key"), Column("name"), Column("price_per_seat", "price/seat", justify="right"),
    Column("currency"), Column("period"),
]  # fmt: skip
INTEGRATION_COLUMNS = [Column("key"), Column("name"), Column("kind")]


def product_row(p) -> dict:
    return {
        "key": p.key,
        "name": p.name,
        "price_per_seat": p.price_per_seat,
        "currency": p.currency,
        "period": p.period,
    }


@product_app.command("add")
def product_add(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Product key, e.g. bookkeeping-plus.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    price_per_seat: Annotated[str, typer.Option("--price-per-seat", help="Price per seat, e.g. 12.50.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")] = "EUR",
    period: Annotated[str, typer.Option("--period", help="monthly or yearly.")] = "monthly",
) -> None:
    """Add a product priced per seat (admins only)."""
    from partnerctl.services import catalog

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        p = catalog.create_product(
            s,
            app_ctx.actor(s),
            key=key,
            name=name,
            price_per_seat=price_per_seat,
            currency=currency,
            period=period,
        )
        row = product_row(p)
    app_ctx.out.message(
        f"added product {row['key']} ({row['price_per_seat']} {row['currency']} per seat, {row['period']})"
    )


@product_app.command("list")
def product_list(ctx: typer.Context) -> None:
    """List products."""
    from partnerctl.services import catalog

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [product_row(p) for p in catalog.list_products(s)]
    app_ctx.out.rows(rows, PRODUCT_COLUMNS, empty="no products: add one with `partnerctl product add`")


@integration_app.command("add")
def integration_add(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Integration key, e.g. exact-online.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    kind: Annotated[str, typer.Option("--kind", help="accounting, identity or other.")] = "other",
) -> None:
    """Add an integration (admins only)."""
    from partnerctl.services import catalog

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        i = catalog.create_integration(s, app_ctx.actor(s), key=key, name=name, kind=kind)
        key_norm = i.key
    app_ctx.out.message(f"added integration {key_norm}")


@integration_app.command("list")
def integration_list(ctx: typer.Context) -> None:
    """List integrations."""
    from partnerctl.services import catalog

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [{"key": i.key, "name": i.name, "kind": i.kind} for i in catalog.list_integrations(s)]
    app_ctx.out.rows(
        rows, INTEGRATION_COLUMNS, empty="no integrations: add one with `partnerctl integration add`"
    )
