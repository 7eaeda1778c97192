"""`partnerctl product ...`: the product catalogue (priced per seat)."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.output import Column

app = sub_app("Manage the product catalogue.")

PRODUCT_COLUMNS = [
    Column("key"), Column("name"), Column("price_per_seat", "price/seat", justify="right"),
    Column("currency"), Column("period"),
]  # fmt: skip


@app.command("add")
def add(
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
        row = catalog.product_snapshot(p)
    app_ctx.out.message(
        f"added product {row['key']} ({row['price_per_seat']} {row['currency']} per seat, {row['period']})"
    )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List products."""
    from partnerctl.services import catalog

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [catalog.product_snapshot(p) for p in catalog.list_products(s)]
    app_ctx.out.rows(rows, PRODUCT_COLUMNS, empty="no products: add one with `partnerctl product add`")
