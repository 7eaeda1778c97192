"""Billing: subscriptions, the billing run with VAT, invoices and credit notes as documents (PDF,
CII, UBL), payments, sending, and the exchange-rate and VAT-rate tables.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.billing.corrections import credit_invoice, record_payment
from partnerctl.services.billing.currency_lock import assert_currency_change_allowed, client_invoice_count
from partnerctl.services.billing.files import FileKind, invoice_file
from partnerctl.services.billing.invoices import (
    get_invoice,
    invoice_totals,
    list_invoices,
    totals_by_currency,
)
from partnerctl.services.billing.rates import list_rates, set_rate
from partnerctl.services.billing.run import run_billing
from partnerctl.services.billing.sending import send_invoice
from partnerctl.services.billing.subscriptions import (
    INVITE_TEMPLATE,
    add_subscription,
    cancel_subscription,
    create_subscription,
    edit_subscription,
    list_subscriptions,
    parse_payer,
    resume_subscription,
    show_subscription,
    subscription_snapshot,
    suspend_subscription,
)
from partnerctl.services.billing.tax import EU_MEMBER_STATES, VatTreatment, vat_treatment
from partnerctl.services.billing.vat_rates import list_vat_rates, set_vat_rate

__all__ = [
    "EU_MEMBER_STATES",
    "INVITE_TEMPLATE",
    "FileKind",
    "VatTreatment",
    "add_subscription",
    "assert_currency_change_allowed",
    "cancel_subscription",
    "client_invoice_count",
    "create_subscription",
    "credit_invoice",
    "edit_subscription",
    "get_invoice",
    "invoice_file",
    "invoice_totals",
    "list_invoices",
    "list_rates",
    "list_subscriptions",
    "list_vat_rates",
    "parse_payer",
    "record_payment",
    "resume_subscription",
    "run_billing",
    "send_invoice",
    "set_rate",
    "set_vat_rate",
    "show_subscription",
    "subscription_snapshot",
    "suspend_subscription",
    "totals_by_currency",
    "vat_treatment",
]
