"""`partnerctl tenant ...`: the tenant tree, hand-over, the current tenant; `admin` and `content` below."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.commands.tenant import admin, content
from partnerctl.commands.tenant._common import TenantArg, read_file, tenant_or_current, warn_if_many_admins
from partnerctl.errors import Conflict, InvalidInput
from partnerctl.output import Column
from partnerctl.output import tree as tree_output
from partnerctl.output.tree import TreeView

__all__ = ["app", "render_tree", "tree_lines", "tree_view"]

app = sub_app("Manage tenants: the hierarchy under your master tenant, administrators, hand-over, content.")
app.add_typer(admin.app, name="admin", help=admin.HELP)
app.add_typer(content.app, name="content", help=content.HELP)

TENANT_COLUMNS = [
    Column("name"),
    Column("parent"),
    Column("type"),
    Column("edition"),
    Column("charset"),
    Column("admins", justify="right"),
    Column("status"),
    Column("client"),
    Column("logo"),
]
TREE_COLUMNS = [
    Column("name"),
    Column("parent"),
    Column("depth", justify="right"),
    Column("type"),
    Column("edition"),
    Column("admins", justify="right"),
    Column("status"),
]
CHECK_COLUMNS = [Column("item"), Column("result"), Column("detail")]
LABEL_STYLES = ("bold", "", "italic")  # a tree node: its name, then type, edition and admins, then status


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant's name (unique, ignoring case).")],
    parent: Annotated[
        str | None,
        typer.Option("--parent", help="Create it below this tenant (default: your master tenant)."),
    ] = None,
    type_: Annotated[
        str, typer.Option("--type", help="standard (fully featured, UTF-8) or custom (empty, needs setup).")
    ] = "standard",
    edition: Annotated[str, typer.Option("--edition", help="basic, professional or enterprise.")] = "basic",
    charset: Annotated[
        str | None, typer.Option("--charset", help="Character set (STANDARD tenants are always UTF-8).")
    ] = None,
    logo: Annotated[
        Path | None,
        typer.Option("--logo", help="PNG, JPEG, GIF or WebP; at most 256 KiB and 600x300 pixels."),
    ] = None,
    client: Annotated[str | None, typer.Option("--client", help="Reference of the client it is for.")] = None,
) -> None:
    """Create a tenant below your master tenant (or below --parent).

    Example: partnerctl tenant add "Bakery Berlin" --edition basic --logo logo.png
    """
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    logo_bytes = read_file(logo, "logo") if logo is not None else None
    with app_ctx.session() as s:
        actor = app_ctx.actor(s)
        tenant = tenants.create_tenant(
            s,
            actor,
            name=name,
            parent=parent,
            type_=type_,
            edition=edition,
            charset=charset,
            logo=logo_bytes,
            client_ref=client,
        )
        info = tenants.describe_tenant(s, actor, tenant.name)
    app_ctx.out.message(f"added {info.type} tenant {info.name!r} below {info.parent!r}")
    if info.needs_setup:
        app_ctx.out.message(
            "it starts empty and needs setup before it can send; then `tenant edit --configured`"
        )
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(asdict(info))


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option("--search", help="Only names containing this text.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only standard or only custom tenants.")] = None,
    parent: Annotated[
        str | None, typer.Option("--parent", help="Only the tenants directly below this one.")
    ] = None,
) -> None:
    """List tenants with their parent, type, edition, administrators and status."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        actor = app_ctx.actor(s)
        rows = [asdict(i) for i in tenants.list_tenants(s, actor, search=search, type_=type_, parent=parent)]
    app_ctx.out.rows(rows, TENANT_COLUMNS, empty="no tenants")


def _label(n) -> tuple[str, str, str]:
    plural = "" if n.admins == 1 else "s"
    return n.name, f"  {n.type.upper()} · {n.edition} · {n.admins} admin{plural} · ", n.status


def _children(tree) -> dict[int, list[int]]:
    return {i: n.children for i, n in tree.nodes.items()}


def tree_view(tree) -> TreeView:
    """The tenant tree as plain labelled nodes: name, then type, edition, admin count and status."""
    labels = {i: _label(n) for i, n in tree.nodes.items()}
    return TreeView(tree.root_ids, _children(tree), labels, styles=LABEL_STYLES, title="tenants")


def render_tree(tree):
    """The tenant tree as a rich.tree.Tree (what `tenant tree` draws up to RICH_TREE_MAX_NODES nodes)."""
    return tree_output.render_tree(tree_view(tree))


def tree_lines(tree) -> list[str]:
    """The tenant tree as plain lines (what `tenant tree` writes above RICH_TREE_MAX_NODES nodes)."""
    return tree_output.tree_lines(tree_view(tree))


def _json_record(n) -> dict:
    return {"name": n.name, "type": n.type, "edition": n.edition, "admins": n.admins, "status": n.status}


@app.command("tree")
def tree(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Show only this tenant and what is below it.")] = None,
) -> None:
    """Print the tenant hierarchy as a tree, with type, edition, admin count and status."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        result = tenants.tenant_tree(s, app_ctx.actor(s), name)
    out = app_ctx.out
    if not result.nodes:
        out.message("no tenants yet; `partnerctl tenant add NAME` creates one below your master tenant")
        return
    if out.format in ("json", "jsonl"):
        forest = tree_output.nested(
            result.root_ids, _children(result), lambda i: _json_record(result.nodes[i])
        )
        out.value(forest if len(forest) > 1 else forest[0])
    elif app_ctx.output_format in (None, "table"):
        tree_output.print_tree(out, tree_view(result))
    else:
        names = {n.id: n.name for n in result.nodes.values()}
        rows = [
            {**asdict(n), "parent": names.get(n.parent_id) if n.parent_id else None}
            for n in result.nodes.values()
        ]
        out.rows(rows, TREE_COLUMNS)


@app.command("show")
def show(
    ctx: typer.Context,
    name: TenantArg = None,
    save_logo: Annotated[
        Path | None, typer.Option("--save-logo", help="Write the stored logo to this file.")
    ] = None,
) -> None:
    """Show one tenant: type, edition, charset, logo (or that its name shows), admins, status."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        actor = app_ctx.actor(s)
        tenant_name = tenant_or_current(app_ctx, name)
        info = tenants.describe_tenant(s, actor, tenant_name)
        logo = tenants.get_logo(s, actor, tenant_name) if save_logo else None
    if save_logo is not None:
        if logo is None:
            raise InvalidInput(f"{info.name!r} has no logo; its name shows instead")
        save_logo.write_bytes(logo[0])
        app_ctx.out.message(f"wrote the {logo[1]} logo to {save_logo}")
    app_ctx.out.item(asdict(info), title=info.name)


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant to change.")],
    new_name: Annotated[str | None, typer.Option("--name", help="Rename it.")] = None,
    edition: Annotated[
        str | None, typer.Option("--edition", help="basic, professional or enterprise.")
    ] = None,
    charset: Annotated[
        str | None, typer.Option("--charset", help="Character set (STANDARD tenants are always UTF-8).")
    ] = None,
    logo: Annotated[
        Path | None, typer.Option("--logo", help="Replace the logo (PNG, JPEG, GIF, WebP).")
    ] = None,
    remove_logo: Annotated[
        bool, typer.Option("--remove-logo", help="Remove the logo; the name shows.")
    ] = False,
    client: Annotated[str | None, typer.Option("--client", help="Reference of the client it is for.")] = None,
    no_client: Annotated[bool, typer.Option("--no-client", help="Unlink it from its client.")] = False,
    configured: Annotated[
        bool | None,
        typer.Option(
            "--configured/--needs-setup", help="Mark a CUSTOM tenant as set up (or as needing setup)."
        ),
    ] = None,
) -> None:
    """Change a tenant's name, edition, charset, logo, client or setup state."""
    from partnerctl.services import tenants
    from partnerctl.services.tenants import name_key

    app_ctx = get_ctx(ctx)
    logo_bytes = read_file(logo, "logo") if logo is not None else None
    with app_ctx.session() as s:
        tenant = tenants.edit_tenant(
            s,
            app_ctx.actor(s),
            name,
            new_name=new_name,
            edition=edition,
            charset=charset,
            logo=logo_bytes,
            remove_logo=remove_logo,
            client_ref=client,
            remove_client=no_client,
            configured=configured,
        )
        final = tenant.name
    app_ctx.out.message(f"updated tenant {final!r}")
    # Keep `tenant use` pointing at the tenant it meant when it is renamed.
    current = app_ctx.profile.get("tenant")
    if current and name_key(current) == name_key(name) and current != final:
        app_ctx.set_current("tenant", final)
        app_ctx.out.message(f"the current tenant of profile {app_ctx.profile.name!r} is now {final!r}")


@app.command("move")
def move(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant to move (with everything below it).")],
    parent: Annotated[str, typer.Option("--parent", help="Its new parent (not itself, not below it).")],
) -> None:
    """Move a tenant (and its subtree) below another parent; a cycle is refused."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        tenant = tenants.move_tenant(s, app_ctx.actor(s), name, parent)
        final = tenant.name
    app_ctx.out.message(f"moved {final!r} below {parent.strip()!r}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant to remove.")],
    recursive: Annotated[
        bool, typer.Option("--recursive", help="Also remove every tenant below it (needs --yes).")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm a recursive removal without asking.")
    ] = False,
) -> None:
    """Remove a tenant with its administrators and content; children need --recursive --yes, handed-over --yes."""
    from partnerctl.services import tenants
    from partnerctl.services.tenants import name_key

    app_ctx = get_ctx(ctx)
    if recursive and not yes:
        if app_ctx.no_input or not sys.stdin.isatty():
            raise InvalidInput("--recursive removes every tenant below it too: pass --yes to confirm")
        if not typer.confirm(f"Remove {name!r} and every tenant below it?", default=False):
            raise typer.Exit(1)
    with app_ctx.session() as s:
        removed = tenants.remove_tenant(s, app_ctx.actor(s), name, recursive=recursive, confirmed=yes)
    app_ctx.out.message(
        f"removed {removed[0]!r}"
        + (f" and {len(removed) - 1} tenant(s) below it" if len(removed) > 1 else "")
    )
    current = app_ctx.profile.get("tenant")
    if current and name_key(current) in {name_key(r) for r in removed}:
        app_ctx.set_current("tenant", None)
        app_ctx.out.message(f"profile {app_ctx.profile.name!r} no longer has a current tenant")
    if app_ctx.out.format in ("json", "jsonl", "ids"):
        app_ctx.out.rows([{"name": r} for r in removed], [Column("name")])


@app.command("handover")
def handover(ctx: typer.Context, tenant: TenantArg = None) -> None:
    """Check a tenant is ready for its customer, print the checklist, and mark it handed over."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        result = tenants.handover_tenant(s, app_ctx.actor(s), tenant_or_current(app_ctx, tenant))
    out = app_ctx.out
    rows = [
        {
            "item": c.item,
            "ok": c.ok,
            "required": c.required,
            "result": "ok" if c.ok else ("missing" if c.required else "advice"),
            "detail": c.detail,
        }
        for c in result.checks
    ]
    if out.format in ("json", "jsonl"):
        out.value({"tenant": result.tenant, "handed_over": result.handed_over, "checks": rows})
    else:
        out.rows(rows, CHECK_COLUMNS, title=f"hand-over checklist: {result.tenant}")
    warn_if_many_admins(app_ctx, result.tenant, result.admins)
    if result.already:
        out.message(f"{result.tenant!r} was already handed over")
    elif result.handed_over:
        out.message(f"{result.tenant!r} is handed over; pass the administrators their credentials on safely")
    else:
        raise Conflict(
            f"{result.tenant!r} is not ready for hand-over: missing {', '.join(c.item for c in result.missing)}"
        )


@app.command("use")
def use(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="The tenant to work in (omit to show the current one).")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Stop working in a tenant.")] = False,
) -> None:
    """Switch this profile's working context into a tenant, with your same role."""
    app_ctx = get_ctx(ctx)
    profile = app_ctx.profile
    if clear:
        if name:
            raise InvalidInput("pass a tenant name or --clear, not both")
        had = app_ctx.set_current("tenant", None)
        app_ctx.out.message("no current tenant" + ("" if had else " (there was none)"))
        return
    if name is None:
        current = profile.get("tenant")
        if app_ctx.out.format in ("json", "jsonl"):
            app_ctx.out.value({"profile": profile.name, "tenant": current})
        elif current:
            print(current, file=app_ctx.out.stdout)
        else:
            app_ctx.out.message("no current tenant; switch into one with `partnerctl tenant use NAME`")
        return
    from partnerctl.services import tenants

    with app_ctx.session(readonly=True) as s:
        actor = app_ctx.actor(s)
        tenant = tenants.get_tenant(s, name, actor)
        final, email, role = tenant.name, actor.email, str(actor.role)
    app_ctx.set_current("tenant", final)
    app_ctx.out.message(f"now working in tenant {final!r} as {email} ({role}); tenant commands default to it")
