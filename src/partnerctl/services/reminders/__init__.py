"""Reminders: the partner-wide schedule, digest subscriptions, queueing digests once, nudges.

This module is the area's public surface: other areas and commands import from here only.
The modules: schedule (periods in the schedule's timezone), topics (what a reminder says about a
client), subscriptions (who gets which digest), digests (plan, render, queue once), nudges.
"""

from __future__ import annotations

from partnerctl.services.reminders.digests import (
    digest_context,
    plan_digests,
    preview_digests,
    queue_due_digests,
)
from partnerctl.services.reminders.nudges import nudge
from partnerctl.services.reminders.schedule import (
    get_schedule,
    schedule_view,
    set_schedule,
    system_clock,
)
from partnerctl.services.reminders.subscriptions import (
    list_subscriptions,
    subscribe,
    unsubscribe,
)
from partnerctl.services.reminders.topics import ALL_TOPICS, labels_for

__all__ = [
    "ALL_TOPICS",
    "digest_context",
    "get_schedule",
    "labels_for",
    "list_subscriptions",
    "nudge",
    "plan_digests",
    "preview_digests",
    "queue_due_digests",
    "schedule_view",
    "set_schedule",
    "subscribe",
    "system_clock",
    "unsubscribe",
]
