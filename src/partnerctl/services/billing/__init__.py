"""Billing: subscriptions, the billing run, invoices and the explicit exchange-rate table.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.billing.currency_lock import assert_currency_change_allowed, client_invoice_count
from partnerctl.services.billing.invoices import (
    get_invoice,
    invoice_totals,
    list_invoices,
    totals_by_currency,
)
from partnerctl.services.billing.rates import list_rates, set_rate
from partnerctl.services.billing.run import run_billing
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

__all__ = [
    "INVITE_TEMPLATE",
    "add_subscription",
    "assert_currency_change_allowed",
    "cancel_subscription",
    "client_invoice_count",
    "create_subscription",
    "edit_subscription",
    "get_invoice",
    "invoice_totals",
    "list_invoices",
    "list_rates",
    "list_subscriptions",
    "parse_payer",
    "resume_subscription",
    "run_billing",
    "set_rate",
    "show_subscription",
    "subscription_snapshot",
    "suspend_subscription",
    "totals_by_currency",
]
