"""`partnerctl billing ...`: billing runs, the invoice report and the exchange-rate table."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, parse_date, sub_app
from partnerctl.commands.invoice import (
    ClientFilter,
    SinceFilter,
    UntilFilter,
    invoice_row,
    read_invoices,
    totals_line,
)
from partnerctl.output import Column

app = sub_app("Run billing and keep the exchange-rate and VAT-rate tables.")
rate_app = sub_app("Explicit exchange rates; billing never converts without one.")
app.add_typer(rate_app, name="rate", help="Explicit exchange rates; billing never converts without one.")
vat_app = sub_app("VAT rates: the domestic rate and destination rates for consumers in other EU countries.")
app.add_typer(
    vat_app, name="vat", help="VAT rates: the domestic rate and destination rates for EU consumers."
)

RUN_COLUMNS = [
    Column("number"), Column("client"), Column("product"), Column("seats", justify="right"),
    Column("period_start", "period start"), Column("period_end", "period end"),
    Column("net", justify="right", in_table=False), Column("vat", justify="right"),
    Column("total", justify="right"), Column("currency"), Column("payer"),
]  # fmt: skip
RATE_COLUMNS = [
    Column("base"),
    Column("quote"),
    Column("rate", justify="right"),
    Column("updated_at", "updated"),
]
TOTAL_COLUMNS = [
    Column("currency"),
    Column("payer"),
    Column("invoices", justify="right"),
    Column("net", justify="right"),
    Column("vat", justify="right"),
    Column("total", justify="right"),
]
VAT_COLUMNS = [
    Column("country"),
    Column("rate", "rate %", justify="right"),
    Column("domestic"),
    Column("updated_at", "updated"),
]


@app.command("run")
def run(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Bill what is due on or before this date (default today).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be invoiced; change nothing.")
    ] = False,
    send: Annotated[
        bool, typer.Option("--send", help="Queue each new invoice's e-mail with its PDF to the client.")
    ] = False,
) -> None:
    """Invoice every active subscription that is due, with VAT, one invoice per period (safe to run twice).

    Example (cron, daily): partnerctl billing run --send; partnerctl outbox send
    """
    from partnerctl.errors import PartialFailure
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    day = parse_date(as_of, "--as-of")
    with app_ctx.session(readonly=dry_run) as s:
        result = billing.run_billing(s, app_ctx.actor(s), as_of=day, dry_run=dry_run, send=send)
    if result.blocked:
        raise PartialFailure(f"no invoice made: {result.blocked}")
    rows = [{**invoice_row(i), "product": i.product, "seats": i.seats} for i in result.invoices]
    app_ctx.out.rows(rows, RUN_COLUMNS, empty=None)
    verb = "would create" if dry_run else "created"
    app_ctx.out.message(
        f"{verb} {len(rows)} invoice(s) as of {result.as_of}; total {totals_line(result.totals())}"
    )
    if send and not dry_run:
        app_ctx.out.message(
            f"queued {result.queued} invoice e-mail(s); `partnerctl outbox send` delivers them"
        )
    _report_run_problems(app_ctx, result)


def _report_run_problems(app_ctx, result) -> None:
    """Warn about each subscription not billed and each invoice not sent; exit 9 when there are any."""
    from partnerctl.errors import PartialFailure

    for skipped in result.skipped:
        app_ctx.out.warn(f"subscription {skipped.subscription_id} ({skipped.client_ref}, {skipped.product}) "
                         f"not billed: {skipped.reason}")  # fmt: skip
    for number, why in result.unsent:
        app_ctx.out.warn(f"invoice {number} not sent: {why}")
    if result.skipped or result.unsent:
        raise PartialFailure(
            f"{len(result.skipped)} subscription(s) not billed, {len(result.unsent)} invoice(s) not sent; "
            "the others were"
        )


@app.command("report")
def report(
    ctx: typer.Context,
    client: ClientFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
) -> None:
    """Net, VAT and gross totals per currency and payer; they add up exactly to the invoices listed."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    totals = read_invoices(ctx, billing.invoice_totals, client, since, until)
    rows = [
        {"currency": t.currency, "payer": t.payer, "invoices": t.invoices, "net": t.net, "vat": t.vat,
         "total": t.total}
        for t in totals
    ]  # fmt: skip
    app_ctx.out.rows(rows, TOTAL_COLUMNS, empty="no invoices")


@rate_app.command("set")
def rate_set(
    ctx: typer.Context,
    base: Annotated[str, typer.Argument(help="Currency converted from (the product's), e.g. EUR.")],
    quote: Annotated[str, typer.Argument(help="Currency converted to (the client's), e.g. USD.")],
    rate: Annotated[str, typer.Argument(help="Units of QUOTE per 1 BASE, e.g. 1.08.")],
) -> None:
    """Set an exchange rate: 1 BASE = RATE QUOTE (admins only).

    Example: partnerctl billing rate set EUR USD 1.08
    """
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        r = billing.set_rate(s, app_ctx.actor(s), base, quote, rate)
        text = f"1 {r.base} = {r.rate} {r.quote}"
    app_ctx.out.message(f"rate set: {text}")


@rate_app.command("list")
def rate_list(ctx: typer.Context) -> None:
    """List the exchange rates billing may use."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [
            {"base": r.base, "quote": r.quote, "rate": r.rate, "updated_at": r.updated_at}
            for r in billing.list_rates(s)
        ]
    app_ctx.out.rows(
        rows, RATE_COLUMNS, empty="no exchange rates: set one with `partnerctl billing rate set`"
    )


@vat_app.command("set")
def vat_set(
    ctx: typer.Context,
    rate: Annotated[str, typer.Option("--rate", help="VAT rate in percent, 0 to 100, e.g. 21 or 5.5.")],
    country: Annotated[
        str | None, typer.Option("--country", help="A destination country (default: the partner's own).")
    ] = None,
) -> None:
    """Set the domestic VAT rate, or with --country a destination rate (admins only).

    Example: partnerctl billing vat set --rate 21
    """
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        row = billing.set_vat_rate(s, app_ctx.actor(s), rate, country)
        text = f"{row.country} {row.rate} %"
    app_ctx.out.message(f"VAT rate set: {text}")


@vat_app.command("list")
def vat_list(ctx: typer.Context) -> None:
    """List the VAT rates billing uses; the partner's own country's is the domestic one."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [
            {"country": r.country, "rate": r.rate, "domestic": r.domestic, "updated_at": r.updated_at}
            for r in billing.list_vat_rates(s)
        ]
    app_ctx.out.rows(
        rows, VAT_COLUMNS, empty="no VAT rates: set one with `partnerctl billing vat set --rate R`"
    )
