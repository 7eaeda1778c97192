"""`partnerctl invoice ...`: read invoices; also the invoice filters and row `billing` shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from partnerctl.commands._common import get_ctx, parse_date, sub_app
from partnerctl.output import Column

app = sub_app("Read invoices.")

INVOICE_COLUMNS = [
    Column("number"), Column("client"), Column("issue_date", "issued"), Column("period_start", "period start"),
    Column("period_end", "period end"), Column("total", justify="right"), Column("currency"), Column("payer"),
]  # fmt: skip
LINE_COLUMNS = [
    Column("description"), Column("seats", justify="right"), Column("unit_price", "unit price", justify="right"),
    Column("price_currency", "price cur."), Column("rate", justify="right"), Column("amount", justify="right"),
]  # fmt: skip

# Invoice filters shared by `billing report` and `invoice list`.
ClientFilter = Annotated[str | None, typer.Option("--client", help="Only this client (reference).")]
SinceFilter = Annotated[str | None, typer.Option("--since", help="Issued on or after this date.")]
UntilFilter = Annotated[str | None, typer.Option("--until", help="Issued before this date.")]


def read_invoices(
    ctx: typer.Context, reader: Callable[..., Any], client: str | None, since: str | None, until: str | None
) -> Any:
    """Call a billing reader (`list_invoices`, `invoice_totals`) with the invoice filters."""
    app_ctx = get_ctx(ctx)
    since_d, until_d = parse_date(since, "--since"), parse_date(until, "--until")
    with app_ctx.session(readonly=True) as s:
        return reader(s, app_ctx.actor(s), client_ref=client, since=since_d, until=until_d)


def totals_line(totals: dict) -> str:
    """`12.50 EUR, 1211 JPY`: totals per currency, for the closing message."""
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items())) or "nothing"


def invoice_row(inv) -> dict:
    return {
        "number": inv.number, "client": inv.client_ref, "client_name": inv.client_name,
        "subscription_id": inv.subscription_id, "issue_date": inv.issue_date, "period_start": inv.period_start,
        "period_end": inv.period_end, "total": inv.total, "currency": inv.currency, "payer": inv.payer,
    }  # fmt: skip


@app.command("list")
def list_(
    ctx: typer.Context,
    client: ClientFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
) -> None:
    """List invoices by issue date."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    invoices = read_invoices(ctx, billing.list_invoices, client, since, until)
    app_ctx.out.rows([invoice_row(i) for i in invoices], INVOICE_COLUMNS, empty="no invoices")
    if app_ctx.out.format == "table" and invoices:
        app_ctx.out.message(
            f"{len(invoices)} invoice(s), total {totals_line(billing.totals_by_currency(invoices))}"
        )


@app.command("show")
def show(ctx: typer.Context, number: Annotated[str, typer.Argument(help="Invoice number.")]) -> None:
    """Show one invoice with its lines."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        detail = billing.get_invoice(s, app_ctx.actor(s), number)
    data = {**invoice_row(detail), "lines": detail.lines}
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(data)
        return
    head = {k: v for k, v in data.items() if k != "lines"}
    app_ctx.out.item(head, title=detail.number)
    app_ctx.out.rows(detail.lines, LINE_COLUMNS)
