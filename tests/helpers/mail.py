"""Queueing many messages at once, for the delivery tests."""

from __future__ import annotations


def queue_many(store_url: str, n: int, *, prefix: str = "bulk", to: str = "user{i}@example.com") -> list[int]:
    """Queue n messages in one transaction, as a bulk import would."""
    from partnerctl.services.outbox import queue_message
    from partnerctl.store.engine import make_engine, normalize_url, session_scope

    engine = make_engine(normalize_url(store_url))
    ids = []
    try:
        with session_scope(engine) as s:
            for i in range(n):
                message, _ = queue_message(
                    s, dedupe_key=f"{prefix}:{i}", kind="test", to=to.format(i=i),
                    subject=f"Message {i}", text=f"Body of message {i}.\n",
                )  # fmt: skip
                ids.append(message.id)
    finally:
        engine.dispose()
    return ids


def outbox_by_id(store_url: str) -> dict[int, dict]:
    from tests.helpers.store import outbox_rows

    return {r["id"]: r for r in outbox_rows(store_url)}
