"""Billing: subscriptions, the billing run, invoices and the explicit exchange-rate table.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.billing.invoices import (
    BillingRun,
    InvoiceDetail,
    InvoiceResult,
    InvoiceRow,
    Skipped,
    TotalRow,
    assert_currency_change_allowed,
    client_invoice_count,
    get_invoice,
    invoice_totals,
    list_invoices,
    list_rates,
    run_billing,
    set_rate,
)
from partnerctl.services.billing.subscriptions import (
    INVITE_TEMPLATE,
    SORTS,
    SubscriptionView,
    add_subscription,
    cancel_subscription,
    create_subscription,
    edit_subscription,
    get_subscription,
    list_subscriptions,
    parse_payer,
    parse_status,
    resume_subscription,
    show_subscription,
    subscription_snapshot,
    suspend_subscription,
)

__all__ = [
    "BillingRun",
    "INVITE_TEMPLATE",
    "InvoiceDetail",
    "InvoiceResult",
    "InvoiceRow",
    "SORTS",
    "Skipped",
    "SubscriptionView",
    "TotalRow",
    "add_subscription",
    "assert_currency_change_allowed",
    "cancel_subscription",
    "client_invoice_count",
    "create_subscription",
    "edit_subscription",
    "get_invoice",
    "get_subscription",
    "invoice_totals",
    "list_invoices",
    "list_rates",
    "list_subscriptions",
    "parse_payer",
    "parse_status",
    "resume_subscription",
    "run_billing",
    "set_rate",
    "show_subscription",
    "subscription_snapshot",
    "suspend_subscription",
]
