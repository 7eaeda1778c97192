"""VAT determination (pure): from the partner's and the client's country, the client's VAT number and
the configured rates to a category, a rate and the note an invoice must carry. EU membership is
listed here and nowhere else.

The rules (the EU VAT directive for services to customers, art. 44, 45, 196 and 58):
- domestic (same country, or no client country): the partner's rate, category S (Z at 0 %);
- EU business across a border (a valid VAT number): reverse charge, category AE, 0 %, with the note;
- EU consumer across a border: the destination country's rate, category S; none configured: not invoiced;
- outside the EU: 0 %, category O (outside the scope of EU VAT), with the note.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from partnerctl.services.money import round_money

EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})  # fmt: skip

# UNCL5305 duty or tax category codes partnerctl uses.
STANDARD, ZERO_RATED, REVERSE_CHARGE, OUTSIDE_SCOPE = "S", "Z", "AE", "O"
# The note an invoice of a category must carry (a key of the label tables, one per language), and
# the VATEX exemption reason code the e-invoice gives for it.
NOTE_OF_CATEGORY = {REVERSE_CHARGE: "reverse_charge", OUTSIDE_SCOPE: "outside_scope"}
EXEMPTION_CODE = {REVERSE_CHARGE: "VATEX-EU-AE", OUTSIDE_SCOPE: "VATEX-EU-O"}


def is_eu(country: str | None) -> bool:
    return country is not None and country in EU_MEMBER_STATES


@dataclass(frozen=True)
class VatTreatment:
    """How one invoice line is taxed, or why it cannot be invoiced (`problem`)."""

    category: str | None = None
    rate: Decimal | None = None
    problem: str | None = None
    domestic: bool = False

    @property
    def note(self) -> str | None:
        return NOTE_OF_CATEGORY.get(self.category or "")


def _rated(rate: Decimal, *, domestic: bool) -> VatTreatment:
    return VatTreatment(STANDARD if rate > 0 else ZERO_RATED, rate, domestic=domestic)


def vat_treatment(
    *,
    partner_country: str,
    client_country: str | None,
    client_vat_number: str | None,
    rates: dict[str, Decimal],
) -> VatTreatment:
    """The VAT of a supply of services from the partner to the client. `rates` maps a country to its
    configured rate in percent; the partner's own country's is the domestic rate."""
    if client_country is None or client_country == partner_country:
        rate = rates.get(partner_country)
        if rate is None:
            return VatTreatment(problem=(
                f"no domestic VAT rate for {partner_country}; set it with `partnerctl billing vat set --rate R`"
            ))  # fmt: skip
        return _rated(rate, domestic=True)
    if not is_eu(client_country) or not is_eu(partner_country):
        return VatTreatment(OUTSIDE_SCOPE, Decimal(0))
    if client_vat_number:
        return VatTreatment(REVERSE_CHARGE, Decimal(0))
    rate = rates.get(client_country)
    if rate is None:
        return VatTreatment(problem=(
            f"a consumer in {client_country} pays {client_country} VAT, and no rate is set for it; set it "
            f"with `partnerctl billing vat set --country {client_country} --rate R` or add the client's VAT number"
        ))  # fmt: skip
    return _rated(rate, domestic=False)


def vat_amount(net: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The VAT on `net` at `rate` percent, rounded half-even to the currency's minor units."""
    return round_money(net * rate / 100, currency)


def vat_breakdown(lines: list[tuple[str, Decimal, Decimal]], currency: str) -> list[dict[str, Decimal | str]]:
    """Totals per (category, rate) from (category, rate, net) lines: the summed net and the VAT on that
    sum (EN 16931 BR-CO-17: the VAT of a category is its taxable amount times its rate, rounded once)."""
    nets: dict[tuple[str, Decimal], Decimal] = {}
    for category, rate, net in lines:
        nets[(category, rate)] = nets.get((category, rate), Decimal(0)) + net
    return [
        {"category": category, "rate": rate, "net": net, "vat": vat_amount(net, rate, currency)}
        for (category, rate), net in sorted(nets.items())
    ]
