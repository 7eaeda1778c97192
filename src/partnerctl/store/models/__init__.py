"""All tables; importing this module registers every table on SQLModel.metadata."""

from partnerctl.store.models.billing import (
    ExchangeRate,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    InvoiceSequence,
    VatRate,
)
from partnerctl.store.models.clients import Client, ClientAssignment, ClientGroup, ClientIntegration
from partnerctl.store.models.core import (
    AuditEvent,
    Integration,
    Partner,
    Product,
    User,
    UserBase,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from partnerctl.store.models.outbox import OutboxAttachment, OutboxMessage
from partnerctl.store.models.reminders import (
    ReminderDigest,
    ReminderNudge,
    ReminderSchedule,
    ReminderSubscription,
)
from partnerctl.store.models.subscriptions import Subscription
from partnerctl.store.models.templates import ConfigTemplate
from partnerctl.store.models.tenants import Tenant, TenantAdmin, TenantContent, TenantCredentialKey

__all__ = [
    "AuditEvent",
    "ExchangeRate",
    "Invoice",
    "InvoiceLine",
    "InvoicePayment",
    "InvoiceSequence",
    "VatRate",
    "Client",
    "ClientAssignment",
    "ClientGroup",
    "ClientIntegration",
    "Subscription",
    "ConfigTemplate",
    "Tenant",
    "TenantAdmin",
    "TenantContent",
    "TenantCredentialKey",
    "Integration",
    "OutboxAttachment",
    "OutboxMessage",
    "ReminderDigest",
    "ReminderNudge",
    "ReminderSchedule",
    "ReminderSubscription",
    "Partner",
    "Product",
    "User",
    "UserBase",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]
