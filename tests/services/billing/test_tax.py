"""The pure VAT rules: every case of the table, the rounding of VAT, and totals per rate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerctl.services.billing.tax import EU_MEMBER_STATES, vat_amount, vat_breakdown, vat_treatment

RATES = {"NL": Decimal("21"), "DE": Decimal("19"), "FR": Decimal("20"), "DK": Decimal("0")}
D = Decimal


@pytest.mark.parametrize(
    ("partner", "client", "vat_number", "category", "rate", "note"),
    [
        # Domestic: the partner's rate, also for a business with a VAT number.
        ("NL", "NL", None, "S", D(21), None),
        ("NL", "NL", "NL004495445B01", "S", D(21), None),
        # No client country: treated as domestic.
        ("NL", None, None, "S", D(21), None),
        # EU business across a border: reverse charge.
        ("NL", "DE", "DE136695976", "AE", D(0), "reverse_charge"),
        ("DE", "NL", "NL004495445B01", "AE", D(0), "reverse_charge"),
        # EU consumer across a border: the destination rate.
        ("NL", "FR", None, "S", D(20), None),
        ("NL", "DE", None, "S", D(19), None),
        # A configured rate of 0 is zero rated (Z), never S at 0 %.
        ("NL", "DK", None, "Z", D(0), None),
        # Outside the EU: out of scope, with or without a tax number.
        ("NL", "US", None, "O", D(0), "outside_scope"),
        ("NL", "CH", "CHE-123", "O", D(0), "outside_scope"),
        ("NL", "GB", None, "O", D(0), "outside_scope"),
    ],
)
def test_the_vat_table(partner, client, vat_number, category, rate, note):
    treatment = vat_treatment(
        partner_country=partner, client_country=client, client_vat_number=vat_number, rates=RATES
    )
    assert treatment.problem is None
    assert (treatment.category, treatment.rate, treatment.note) == (category, rate, note)
    assert treatment.domestic == (client in (None, partner))


def test_what_cannot_be_invoiced_says_why():
    no_domestic = vat_treatment(
        partner_country="BE", client_country="BE", client_vat_number=None, rates=RATES
    )
    assert no_domestic.category is None and "billing vat set --rate R" in no_domestic.problem
    no_destination = vat_treatment(
        partner_country="NL", client_country="AT", client_vat_number=None, rates=RATES
    )
    assert no_destination.category is None
    assert "--country AT" in no_destination.problem and "consumer in AT" in no_destination.problem
    # A business in AT is reverse charge: no AT rate needed.
    assert (
        vat_treatment(
            partner_country="NL", client_country="AT", client_vat_number="ATU13585627", rates=RATES
        ).category
        == "AE"
    )


def test_eu_membership_is_the_27():
    assert len(EU_MEMBER_STATES) == 27 and "GB" not in EU_MEMBER_STATES and "GR" in EU_MEMBER_STATES


def test_vat_is_rounded_half_even_to_the_currency_and_once_per_rate():
    assert vat_amount(D("1250.00"), D(21), "EUR") == D("262.50")
    assert vat_amount(D("7.50"), D(21), "EUR") == D("1.58")  # 1.575 -> 1.58 (7 is odd)
    assert vat_amount(D("2.50"), D(21), "EUR") == D("0.52")  # 0.525 -> 0.52 (2 is even)
    assert vat_amount(D("1211"), D(21), "JPY") == D("254")  # no minor units
    lines = [("S", D(21), D("0.05")), ("S", D(21), D("0.05")), ("AE", D(0), D("10.00"))]
    # Per rate the VAT is taken of the summed net (0.10 x 21 % = 0.021 -> 0.02), not summed per line.
    assert vat_breakdown(lines, "EUR") == [
        {"category": "AE", "rate": D(0), "net": D("10.00"), "vat": D("0.00")},
        {"category": "S", "rate": D(21), "net": D("0.10"), "vat": D("0.02")},
    ]
