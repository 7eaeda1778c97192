"""`partnerctl invoice ...`: invoices and credit notes: read, documents (PDF, XML), credit, pay, send;
also the invoice filters and row `billing` shares."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from partnerctl.commands._common import get_ctx, parse_date, sub_app, write_new_file
from partnerctl.output import Column

app = sub_app("Invoices and credit notes: list, show, PDF and XML, credit, pay, send.")

INVOICE_COLUMNS = [
    Column("number"), Column("kind", in_table=False), Column("client"), Column("issue_date", "issued"),
    Column("due_date", "due"),
    Column("period_start", "period start"), Column("period_end", "period end", in_table=False),
    Column("net", justify="right", in_table=False), Column("vat", justify="right"),
    Column("total", justify="right"), Column("currency"), Column("payer"), Column("paid_on", "paid"),
    Column("credited_by", "credited by", in_table=False),
]  # fmt: skip
LINE_COLUMNS = [
    Column("description"), Column("seats", justify="right"), Column("unit_price", "unit price", justify="right"),
    Column("price_currency", "price cur."), Column("rate", justify="right"), Column("amount", justify="right"),
    Column("vat_category", "VAT cat."), Column("vat_rate", "VAT %", justify="right"),
    Column("vat_amount", "VAT", justify="right"),
]  # fmt: skip

# Invoice filters shared by `billing report` and `invoice list`.
ClientFilter = Annotated[str | None, typer.Option("--client", help="Only this client (reference).")]
SinceFilter = Annotated[str | None, typer.Option("--since", help="Issued on or after this date.")]
UntilFilter = Annotated[str | None, typer.Option("--until", help="Issued before this date.")]
NumberArg = Annotated[str, typer.Argument(metavar="NUMBER", help="Invoice or credit note number.")]
FileOption = Annotated[str | None, typer.Option("--file", "-f", metavar="FILE", help="Write to this file.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")]


def read_invoices(
    ctx: typer.Context, reader: Callable[..., Any], client: str | None, since: str | None, until: str | None,
    **extra: Any,
) -> Any:  # fmt: skip
    """Call a billing reader (`list_invoices`, `invoice_totals`) with the invoice filters."""
    app_ctx = get_ctx(ctx)
    since_d, until_d = parse_date(since, "--since"), parse_date(until, "--until")
    with app_ctx.session(readonly=True) as s:
        return reader(s, app_ctx.actor(s), client_ref=client, since=since_d, until=until_d, **extra)


def totals_line(totals: dict) -> str:
    """`12.50 EUR, 1211 JPY`: totals per currency, for the closing message."""
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items())) or "nothing"


def invoice_row(inv) -> dict:
    return {
        "number": inv.number, "kind": inv.kind, "client": inv.client_ref, "client_name": inv.client_name,
        "subscription_id": inv.subscription_id, "issue_date": inv.issue_date, "due_date": inv.due_date,
        "period_start": inv.period_start, "period_end": inv.period_end, "net": inv.net, "vat": inv.vat,
        "total": inv.total, "currency": inv.currency, "payer": inv.payer,
        **({"paid_on": inv.paid_on, "credited_by": inv.credited_by} if hasattr(inv, "paid_on") else {}),
    }  # fmt: skip


@app.command("list")
def list_(
    ctx: typer.Context,
    client: ClientFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    unpaid: Annotated[
        bool, typer.Option("--unpaid", help="Only invoices not paid and not credited.")
    ] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only unpaid invoices past their due date.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Overdue as of this date (default today).")
    ] = None,
) -> None:
    """List invoices and credit notes by issue date; --unpaid and --overdue show what is still open.

    Example: partnerctl invoice list --overdue --as-of 2026-04-30
    """
    from datetime import date

    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    overdue_on = (parse_date(as_of, "--as-of") or date.today()) if overdue else None
    invoices = read_invoices(
        ctx, billing.list_invoices, client, since, until, unpaid=unpaid, overdue_on=overdue_on
    )
    app_ctx.out.rows([invoice_row(i) for i in invoices], INVOICE_COLUMNS, empty="no invoices")
    if app_ctx.out.format == "table" and invoices:
        app_ctx.out.message(
            f"{len(invoices)} invoice(s), total {totals_line(billing.totals_by_currency(invoices))}"
        )


@app.command("show")
def show(ctx: typer.Context, number: NumberArg) -> None:
    """Show one invoice or credit note with its lines, VAT per rate, seller and buyer as issued."""
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        detail = billing.get_invoice(s, app_ctx.actor(s), number)
    data = {
        **invoice_row(detail), "language": detail.language, "credits": detail.credits, "reason": detail.reason,
        "seller": detail.seller, "buyer": detail.buyer, "vat_breakdown": detail.vat_breakdown,
        "lines": detail.lines,
    }  # fmt: skip
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(data)
        return
    head = {k: v for k, v in data.items() if k not in ("lines", "seller", "buyer", "vat_breakdown")}
    head["seller"] = detail.seller.get("name")
    head["buyer"] = detail.buyer.get("name")
    app_ctx.out.item(head, title=detail.number)
    app_ctx.out.rows(detail.lines, LINE_COLUMNS)


def _write_document(ctx: typer.Context, number: str, kind: str, file: str | None, force: bool) -> None:
    from partnerctl.errors import InvalidInput
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    if file is None and kind == "pdf" and sys.stdout.isatty():
        raise InvalidInput(
            "a PDF is not for the terminal", hint=f"pass -f {number}.pdf, or redirect stdout to a file"
        )
    with app_ctx.session(readonly=True) as s:
        document = billing.invoice_file(s, app_ctx.actor(s), number, kind)
    if file is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(document.content)
        sys.stdout.buffer.flush()
        return
    write_new_file(file, document.content, force=force)
    app_ctx.out.message(f"wrote {document.filename} to {file}")


@app.command("pdf")
def pdf(ctx: typer.Context, number: NumberArg, file: FileOption = None, force: ForceOption = False) -> None:
    """Write the Factur-X PDF (PDF/A-3, EN 16931, with its CII XML embedded) of an invoice or credit note.

    Example: partnerctl invoice pdf INV-2026-000001 -f INV-2026-000001.pdf
    """
    _write_document(ctx, number, "pdf", file, force)


@app.command("xml")
def xml(
    ctx: typer.Context,
    number: NumberArg,
    syntax: Annotated[
        str, typer.Option("--syntax", help="cii (Factur-X/ZUGFeRD) or ubl (Peppol BIS 3.0).")
    ] = "cii",
    file: FileOption = None,
    force: ForceOption = False,
) -> None:
    """Write the e-invoice XML of an invoice or credit note: CII, or UBL 2.1 (Peppol BIS Billing 3.0).

    Example: partnerctl invoice xml INV-2026-000001 --syntax ubl -f INV-2026-000001.xml
    """
    from partnerctl.errors import InvalidInput

    if syntax.strip().lower() not in ("cii", "ubl"):
        raise InvalidInput(f"unknown syntax {syntax!r}: use cii or ubl")
    _write_document(ctx, number, syntax.strip().lower(), file, force)


@app.command("credit")
def credit(
    ctx: typer.Context,
    number: NumberArg,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it is credited (on the credit note).")
    ] = None,
) -> None:
    """Cancel an invoice with a credit note in the series CN-<year>-<number> (admins only; once).

    Example: partnerctl invoice credit INV-2026-000001 --reason "wrong number of seats"
    """
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        note = billing.credit_invoice(s, app_ctx.actor(s), number, reason=reason)
        row = {"number": note.number, "credits": number.strip().upper(), "total": note.total,
               "currency": note.currency}  # fmt: skip
    app_ctx.out.message(
        f"issued credit note {row['number']} for {row['credits']}: {row['total']} {row['currency']}"
    )
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(row)


@app.command("pay")
def pay(
    ctx: typer.Context,
    number: NumberArg,
    date_: Annotated[str | None, typer.Option("--date", help="When it was paid (default today).")] = None,
) -> None:
    """Record that an invoice was paid in full (admins only; once).

    Example: partnerctl invoice pay INV-2026-000001 --date 2026-04-12
    """
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        payment = billing.record_payment(s, app_ctx.actor(s), number, paid_on=parse_date(date_, "--date"))
        paid_on = payment.paid_on
    app_ctx.out.message(f"recorded the payment of {number.strip().upper()} on {paid_on}")


@app.command("send")
def send(ctx: typer.Context, number: NumberArg) -> None:
    """Queue the e-mail of an invoice or credit note, with its Factur-X PDF, to the client's contact
    (admins only; once per number). `partnerctl outbox send` delivers it.

    Example: partnerctl invoice send INV-2026-000001
    """
    from partnerctl.services import billing

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        result = billing.send_invoice(s, app_ctx.actor(s), number)
    if result.queued:
        app_ctx.out.message(f"queued {result.number} to {result.to}; `partnerctl outbox send` delivers it")
    else:
        app_ctx.out.message(
            f"{result.number} was queued before (to {result.to}, {result.status}); not queued again"
        )
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(
            {"number": result.number, "to": result.to, "queued": result.queued, "status": result.status}
        )
