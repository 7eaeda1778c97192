"""The outbox: queueing e-mail in the caller's transaction, and delivering it exactly once.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.outbox.delivery import (
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_CHUNK,
    DEFAULT_LEASE_SECONDS,
    MAX_ATTEMPTS,
    MAX_BACKOFF_SECONDS,
    DeliveryOptions,
    DeliveryReport,
    claim,
    count_due,
    count_pending,
    deliver,
    release,
)
from partnerctl.services.outbox.queue import (
    count_by_status,
    get_message,
    list_messages,
    parse_status,
    queue_message,
    queue_template,
    queue_test_message,
    retry_message,
)

__all__ = [
    "DEFAULT_BACKOFF_SECONDS",
    "DEFAULT_CHUNK",
    "DEFAULT_LEASE_SECONDS",
    "DeliveryOptions",
    "DeliveryReport",
    "MAX_ATTEMPTS",
    "MAX_BACKOFF_SECONDS",
    "claim",
    "count_by_status",
    "count_due",
    "count_pending",
    "deliver",
    "get_message",
    "list_messages",
    "parse_status",
    "queue_message",
    "queue_template",
    "queue_test_message",
    "release",
    "retry_message",
]
