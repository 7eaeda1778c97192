"""`partnerctl subscription ...`: products with seats per client, their status, payer and next payment."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, parse_date, sub_app
from partnerctl.output import Column

app = sub_app("Manage client subscriptions: seats, status, next payment date, payer.")

SUBSCRIPTION_COLUMNS = [
    Column("id", justify="right"), Column("client"), Column("product"), Column("seats", justify="right"),
    Column("status"), Column("next_payment_date", "next payment"), Column("payer"),
    Column("monthly_value", "monthly value", justify="right"), Column("currency"),
]  # fmt: skip


def subscription_row(view) -> dict:
    return {
        "id": view.id,
        "client": view.client_ref,
        "client_name": view.client_name,
        "product": view.product,
        "seats": view.seats,
        "status": view.status,
        "next_payment_date": view.next_payment_date,
        "payer": view.payer,
        "monthly_value": view.monthly_value,
        "currency": view.currency,
    }


def subscription_detail(view) -> dict:
    data = asdict(view)
    data["client"] = data.pop("client_ref")
    # The invited contact edits the product's content only; billing stays with the partner.
    data["editor_billing_access"] = False if view.allow_client_edit else None
    return data


@app.command("add")
def add(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Client reference.")],
    product: Annotated[str, typer.Option("--product", help="Product key from `partnerctl product list`.")],
    seats: Annotated[int, typer.Option("--seats", help="Number of users (seats), at least 1.")] = 1,
    payer: Annotated[str, typer.Option("--payer", help="Who pays: partner or client.")] = "partner",
    start: Annotated[
        str | None,
        typer.Option("--start", help="Start date (default today); may be in the past to backdate."),
    ] = None,
    next_payment: Annotated[
        str | None, typer.Option("--next-payment", help="First payment date (default: the start date).")
    ] = None,
    allow_client_edit: Annotated[
        bool,
        typer.Option("--allow-client-edit", help="Invite the client contact to edit (never billing)."),
    ] = False,
    contact_name: Annotated[
        str | None, typer.Option("--contact-name", help="Client contact name (with --allow-client-edit).")
    ] = None,
    contact_email: Annotated[
        str | None, typer.Option("--contact-email", help="Client contact e-mail (with --allow-client-edit).")
    ] = None,
) -> None:
    """Add a subscription for a client (admins only).

    Example: partnerctl subscription add ACME-001 --product signatures-m365 --seats 25 --payer client
    """
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    start_date = parse_date(start, "--start")
    next_date = parse_date(next_payment, "--next-payment")
    with app_ctx.session() as s:
        sub = billing.create_subscription(
            s, app_ctx.actor(s), client_ref=client, product_key=product, seats=seats, payer=payer,
            start=start_date, next_payment=next_date, allow_client_edit=allow_client_edit,
            contact_name=contact_name, contact_email=contact_email,
        )  # fmt: skip
        row = subscription_row(billing.show_subscription(s, app_ctx.actor(s), sub.id))
        invited = sub.editor_email if sub.allow_client_edit else None
    app_ctx.out.message(
        f"added subscription {row['id']}: {row['client']} {row['product']} x {row['seats']}, "
        f"next payment {row['next_payment_date']}"
    )
    if invited:
        app_ctx.out.message(f"queued an invitation to {invited} (no billing access)")
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(row)


@app.command("list")
def list_(
    ctx: typer.Context,
    client: Annotated[str | None, typer.Option("--client", help="Only this client (reference).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only this status: active, suspended or cancelled.")
    ] = None,
    product: Annotated[str | None, typer.Option("--product", help="Only this product key.")] = None,
    due_before: Annotated[
        str | None, typer.Option("--due-before", help="Only those with a next payment before this date.")
    ] = None,
    payer: Annotated[str | None, typer.Option("--payer", help="Only this payer: partner or client.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Client name contains this text.")] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="Sort by client, next-payment, seats or id.")
    ] = "client",
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
) -> None:
    """List subscriptions: client, product, seats, status, next payment date, payer, monthly value."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    due = parse_date(due_before, "--due-before")
    with app_ctx.session(readonly=True) as s:
        views = billing.list_subscriptions(
            s, app_ctx.actor(s), client_ref=client, status=status, product_key=product, due_before=due,
            payer=payer, search=search, sort=sort, descending=desc,
        )  # fmt: skip
    app_ctx.out.rows([subscription_row(v) for v in views], SUBSCRIPTION_COLUMNS, empty="no subscriptions")


@app.command("show")
def show(ctx: typer.Context, sub_id: Annotated[int, typer.Argument(help="Subscription id.")]) -> None:
    """Show one subscription, with its client editor if any."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        data = subscription_detail(billing.show_subscription(s, app_ctx.actor(s), sub_id))
    app_ctx.out.item(data, title=f"subscription {sub_id}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    sub_id: Annotated[int, typer.Argument(help="Subscription id.")],
    seats: Annotated[int | None, typer.Option("--seats", help="New number of seats (at least 1).")] = None,
    payer: Annotated[str | None, typer.Option("--payer", help="partner or client.")] = None,
    next_payment: Annotated[
        str | None, typer.Option("--next-payment", help="New next payment date (today or later).")
    ] = None,
    client_edit: Annotated[
        bool | None,
        typer.Option(
            "--allow-client-edit/--no-client-edit",
            help="Invite the client contact to edit, or withdraw that (never billing).",
        ),
    ] = None,
    contact_name: Annotated[str | None, typer.Option("--contact-name", help="Client contact name.")] = None,
    contact_email: Annotated[
        str | None, typer.Option("--contact-email", help="Client contact e-mail (a change re-invites).")
    ] = None,
) -> None:
    """Change seats, payer, next payment date or the client editor (admins only)."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    next_date = parse_date(next_payment, "--next-payment")
    with app_ctx.session() as s:
        actor = app_ctx.actor(s)
        sub = billing.edit_subscription(
            s, actor, sub_id, seats=seats, payer=payer, next_payment=next_date,
            allow_client_edit=client_edit, contact_name=contact_name, contact_email=contact_email,
        )  # fmt: skip
        row = subscription_row(billing.show_subscription(s, actor, sub.id))
    app_ctx.out.message(f"updated subscription {row['id']}")


def _transition(ctx: typer.Context, sub_id: int, action: str) -> None:
    from partnerctl.services import billing

    fn = {
        "suspend": billing.suspend_subscription,
        "resume": billing.resume_subscription,
        "cancel": billing.cancel_subscription,
    }[action]
    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        sub = fn(s, app_ctx.actor(s), sub_id)
        status, next_date = sub.status, sub.next_payment_date
    note = f", next payment {next_date}" if action == "resume" else ""
    app_ctx.out.message(f"subscription {sub_id} is now {status}{note}")


@app.command("suspend")
def suspend(ctx: typer.Context, sub_id: Annotated[int, typer.Argument(help="Subscription id.")]) -> None:
    """Suspend a subscription: billing pauses until it is resumed."""
    _transition(ctx, sub_id, "suspend")


@app.command("resume")
def resume(ctx: typer.Context, sub_id: Annotated[int, typer.Argument(help="Subscription id.")]) -> None:
    """Resume a suspended subscription; suspended periods are not billed."""
    _transition(ctx, sub_id, "resume")


@app.command("cancel")
def cancel(ctx: typer.Context, sub_id: Annotated[int, typer.Argument(help="Subscription id.")]) -> None:
    """Cancel a subscription for good: no further invoices."""
    _transition(ctx, sub_id, "cancel")
