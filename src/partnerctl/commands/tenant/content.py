"""`partnerctl tenant content ...`: a tenant's content items, and copying them down the tree."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.commands.tenant._common import TenantArg, print_tenant_rows, read_file, tenant_or_current
from partnerctl.output import Column

HELP = "Manage a tenant's content and copy it down the tree."
app = sub_app(HELP)

CONTENT_COLUMNS = [
    Column("name"),
    Column("size", justify="right"),
    Column("sha256"),
    Column("copied_from"),
    Column("updated_at"),
    Column("tenant"),
]
COPY_COLUMNS = [Column("tenant"), Column("item"), Column("action")]


@app.command("add")
def add(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant.")],
    name: Annotated[
        str, typer.Argument(help="Name of the content item (unique in the tenant, ignoring case).")
    ],
    file: Annotated[Path, typer.Option("--file", help="The file with the content (at most 5 MiB).")],
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an item of the same name.")] = False,
) -> None:
    """Add a content item to a tenant from a file."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    data = read_file(file, "content")
    with app_ctx.session() as s:
        item, action = tenants.add_content(s, app_ctx.actor(s), tenant, name, data, replace=replace)
        item_name, size = item.name, item.size
    app_ctx.out.message(f"{action} {item_name!r} ({size} bytes)")


@app.command("list")
def list_(ctx: typer.Context, tenant: TenantArg = None) -> None:
    """List a tenant's content items."""
    from partnerctl.services import tenants

    print_tenant_rows(ctx, tenant, tenants.list_contents, CONTENT_COLUMNS, "no content")


@app.command("remove")
def remove(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant.")],
    name: Annotated[str, typer.Argument(help="The content item.")],
) -> None:
    """Remove a content item from a tenant."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        tenants.remove_content(s, app_ctx.actor(s), tenant, name)
    app_ctx.out.message(f"removed {name.strip()!r}")


@app.command("copy")
def copy(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Option("--from", help="Copy from this tenant (default: the current one).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Copy to this tenant, which must be below --from.")
    ] = None,
    item: Annotated[
        list[str] | None, typer.Option("--item", help="Only this item (repeatable; default: all of them).")
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", help="Also copy to every tenant below --to (or below --from).")
    ] = False,
    on_existing: Annotated[
        str, typer.Option("--on-existing", help="When the target has an item of that name: skip or replace.")
    ] = "skip",
) -> None:
    """Copy content from a tenant to tenants below it (never upward or across branches).

    Example: partnerctl tenant content copy --from "Acme Partners" --recursive --on-existing replace
    """
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    src = tenant_or_current(app_ctx, source)
    with app_ctx.session() as s:
        lines = tenants.copy_content(
            s,
            app_ctx.actor(s),
            source=src,
            to=to,
            items=item or (),
            recursive=recursive,
            on_existing=on_existing,
        )
    counts = tenants.copy_counts(lines)
    app_ctx.out.rows([asdict(ln) for ln in lines], COPY_COLUMNS)
    targets = len({ln.tenant for ln in lines})
    app_ctx.out.message(
        f"copied to {targets} tenant(s): added {counts['added']}, replaced {counts['replaced']}, "
        f"skipped {counts['skipped']} (already there; --on-existing replace overwrites), "
        f"unchanged {counts['unchanged']}"
    )
