"""`partnerctl partner ...`: the partner's own invoicing identity (legal name, address, VAT, bank)."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app

app = sub_app("The partner's invoicing identity: legal name, address, VAT number, bank account, terms.")


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Show the partner's invoicing identity (admins only)."""
    from partnerctl.services.partner import show_partner_identity

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        identity = show_partner_identity(s, app_ctx.actor(s))
    app_ctx.out.item(identity, title=identity["name"])


@app.command("set")
def set_(
    ctx: typer.Context,
    legal_name: Annotated[str | None, typer.Option("--legal-name", help="Legal name on invoices.")] = None,
    street: Annotated[str | None, typer.Option("--street", help="Street and number.")] = None,
    city: Annotated[str | None, typer.Option("--city", help="City.")] = None,
    zip_: Annotated[str | None, typer.Option("--zip", help="Postal code.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166 alpha-2 country, e.g. NL.")
    ] = None,
    vat_number: Annotated[
        str | None, typer.Option("--vat-number", help="EU VAT number, e.g. NL004495445B01 (checked).")
    ] = None,
    iban: Annotated[str | None, typer.Option("--iban", help="IBAN payments go to (checked).")] = None,
    bic: Annotated[str | None, typer.Option("--bic", help="BIC of the bank (checked).")] = None,
    payment_terms: Annotated[
        int | None, typer.Option("--payment-terms", metavar="DAYS", help="Days until an invoice is due.")
    ] = None,
    footer: Annotated[str | None, typer.Option("--footer", help="Footer line on every invoice.")] = None,
) -> None:
    """Set the partner's invoicing identity; '' clears a field (admins only). Issued invoices keep theirs.

    Example: partnerctl partner set --legal-name "Acme Partners B.V." --country NL --vat-number NL004495445B01
    """
    from partnerctl.services.partner import identity_of, set_partner_identity

    app_ctx = get_ctx(ctx)
    given = {
        "legal_name": legal_name, "street": street, "city": city, "zip": zip_, "country": country,
        "vat_number": vat_number, "iban": iban, "bic": bic, "payment_terms_days": payment_terms,
        "footer": footer,
    }  # fmt: skip
    with app_ctx.session() as s:
        identity = identity_of(set_partner_identity(s, app_ctx.actor(s), **given))
    app_ctx.out.message(f"updated the invoicing identity of {identity['legal_name'] or identity['name']}")
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(identity)
