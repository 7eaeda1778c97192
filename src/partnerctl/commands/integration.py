"""`partnerctl integration ...`: the integration catalogue."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.output import Column

app = sub_app("Manage the integration catalogue.")

INTEGRATION_COLUMNS = [Column("key"), Column("name"), Column("kind")]


@app.command("add")
def add(
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


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List integrations."""
    from partnerctl.services import catalog

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [catalog.integration_snapshot(i) for i in catalog.list_integrations(s)]
    app_ctx.out.rows(
        rows, INTEGRATION_COLUMNS, empty="no integrations: add one with `partnerctl integration add`"
    )
