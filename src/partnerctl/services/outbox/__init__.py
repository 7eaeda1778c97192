"""The outbox: queueing e-mail in the caller's transaction (queue), delivering it exactly once (delivery).

This module is the area's public surface: other areas and commands import from here only.

Delivery works on a Core table and never needs the ORM models; the queue does, and importing them
(all of them, through store.models) adds a fifth of a second to a process. So that `partnerctl
outbox send` does not pay for what it does not use, the queue's names (those of __all__ that are
not imported from delivery below) are loaded on first use, by a module __getattr__ (PEP 562).
`from partnerctl.services.outbox import queue_template` works as with any other name.
tests/commands/test_outbox.py checks that `outbox send` leaves store.models unimported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerctl.services.outbox.delivery import (
    DEFAULT_CHUNK,
    DEFAULT_LEASE_SECONDS,
    DeliveryOptions,
    DeliveryReport,
    deliver,
)

if TYPE_CHECKING:
    from partnerctl.services.outbox.queue import (
        count_by_status,
        get_message,
        list_messages,
        message_values,
        queue_many,
        queue_message,
        queue_template,
        queue_test_message,
        rendered_values,
        retry_message,
    )

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_LEASE_SECONDS",
    "DeliveryOptions",
    "DeliveryReport",
    "count_by_status",
    "deliver",
    "get_message",
    "list_messages",
    "message_values",
    "queue_many",
    "queue_message",
    "queue_template",
    "queue_test_message",
    "rendered_values",
    "retry_message",
]


def __getattr__(name: str) -> object:
    # Called only for names not bound yet: those of __all__ not imported above are the queue's.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from partnerctl.services.outbox import queue

    value = getattr(queue, name)
    globals()[name] = value  # later look-ups find it directly
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
