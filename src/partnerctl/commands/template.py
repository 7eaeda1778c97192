"""`partnerctl template ...`: configuration templates, the default one, TOML files, diff and apply."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.output import Column

app = sub_app("Manage configuration templates applied when clients are onboarded.")

TEMPLATE_COLUMNS = [
    Column("name"),
    Column("default"),
    Column("version", justify="right"),
    Column("users"),
    Column("product"),
    Column("integrations"),
    Column("description"),
]

NameArg = Annotated[str, typer.Argument(help="Template name (case-insensitive).")]
Users = Annotated[list[str] | None, typer.Option("--user", help="Assign this partner user (repeatable).")]
Product = Annotated[str | None, typer.Option("--product", help="Subscribe new clients to this product.")]
Payer = Annotated[str | None, typer.Option("--payer", help="Who pays the product: partner or client.")]
Seats = Annotated[int | None, typer.Option("--seats", help="Seats of the product subscription.")]
Accept = Annotated[
    bool, typer.Option("--accept-pricing", help="Confirm you understand the product's pricing.")
]
Integrations = Annotated[
    list[str] | None, typer.Option("--integration", help="Connect this integration (repeatable).")
]
Currency = Annotated[str | None, typer.Option("--currency", help="Default currency of new clients.")]
Language = Annotated[str | None, typer.Option("--language", help="Default language of new clients.")]
Permissions = Annotated[
    list[str] | None, typer.Option("--permission", help="Client-portal module to allow (repeatable).")
]
Groups = Annotated[
    list[str] | None, typer.Option("--group", help="Put new clients in this group (repeatable).")
]


def template_row(t) -> dict:
    s = t.settings or {}
    product = s.get("product")
    return {
        "name": t.name,
        "default": t.is_default,
        "version": t.version,
        "description": t.description,
        "users": s.get("users", []),
        "product": f"{product['key']} x{product.get('seats', 1)} ({product.get('payer', 'partner')} pays)"
        if product
        else "",
        "integrations": s.get("integrations", []),
        "currency": s.get("currency"),
        "language": s.get("language"),
        "permissions": s.get("permissions", []),
        "groups": s.get("groups", []),
        "updated_at": t.updated_at,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    description: Annotated[str, typer.Option("--description", help="What the template is for.")] = "",
    user: Users = None,
    product: Product = None,
    payer: Payer = None,
    seats: Seats = None,
    accept_pricing: Accept = False,
    integration: Integrations = None,
    currency: Currency = None,
    language: Language = None,
    permission: Permissions = None,
    group: Groups = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the default template.")] = False,
) -> None:
    """Add a configuration template.

    Example: partnerctl template add small --user bob@acme.example --product bk-plus --payer client --accept-pricing
    """
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    changes = templates.TemplateChanges(
        description=description, users=user or [], product=product, payer=payer, seats=seats,
        accept_pricing=accept_pricing, integrations=integration or [], currency=currency, language=language,
        permissions=permission or [], groups=group or [], default=default,
    )  # fmt: skip
    with app_ctx.session() as s:
        t = templates.create_template(s, app_ctx.actor(s), name, changes)
        row = template_row(t)
    app_ctx.out.message(f"added template {row['name']}" + (" (default)" if row["default"] else ""))


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List templates; the default one is marked."""
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [template_row(t) for t in templates.list_templates(s)]
    app_ctx.out.rows(rows, TEMPLATE_COLUMNS, empty="no templates")


@app.command("show")
def show(ctx: typer.Context, name: NameArg) -> None:
    """Show one template."""
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        row = template_row(templates.get_template(s, name))
    app_ctx.out.item(row, title=row["name"])


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: NameArg,
    new_name: Annotated[str | None, typer.Option("--name", help="Rename the template.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="New description.")] = None,
    user: Users = None,
    remove_user: Annotated[
        list[str] | None, typer.Option("--remove-user", help="Stop assigning this user.")
    ] = None,
    product: Product = None,
    payer: Payer = None,
    seats: Seats = None,
    accept_pricing: Accept = False,
    no_product: Annotated[
        bool, typer.Option("--no-product", help="Subscribe new clients to nothing.")
    ] = False,
    integration: Integrations = None,
    remove_integration: Annotated[
        list[str] | None, typer.Option("--remove-integration", help="Stop connecting this integration.")
    ] = None,
    currency: Currency = None,
    no_currency: Annotated[bool, typer.Option("--no-currency", help="Drop the default currency.")] = False,
    language: Language = None,
    no_language: Annotated[bool, typer.Option("--no-language", help="Drop the default language.")] = False,
    permission: Permissions = None,
    remove_permission: Annotated[
        list[str] | None, typer.Option("--remove-permission", help="Stop allowing this module.")
    ] = None,
    group: Groups = None,
    remove_group: Annotated[
        list[str] | None, typer.Option("--remove-group", help="Stop adding this group.")
    ] = None,
) -> None:
    """Change a template (its version goes up; existing clients are not changed)."""
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    changes = templates.TemplateChanges(
        new_name=new_name, description=description, users=user or [], remove_users=remove_user or [],
        product=product, payer=payer, seats=seats, accept_pricing=accept_pricing, no_product=no_product,
        integrations=integration or [], remove_integrations=remove_integration or [], currency=currency,
        no_currency=no_currency, language=language, no_language=no_language, permissions=permission or [],
        remove_permissions=remove_permission or [], groups=group or [], remove_groups=remove_group or [],
    )  # fmt: skip
    with app_ctx.session() as s:
        t = templates.edit_template(s, app_ctx.actor(s), name, changes)
        label, version = t.name, t.version
    app_ctx.out.message(f"updated template {label} (now version {version}); existing clients are unchanged")


@app.command("set-default")
def set_default(ctx: typer.Context, name: NameArg) -> None:
    """Make a template the default one (exactly one is)."""
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        t, previous = templates.set_default(s, app_ctx.actor(s), name)
        label = t.name
    if previous == label:
        app_ctx.out.message(f"{label} is already the default template")
    else:
        app_ctx.out.message(f"default template: {label}" + (f" (was {previous})" if previous else ""))


@app.command("remove")
def remove(ctx: typer.Context, name: NameArg) -> None:
    """Remove a template (not the default one); clients created from it keep their settings."""
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        removed = templates.remove_template(s, app_ctx.actor(s), name)
    app_ctx.out.message(f"removed template {removed}")


@app.command("export")
def export(
    ctx: typer.Context,
    name: NameArg,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Write a template as TOML, e.g. to keep it in git."""
    import tomli_w

    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        doc = templates.export_template(s, name)
    text = tomli_w.dumps(doc)
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        app_ctx.out.message(f"wrote template {doc['name']} to {file}")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="TOML file written by `template export` ('-' for stdin).")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a template of the same name.")
    ] = False,
) -> None:
    """Read a template from a TOML file."""
    import sys
    import tomllib

    from partnerctl.errors import InvalidInput
    from partnerctl.services import templates

    app_ctx = get_ctx(ctx)
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        doc = tomllib.loads(text)
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{file} is not valid TOML: {exc}") from None
    with app_ctx.session() as s:
        t, created = templates.import_template(s, app_ctx.actor(s), doc, replace=replace)
        label, version = t.name, t.version
    app_ctx.out.message(f"{'imported' if created else 'replaced'} template {label} (version {version})")


def _change_rows(results) -> list[dict]:
    return [
        {"client": r.ref, "setting": c["setting"], "from": c["client"], "to": c["template"]}
        for r in results
        for c in r.changes
    ]


@app.command("diff")
def diff(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help="Client reference (default: the current client).")] = None,
) -> None:
    """Show how a client's settings now differ from its template's current version."""
    from partnerctl.commands.client import current_ref
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        client, template, rows = clients.diff_client(s, app_ctx.actor(s), current_ref(app_ctx, ref))
        head = (
            f"{client.ref} was created from {template.name} version {client.template_version}; "
            f"the template is now at version {template.version}"
        )
    app_ctx.out.message(head)
    cols = [Column("setting"), Column("client"), Column("template"), Column("differs")]
    app_ctx.out.rows(rows, cols, empty="the template sets nothing")


@app.command("apply")
def apply(
    ctx: typer.Context,
    name: NameArg,
    client: Annotated[
        list[str] | None, typer.Option("--client", help="Client reference (repeatable).")
    ] = None,
    all_from: Annotated[
        str | None, typer.Option("--all-from", help="Every client created from this template.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
) -> None:
    """Re-apply a template to clients on purpose and show what changes.

    Example: partnerctl template apply small --all-from small --dry-run
    """
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=dry_run) as s:
        results = clients.apply_template(
            s, app_ctx.actor(s), name, refs=client or [], all_from=all_from, dry_run=dry_run
        )
    rows = _change_rows(results)
    cols = [Column("client"), Column("setting"), Column("from"), Column("to")]
    app_ctx.out.rows(rows, cols, empty="nothing to change")
    changed = len({r["client"] for r in rows})
    verb = "would change" if dry_run else "changed"
    app_ctx.out.message(f"{verb} {changed} of {len(results)} client(s)")
