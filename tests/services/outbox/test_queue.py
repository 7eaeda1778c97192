"""Queueing mail: one row shape for every path (one at a time, rendered templates, bulk digests)."""

from __future__ import annotations

from datetime import UTC, datetime

from partnerctl.services import outbox, reminders
from partnerctl.services.outbox import delivery, queue
from tests.helpers.store import add_client, admin, outbox_rows, store_session

# What a new message is, whichever path queued it (everything but its content and its times).
STATE_COLUMNS = (
    "status", "attempts", "from_addr", "lease_until", "lease_owner",
    "last_error", "server_response", "sent_at",
)  # fmt: skip


def test_the_public_surface_resolves_every_name_from_its_module():
    for name in outbox.__all__:
        value = getattr(outbox, name)
        assert value is getattr(queue, name, None) or value is getattr(delivery, name, None), name
    assert sorted(outbox.__all__) == dir(outbox)


def test_message_values_are_a_pending_message_due_when_queued():
    at = datetime(2026, 3, 16, 9, 5, tzinfo=UTC)
    values = outbox.message_values(
        dedupe_key="k", kind="test", to="a@example.com", subject="S", text="T", at=at
    )
    assert values == {
        "dedupe_key": "k", "kind": "test", "to_addr": "a@example.com", "subject": "S", "body_text": "T",
        "body_html": None, "language": "en", "status": "pending", "attempts": 0,
        "next_attempt_at": at, "created_at": at, "client_id": None,
    }  # fmt: skip


def test_the_same_dedupe_key_twice_keeps_one_message(initialized):
    with store_session(initialized) as s:
        first, created = outbox.queue_message(s, dedupe_key="k", kind="test", to="a@example.com", subject="S",
                                              text="one")  # fmt: skip
        again, created_again = outbox.queue_message(s, dedupe_key="k", kind="test", to="b@example.com",
                                                    subject="S", text="two")  # fmt: skip
        assert (created, created_again, again.id) == (True, False, first.id)
    assert [r["body_text"] for r in outbox_rows(initialized)] == ["one"]


def test_a_bulk_queued_digest_is_stored_as_a_queued_template_is(initialized):
    monday = datetime(2026, 3, 16, 9, 5, tzinfo=UTC)
    with store_session(initialized) as s:
        add_client(s, "ACME-1", name="Alpha", missing=3)
        reminders.subscribe(s, admin(s), "ACME-1", frequency="weekly")
        outbox.queue_template(s, template="test", language="en", to="a@example.com", dedupe_key="t:1",
                              context={"actor": "Anna", "email": "a@example.com", "at": "now"})  # fmt: skip
        reminders.queue_due_digests(s, admin(s), clock=lambda: monday, frequencies=["weekly"])
    with store_session(initialized) as s:
        (preview,) = reminders.preview_digests(s, admin(s), admin(s).email, frequency="weekly", now=monday)
    (template,) = outbox_rows(initialized, "test")
    (digest,) = outbox_rows(initialized, "digest")
    assert [digest[c] for c in STATE_COLUMNS] == [template[c] for c in STATE_COLUMNS]
    assert template["status"] == "pending" and template["attempts"] == 0
    for row in (template, digest):
        assert row["next_attempt_at"] == row["created_at"]  # due as soon as it is queued
    expected = outbox.rendered_values(preview, dedupe_key=preview.digest.dedupe_key, kind="digest",
                                      to=preview.digest.email, at=digest["created_at"])  # fmt: skip
    assert {k: digest[k] for k in expected if k not in ("created_at", "next_attempt_at")} == {
        k: v for k, v in expected.items() if k not in ("created_at", "next_attempt_at")
    }
