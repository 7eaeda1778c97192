"""`partnerctl tenant ...`: the tenant tree, administrators, hand-over, the current tenant, content copy."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, read_secret_stdin, sub_app
from partnerctl.context import AppContext
from partnerctl.errors import Conflict, InvalidInput
from partnerctl.output import Column

app = sub_app("Manage tenants: the hierarchy under your master tenant, administrators, hand-over, content.")
admin_app = sub_app("Manage a tenant's administrators (strong, never reused passwords).")
content_app = sub_app("Manage a tenant's content and copy it down the tree.")
app.add_typer(
    admin_app, name="admin", help="Manage a tenant's administrators (strong, never reused passwords)."
)
app.add_typer(content_app, name="content", help="Manage a tenant's content and copy it down the tree.")

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
ADMIN_COLUMNS = [
    Column("email"),
    Column("username"),
    Column("name"),
    Column("password_changed_at"),
    Column("tenant"),
]
CONTENT_COLUMNS = [
    Column("name"),
    Column("size", justify="right"),
    Column("sha256"),
    Column("copied_from"),
    Column("updated_at"),
    Column("tenant"),
]
COPY_COLUMNS = [Column("tenant"), Column("item"), Column("action")]
CHECK_COLUMNS = [Column("item"), Column("result"), Column("detail")]

TenantArg = Annotated[
    str | None,
    typer.Argument(help="The tenant (default: the current one, see `partnerctl tenant use`)."),
]


def _tenant_or_current(app_ctx: AppContext, tenant: str | None) -> str:
    if tenant:
        return tenant
    current = app_ctx.profile.get("tenant")
    if not current:
        raise InvalidInput(
            "no TENANT given and no current tenant",
            hint="pass TENANT, or switch into one with `partnerctl tenant use NAME`",
        )
    return current


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} file {str(path)!r}: {exc.strerror}") from None


def _info_row(info) -> dict:
    return asdict(info)


# -- tenants -------------------------------------------------------------------------------------


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
    logo_bytes = _read_file(logo, "logo") if logo is not None else None
    with app_ctx.session() as s:
        tenant = tenants.create_tenant(
            s,
            app_ctx.actor(s),
            name=name,
            parent=parent,
            type_=type_,
            edition=edition,
            charset=charset,
            logo=logo_bytes,
            client_ref=client,
        )
        info = tenants.describe_tenant(s, tenant.name)
    app_ctx.out.message(f"added {info.type} tenant {info.name!r} below {info.parent!r}")
    if info.needs_setup:
        app_ctx.out.message(
            "it starts empty and needs setup before it can send; then `tenant edit --configured`"
        )
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(_info_row(info))


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
        app_ctx.actor(s)
        rows = [_info_row(i) for i in tenants.list_tenants(s, search=search, type_=type_, parent=parent)]
    app_ctx.out.rows(rows, TENANT_COLUMNS, empty="no tenants")


def _tree_json(tree, node_id: int) -> dict:
    # Iterative, so a very deep chain never hits Python's recursion limit.
    def shell(n):
        return {
            "name": n.name,
            "type": n.type,
            "edition": n.edition,
            "admins": n.admins,
            "status": n.status,
            "children": [],
        }

    root = shell(tree.nodes[node_id])
    stack = [(node_id, root)]
    while stack:
        nid, out = stack.pop()
        for child_id in tree.nodes[nid].children:
            child = shell(tree.nodes[child_id])
            out["children"].append(child)
            stack.append((child_id, child))
    return root


# Rich lays out every node's label on its own (~0.3-1 ms each); above this many nodes `tenant tree`
# writes the same guide lines itself, so 10,000 tenants print in well under a second.
RICH_TREE_MAX_NODES = 2000
_GUIDES = ("    ", "│   ", "├── ", "└── ")  # rich.tree.Tree.TREE_GUIDES[0]


def _node_details(n) -> str:
    admins = f"{n.admins} admin" + ("" if n.admins == 1 else "s")
    return f"  {n.type.upper()} · {n.edition} · {admins} · "


def render_tree(tree):
    """A Rich Tree of the hierarchy: name, then type, edition, admin count and status."""
    from rich.text import Text
    from rich.tree import Tree

    def label(n) -> Text:
        return Text.assemble((n.name, "bold"), _node_details(n), (n.status, "italic"))

    roots = tree.root_ids
    top = Tree(label(tree.nodes[roots[0]])) if len(roots) == 1 else Tree("tenants")
    handles = {}
    if len(roots) == 1:
        handles[roots[0]] = top
    else:
        for r in roots:
            handles[r] = top.add(label(tree.nodes[r]))
    # Nodes come ordered by depth, so a parent always has its handle before its children.
    for n in tree.nodes.values():
        if n.id in handles:
            continue
        handles[n.id] = handles[n.parent_id].add(label(n))
    return top


def tree_lines(tree) -> list[str]:
    """The same picture as render_tree, as plain lines, in time linear in the nodes (iterative)."""
    space, cont, fork, end = _GUIDES
    lines: list[str] = []

    def text(n) -> str:
        return n.name + _node_details(n) + n.status

    roots = tree.root_ids
    if len(roots) == 1:
        lines.append(text(tree.nodes[roots[0]]))
        stack = [("", list(reversed(tree.nodes[roots[0]].children)))]
    else:
        lines.append("tenants")
        stack = [("", list(reversed(roots)))]
    while stack:
        prefix, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        node = tree.nodes[pending.pop()]
        last = not pending
        lines.append(prefix + (end if last else fork) + text(node))
        if node.children:
            stack.append((prefix + (space if last else cont), list(reversed(node.children))))
    return lines


@app.command("tree")
def tree(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Show only this tenant and what is below it.")] = None,
) -> None:
    """Print the tenant hierarchy as a tree, with type, edition, admin count and status."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        result = tenants.tenant_tree(s, name)
    out = app_ctx.out
    if not result.nodes:
        out.message("no tenants yet; `partnerctl tenant add NAME` creates one below your master tenant")
        return
    if out.format in ("json", "jsonl"):
        out.value(
            [_tree_json(result, r) for r in result.root_ids]
            if len(result.root_ids) > 1
            else _tree_json(result, result.root_ids[0])
        )
    elif app_ctx.output_format in (None, "table"):
        if len(result) <= RICH_TREE_MAX_NODES:
            out.console().print(render_tree(result))
        else:
            out.stdout.write("\n".join(tree_lines(result)) + "\n")
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
        app_ctx.actor(s)
        tenant_name = _tenant_or_current(app_ctx, name)
        info = tenants.describe_tenant(s, tenant_name)
        logo = tenants.get_logo(s, tenant_name) if save_logo else None
    if save_logo is not None:
        if logo is None:
            raise InvalidInput(f"{info.name!r} has no logo; its name shows instead")
        save_logo.write_bytes(logo[0])
        app_ctx.out.message(f"wrote the {logo[1]} logo to {save_logo}")
    app_ctx.out.item(_info_row(info), title=info.name)


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
    logo_bytes = _read_file(logo, "logo") if logo is not None else None
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
    profile = app_ctx.profile
    current = profile.get("tenant")
    if current and name_key(current) == name_key(name) and current != final:
        profile.set("tenant", final)
        app_ctx.settings.profiles[profile.name] = profile
        app_ctx.save_settings()
        app_ctx.out.message(f"the current tenant of profile {profile.name!r} is now {final!r}")


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
    profile = app_ctx.profile
    current = profile.get("tenant")
    if current and name_key(current) in {name_key(r) for r in removed}:
        profile.unset("tenant")
        app_ctx.settings.profiles[profile.name] = profile
        app_ctx.save_settings()
        app_ctx.out.message(f"profile {profile.name!r} no longer has a current tenant")
    if app_ctx.out.format in ("json", "jsonl", "ids"):
        app_ctx.out.rows([{"name": r} for r in removed], [Column("name")])


@app.command("handover")
def handover(ctx: typer.Context, tenant: TenantArg = None) -> None:
    """Check a tenant is ready for its customer, print the checklist, and mark it handed over."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        result = tenants.handover_tenant(s, app_ctx.actor(s), _tenant_or_current(app_ctx, tenant))
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
    if result.admins > tenants.ADVISED_MAX_ADMINS:
        out.warn(
            f"{result.tenant!r} has {result.admins} administrators; keep the administrator role to as few as possible"
        )
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
        had = profile.unset("tenant")
        app_ctx.settings.profiles[profile.name] = profile
        app_ctx.save_settings()
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
        tenant = tenants.get_tenant(s, name)
        final, email, role = tenant.name, actor.email, str(actor.role)
    profile.set("tenant", final)
    app_ctx.settings.profiles[profile.name] = profile
    app_ctx.save_settings()
    app_ctx.out.message(f"now working in tenant {final!r} as {email} ({role}); tenant commands default to it")


# -- administrators ------------------------------------------------------------------------------


def _obtain_password(
    app_ctx: AppContext, password_stdin: bool, generate: bool, password_file: Path | None
) -> tuple[str, bool]:
    if password_stdin == generate:
        raise InvalidInput(
            "pass exactly one of --password-stdin or --generate-password",
            hint="a password is never taken from the command line: it would show in `ps` and shell history",
        )
    if password_file is not None:
        if not generate:
            raise InvalidInput("--password-file goes with --generate-password")
        if password_file.exists():
            raise InvalidInput(f"{str(password_file)!r} already exists; it is never overwritten")
        if not password_file.parent.is_dir():
            raise InvalidInput(f"the directory of {str(password_file)!r} does not exist")
    if generate:
        from partnerctl.services.tenants import generate_password

        return generate_password(), True
    return read_secret_stdin("password", app_ctx), False


def _write_password_file(path: Path, password: str) -> None:
    # O_EXCL with mode 0600: only the owner can read it and an existing file is never replaced.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{str(path)!r} already exists; it is never overwritten") from None
    except OSError as exc:
        raise InvalidInput(f"cannot create {str(path)!r}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")


def _deliver_generated(app_ctx: AppContext, email: str, password: str, password_file: Path | None) -> None:
    if password_file is not None:
        app_ctx.out.message(f"the generated password for {email} is in {password_file} (mode 0600)")
    else:
        typer.echo(f"generated password for {email} (shown once, pass it on safely): {password}", err=True)


def _with_password(app_ctx: AppContext, generated: bool, password: str, password_file: Path | None, work):
    """Run work(session) in one transaction; a generated password goes to its file before the commit."""
    written = False
    try:
        with app_ctx.session() as s:
            result = work(s)
            if generated and password_file is not None:
                _write_password_file(password_file, password)
                written = True
    except BaseException:
        if written:
            password_file.unlink(missing_ok=True)
        raise
    return result


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (never from the command line).")
]
GeneratePassword = Annotated[
    bool, typer.Option("--generate-password", help="Generate a strong password, shown once on stderr.")
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="With --generate-password: write it to this new file (mode 0600)."),
]


@admin_app.command("add")
def admin_add(
    ctx: typer.Context,
    tenant: TenantArg = None,
    email: Annotated[
        str, typer.Option("--email", help="The administrator's e-mail (valid and active).")
    ] = "",
    username: Annotated[
        str | None, typer.Option("--username", help="Login name (default and advice: the e-mail).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The administrator's name.")] = "",
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    password_file: PasswordFile = None,
) -> None:
    """Add an administrator to a tenant, with a strong password that no other administrator uses.

    Example: partnerctl tenant admin add "Bakery Berlin" --email eva@bakery.example --generate-password
    """
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    if not email:
        raise InvalidInput("--email is required")
    tenant_name = _tenant_or_current(app_ctx, tenant)
    password, generated = _obtain_password(app_ctx, password_stdin, generate_password, password_file)

    def work(s):
        admin, count = tenants.add_admin(
            s, app_ctx.actor(s), tenant_name, email=email, password=password, username=username, name=name
        )
        t = tenants.get_tenant(s, tenant_name)
        return {"tenant": t.name, "email": admin.email, "username": admin.username, "name": admin.name}, count

    row, count = _with_password(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"added administrator {row['email']} to {row['tenant']!r}")
    if generated:
        _deliver_generated(app_ctx, row["email"], password, password_file)
    if count > tenants.ADVISED_MAX_ADMINS:
        app_ctx.out.warn(
            f"{row['tenant']!r} now has {count} administrators; keep the administrator role to as few as possible"
        )
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(row)


@admin_app.command("list")
def admin_list(ctx: typer.Context, tenant: TenantArg = None) -> None:
    """List a tenant's administrators (never their passwords)."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = tenants.list_admins(s, _tenant_or_current(app_ctx, tenant))
    app_ctx.out.rows(rows, ADMIN_COLUMNS, empty="no administrators")


@admin_app.command("remove")
def admin_remove(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant.")],
    email: Annotated[str, typer.Argument(help="The administrator's e-mail.")],
) -> None:
    """Remove an administrator (the last one of a handed-over tenant stays)."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        remaining = tenants.remove_admin(s, app_ctx.actor(s), tenant, email)
    app_ctx.out.message(f"removed administrator {email.strip().lower()}; {remaining} left")


@admin_app.command("reset-password")
def admin_reset_password(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant.")],
    email: Annotated[str, typer.Argument(help="The administrator's e-mail.")],
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    password_file: PasswordFile = None,
) -> None:
    """Give an administrator a new strong password (from stdin or generated)."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    password, generated = _obtain_password(app_ctx, password_stdin, generate_password, password_file)

    def work(s):
        admin = tenants.reset_admin_password(s, app_ctx.actor(s), tenant, email, password)
        return admin.email

    address = _with_password(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"set a new password for {address}")
    if generated:
        _deliver_generated(app_ctx, address, password, password_file)


# -- content -------------------------------------------------------------------------------------


@content_app.command("add")
def content_add(
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
    data = _read_file(file, "content")
    with app_ctx.session() as s:
        item, action = tenants.add_content(s, app_ctx.actor(s), tenant, name, data, replace=replace)
        item_name, size = item.name, item.size
    app_ctx.out.message(f"{action} {item_name!r} ({size} bytes)")


@content_app.command("list")
def content_list(ctx: typer.Context, tenant: TenantArg = None) -> None:
    """List a tenant's content items."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = tenants.list_contents(s, _tenant_or_current(app_ctx, tenant))
    app_ctx.out.rows(rows, CONTENT_COLUMNS, empty="no content")


@content_app.command("remove")
def content_remove(
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


@content_app.command("copy")
def content_copy(
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
    src = _tenant_or_current(app_ctx, source)
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
    counts = {
        a: sum(1 for ln in lines if ln.action == a) for a in ("added", "replaced", "skipped", "unchanged")
    }
    app_ctx.out.rows([asdict(ln) for ln in lines], COPY_COLUMNS)
    targets = len({ln.tenant for ln in lines})
    app_ctx.out.message(
        f"copied to {targets} tenant(s): added {counts['added']}, replaced {counts['replaced']}, "
        f"skipped {counts['skipped']} (already there; --on-existing replace overwrites), "
        f"unchanged {counts['unchanged']}"
    )
