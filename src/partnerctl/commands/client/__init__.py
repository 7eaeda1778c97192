"""`partnerctl client ...`: clients, the portal's tabs, search and filters, invitations, the current client."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.commands.client import filters as F
from partnerctl.context import AppContext
from partnerctl.output import Column

app = sub_app("Manage clients: add from a template, list by tab, search, edit, assign, archive.")

CLIENT_COLUMNS = [
    Column("ref"),
    Column("name"),
    Column("status"),
    Column("groups"),
    Column("assigned"),
    Column("missing_receipts", "missing receipts", "right"),
    Column("wallet_balance", "wallet", "right"),
    Column("expenses_ready", "expenses ready", "right"),
    Column("currency", in_table=False),
    Column("language", in_table=False),
    Column("created_at", "created", in_table=False),
]

RefArg = Annotated[
    str | None, typer.Argument(help="Client reference (default: the current client, see `client use`).")
]


def current_ref(app_ctx: AppContext, ref: str | None) -> str:
    """REF, or the profile's current client (`client use REF`) when REF is left out."""
    if ref:
        return ref
    current = app_ctx.profile.get("client")
    if not current:
        from partnerctl.errors import InvalidInput

        raise InvalidInput("no client given: pass REF or pick one with `partnerctl client use REF`")
    return current


def client_row(client, groups=None, assigned=None) -> dict:
    return {
        "ref": client.ref,
        "name": client.name,
        "status": client.status,
        "groups": groups or [],
        "assigned": assigned or [],
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
        "currency": client.currency,
        "language": client.language,
        "created_at": client.created_at,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The client's name; alone it is the portal's quick insert.")],
    ref: Annotated[
        str | None, typer.Option("--ref", help="Unique reference (default: derived from the name).")
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="Configuration template (default: the default one).")
    ] = None,
    no_template: Annotated[bool, typer.Option("--no-template", help="Apply no template at all.")] = False,
    contact_name: Annotated[str | None, typer.Option("--contact-name", help="Contact person.")] = None,
    contact_email: Annotated[str | None, typer.Option("--contact-email", help="Contact e-mail.")] = None,
    vat_number: Annotated[
        str | None, typer.Option("--vat-number", help="EU VAT number of a business client (checked).")
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO 4217 currency, e.g. EUR.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="ISO 639-1 language, e.g. nl.")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Group (repeatable).")] = None,
    assign: Annotated[
        list[str] | None, typer.Option("--assign", help="Assign a partner user by e-mail (repeatable).")
    ] = None,
    integration: Annotated[
        list[str] | None, typer.Option("--integration", help="Integration key (repeatable).")
    ] = None,
    permission: Annotated[
        list[str] | None,
        typer.Option("--permission", help="Client-portal module the client may use (repeatable)."),
    ] = None,
    billing_street: Annotated[str | None, typer.Option("--billing-street", help="Billing street.")] = None,
    billing_city: Annotated[str | None, typer.Option("--billing-city", help="Billing city.")] = None,
    billing_zip: Annotated[str | None, typer.Option("--billing-zip", help="Billing postal code.")] = None,
    billing_country: Annotated[
        str | None, typer.Option("--billing-country", help="Billing country (ISO 3166 alpha-2).")
    ] = None,
    shipping_street: Annotated[
        str | None, typer.Option("--shipping-street", help="Shipping street (default: billing).")
    ] = None,
    shipping_city: Annotated[str | None, typer.Option("--shipping-city", help="Shipping city.")] = None,
    shipping_zip: Annotated[str | None, typer.Option("--shipping-zip", help="Shipping postal code.")] = None,
    shipping_country: Annotated[
        str | None, typer.Option("--shipping-country", help="Shipping country (ISO 3166 alpha-2).")
    ] = None,
    welcome: Annotated[
        bool, typer.Option("--welcome/--no-welcome", help="Queue the welcome e-mail to the contact.")
    ] = False,
    invited: Annotated[
        bool,
        typer.Option("--invited", help="The client invited us as external bookkeeper (Invites tab)."),
    ] = False,
) -> None:
    """Add a client, applying the default (or a named) template; explicit options win.

    Example: partnerctl client add "Bakery Jansen" --template small --contact-email ina@jansen.example --welcome
    """
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    data = clients.ClientCreate(
        name=name, ref=ref, template=template, no_template=no_template, invited=invited,
        contact_name=contact_name, contact_email=contact_email, vat_number=vat_number, currency=currency,
        language=language, groups=group or [], assign=assign or [], integrations=integration or [], permissions=permission or [],
        billing_street=billing_street, billing_city=billing_city, billing_zip=billing_zip,
        billing_country=billing_country, shipping_street=shipping_street, shipping_city=shipping_city,
        shipping_zip=shipping_zip, shipping_country=shipping_country, welcome=welcome,
    )  # fmt: skip
    with app_ctx.session() as s:
        client = clients.create_client(s, app_ctx.actor(s), data)
        ref_out, status = client.ref, client.status
        tpl = (client.template_applied is not None) and client.template_id
    note = "" if not tpl else " from its template"
    app_ctx.out.message(
        f"added client {ref_out} ({status}){note}" + (", welcome e-mail queued" if welcome else "")
    )
    if app_ctx.out.format in ("json", "jsonl", "ids"):
        app_ctx.out.item({"ref": ref_out, "status": status})


def _tab_bar(page):
    from rich.text import Text

    from partnerctl.services.clients import TAB_LABELS

    bar = Text()
    shown = [(tab, n) for tab, n in page.tab_counts.items() if n or tab == page.tab]
    for i, (tab, n) in enumerate(shown):
        if i:
            bar.append(" | ")
        bar.append(f"{TAB_LABELS[tab]} {n}", style="bold reverse" if tab == page.tab else "")
    return bar


@app.command("list")
def list_(
    ctx: typer.Context,
    tab: F.Tab = None,
    search: F.Search = None,
    missing_receipts: F.MissingReceipts = False,
    status: F.Status = None,
    group: F.Group = None,
    assigned: F.Assigned = None,
    template: F.Template = None,
    currency: F.Currency = None,
    language: F.Language = None,
    sort: F.Sort = "name",
    desc: F.Desc = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (0: no limit).")] = 100,
    offset: F.Offset = 0,
    archived: F.Archived = False,
) -> None:
    """List clients as the portal's tabs show them, with search, filters and sorting."""
    from partnerctl.services import clients

    filters = F.client_filters(locals(), limit=limit or None)
    app_ctx = get_ctx(ctx)
    table = app_ctx.out.format == "table"
    with app_ctx.session(readonly=True) as s:
        page = clients.list_clients(s, app_ctx.actor(s), filters, with_counts=table)
        rows = [client_row(c, page.groups[c.id], page.assigned[c.id]) for c in page.rows]
    app_ctx.out.rows(rows, CLIENT_COLUMNS, header_line=_tab_bar(page) if table else None, empty="no clients")
    if len(rows) < page.total and (offset or len(rows) == limit):
        app_ctx.out.message(
            f"showing {offset + 1}-{offset + len(rows)} of {page.total}; use --limit/--offset"
        )


@app.command("show")
def show(ctx: typer.Context, ref: RefArg = None) -> None:
    """Show everything about one client, including its template origin and assigned users."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        details = clients.client_details(s, app_ctx.actor(s), current_ref(app_ctx, ref))
    app_ctx.out.item(details, title=f"{details['name']} ({details['ref']})")


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: RefArg = None,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    contact_name: Annotated[str | None, typer.Option("--contact-name", help="Contact person.")] = None,
    contact_email: Annotated[
        str | None, typer.Option("--contact-email", help="Contact e-mail ('' clears it).")
    ] = None,
    vat_number: Annotated[
        str | None, typer.Option("--vat-number", help="EU VAT number (checked; '' clears it).")
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO 4217 currency.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="ISO 639-1 language.")] = None,
    add_group: Annotated[
        list[str] | None, typer.Option("--add-group", help="Add to a group (repeatable).")
    ] = None,
    remove_group: Annotated[
        list[str] | None, typer.Option("--remove-group", help="Remove from a group (repeatable).")
    ] = None,
    add_permission: Annotated[
        list[str] | None, typer.Option("--add-permission", help="Allow a portal module (repeatable).")
    ] = None,
    remove_permission: Annotated[
        list[str] | None, typer.Option("--remove-permission", help="Disallow a portal module (repeatable).")
    ] = None,
    add_integration: Annotated[
        list[str] | None, typer.Option("--add-integration", help="Add an integration, pending (repeatable).")
    ] = None,
    connect: Annotated[
        list[str] | None, typer.Option("--connect", help="Mark an integration connected (repeatable).")
    ] = None,
    remove_integration: Annotated[
        list[str] | None, typer.Option("--remove-integration", help="Remove an integration (repeatable).")
    ] = None,
    billing_street: Annotated[str | None, typer.Option("--billing-street", help="Billing street.")] = None,
    billing_city: Annotated[str | None, typer.Option("--billing-city", help="Billing city.")] = None,
    billing_zip: Annotated[str | None, typer.Option("--billing-zip", help="Billing postal code.")] = None,
    billing_country: Annotated[str | None, typer.Option("--billing-country", help="Billing country.")] = None,
    shipping_street: Annotated[str | None, typer.Option("--shipping-street", help="Shipping street.")] = None,
    shipping_city: Annotated[str | None, typer.Option("--shipping-city", help="Shipping city.")] = None,
    shipping_zip: Annotated[str | None, typer.Option("--shipping-zip", help="Shipping postal code.")] = None,
    shipping_country: Annotated[
        str | None, typer.Option("--shipping-country", help="Shipping country.")
    ] = None,
) -> None:
    """Change a client's details, groups, permissions or integrations."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    values = {
        "name": name, "contact_name": contact_name, "contact_email": contact_email, "vat_number": vat_number,
        "currency": currency,
        "language": language, "billing_street": billing_street, "billing_city": billing_city,
        "billing_zip": billing_zip, "billing_country": billing_country, "shipping_street": shipping_street,
        "shipping_city": shipping_city, "shipping_zip": shipping_zip, "shipping_country": shipping_country,
        "add_groups": add_group, "remove_groups": remove_group, "add_permissions": add_permission,
        "remove_permissions": remove_permission, "add_integrations": add_integration,
        "remove_integrations": remove_integration, "connect_integrations": connect,
    }  # fmt: skip
    changes = clients.ClientUpdate(**{k: v for k, v in values.items() if v is not None})
    with app_ctx.session() as s:
        client = clients.edit_client(s, app_ctx.actor(s), current_ref(app_ctx, ref), changes)
        ref_out = client.ref
    app_ctx.out.message(f"updated client {ref_out}")


@app.command("assign")
def assign(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Client reference.")],
    emails: Annotated[list[str], typer.Argument(help="E-mails of the partner users to assign.")],
) -> None:
    """Assign partner users to a client (admins only)."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        client, added = clients.assign_users(s, app_ctx.actor(s), ref, emails)
        ref_out = client.ref
    app_ctx.out.message(f"assigned {', '.join(added) or 'nobody new'} to {ref_out}")


@app.command("unassign")
def unassign(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Client reference.")],
    emails: Annotated[list[str], typer.Argument(help="E-mails of the partner users to unassign.")],
) -> None:
    """Remove partner users from a client (admins only)."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        client, removed = clients.unassign_users(s, app_ctx.actor(s), ref, emails)
        ref_out = client.ref
    app_ctx.out.message(f"unassigned {', '.join(removed)} from {ref_out}")


def _status_command(ctx: typer.Context, ref: str | None, service_name: str, verb: str, **kw) -> None:
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        client = getattr(clients, service_name)(s, app_ctx.actor(s), current_ref(app_ctx, ref), **kw)
        ref_out, status = client.ref, client.status
    app_ctx.out.message(f"{verb} client {ref_out}; it is now {status}")


@app.command("accept")
def accept(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Reference of the inviting client.")],
    template: Annotated[
        str | None, typer.Option("--template", help="Template to apply (default: the default one).")
    ] = None,
) -> None:
    """Accept a client's invitation: apply the template and move it to onboarding."""
    _status_command(ctx, ref, "accept_invitation", "accepted", template=template)


@app.command("decline")
def decline(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Reference of the inviting client.")]
) -> None:
    """Decline a client's invitation (the invited client is removed)."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        removed = clients.decline_invitation(s, app_ctx.actor(s), ref)
    app_ctx.out.message(f"declined the invitation of {removed}")


@app.command("activate")
def activate(ctx: typer.Context, ref: RefArg = None) -> None:
    """Mark an onboarding client active once verification is done."""
    _status_command(ctx, ref, "activate_client", "activated")


@app.command("archive")
def archive(ctx: typer.Context, ref: RefArg = None) -> None:
    """Archive a client: it leaves every tab (list it with --archived)."""
    _status_command(ctx, ref, "archive_client", "archived")


@app.command("remove")
def remove(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Client reference.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the client and its data are deleted.")] = False,
) -> None:
    """Delete a client and everything attached to it (needs --yes)."""
    from partnerctl.errors import InvalidInput
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    if not yes:
        raise InvalidInput(f"removing {ref} deletes it for good: pass --yes (or `client archive {ref}`)")
    with app_ctx.session() as s:
        removed = clients.remove_client(s, app_ctx.actor(s), ref)
    if app_ctx.profile.get("client") == removed:
        app_ctx.set_current("client", None)
    app_ctx.out.message(f"removed client {removed}")


@app.command("use")
def use(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help="Client reference to make current.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Forget the current client.")] = False,
) -> None:
    """Make a client the profile's current client (the portal's "go to client")."""
    from partnerctl.errors import InvalidInput

    app_ctx = get_ctx(ctx)
    if clear:
        app_ctx.set_current("client", None)
        app_ctx.out.message(f"profile {app_ctx.profile_name}: no current client")
        return
    if not ref:
        current = app_ctx.profile.get("client")
        if not current:
            raise InvalidInput("pass REF to pick a client, or --clear")
        app_ctx.out.value(current)
        return
    ref_out, name = app_ctx.use_client(ref)
    app_ctx.out.message(f"current client: {name} ({ref_out}) in profile {app_ctx.profile_name}")


@app.command("tasks")
def tasks(
    ctx: typer.Context,
    ref: RefArg = None,
    missing_receipts: Annotated[
        int | None, typer.Option("--missing-receipts", help="Number of missing receipts.")
    ] = None,
    wallet_balance: Annotated[str | None, typer.Option("--wallet-balance", help="Wallet balance.")] = None,
    expenses_ready: Annotated[
        int | None, typer.Option("--expenses-ready", help="Expenses ready for export.")
    ] = None,
) -> None:
    """Update a client's outstanding-task figures."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        client = clients.update_tasks(
            s, app_ctx.actor(s), current_ref(app_ctx, ref), missing_receipts=missing_receipts,
            wallet_balance=wallet_balance, expenses_ready=expenses_ready,
        )  # fmt: skip
        row = {
            "ref": client.ref, "missing_receipts": client.missing_receipts,
            "wallet_balance": client.wallet_balance, "expenses_ready": client.expenses_ready,
        }  # fmt: skip
    app_ctx.out.message(
        f"{row['ref']}: {row['missing_receipts']} missing receipts, wallet {row['wallet_balance']}, "
        f"{row['expenses_ready']} expenses ready"
    )


@app.command("report")
def report(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="group, template, status, currency or language.")] = "group",
) -> None:
    """Count clients, active seats and monthly value per group (or template, status, ...)."""
    from partnerctl.services import clients

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        rows = clients.client_report(s, app_ctx.actor(s), by)
    cols = [
        Column(by.strip().lower()),
        Column("clients", justify="right"),
        Column("seats", justify="right"),
        Column("monthly_value", "monthly value", "right"),
    ]
    app_ctx.out.rows(rows, cols, empty="no clients")


# Bulk import/export live in their own module; registered here so they are `client import|export`.
from partnerctl.commands.client import bulk  # noqa: E402

app.command("import")(bulk.import_)
app.command("export")(bulk.export)
