"""The client book as code: export the store as TOML files, plan the files against the store (with
what the plan does to monthly billing), apply exactly a saved plan.

This module is the area's public surface: commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.book.apply import Applied, apply_plan
from partnerctl.services.book.drift import drift_recipients, queue_drift_report
from partnerctl.services.book.export import export_book
from partnerctl.services.book.plan import ACTIONS, KINDS, Change, Plan, plan_book
from partnerctl.services.book.planfile import save_plan
from partnerctl.services.book.snapshot import begin_snapshot

__all__ = [
    "ACTIONS",
    "KINDS",
    "Applied",
    "Change",
    "Plan",
    "apply_plan",
    "begin_snapshot",
    "drift_recipients",
    "export_book",
    "plan_book",
    "queue_drift_report",
    "save_plan",
]
