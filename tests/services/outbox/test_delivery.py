"""Delivery: exactly once with concurrent senders and a sender killed mid-batch, refused recipients,
and the Core table it works on matching the model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from partnerctl.mail.message import OUTGOING_COLUMNS
from partnerctl.services.outbox import delivery
from partnerctl.store.models import OutboxMessage
from partnerctl.store.models.outbox import OutboxStatus
from tests.helpers.cli import run_partnerctl
from tests.helpers.mail import outbox_by_id, queue_many
from tests.helpers.smtpd import wait_until


def _spawn(*args: str, env: dict | None = None) -> subprocess.Popen:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "partnerctl", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_three_concurrent_senders_deliver_each_message_once(store_url, smtp_profile, smtp_handler):
    ids = queue_many(store_url, 300)
    smtp_handler.rcpt_delay = 0.003  # long enough a run that the three senders overlap
    procs = [_spawn("outbox", "send", "--batch", "25") for _ in range(3)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err

    counts = smtp_handler.message_ids()
    assert len(smtp_handler.received) == 300
    assert len(counts) == 300 and set(counts.values()) == {1}
    rows = outbox_by_id(store_url)
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert sorted(rows) == sorted(ids)
    assert all(r["server_response"].startswith("250 ") for r in rows.values())
    # Each sender said what it did; together they account for every message.
    sent = [int(err.split("sent ")[1].split(",")[0]) for _c, _o, err in results]
    assert sum(sent) == 300


@pytest.mark.slow
def test_sender_killed_mid_batch_loses_and_duplicates_nothing(store_url, smtp_profile, smtp_handler):
    queue_many(store_url, 30)
    smtp_handler.rcpt_delay = 0.05  # slow enough that the kill lands in the middle of the batch
    proc = _spawn("outbox", "send", env={"PARTNERCTL_OUTBOX_LEASE": "2"})
    assert wait_until(lambda: len(smtp_handler.received) >= 5, timeout=60)
    # Kill while the server holds the next message in RCPT, i.e. mid-transaction.
    smtp_handler.in_rcpt.clear()
    assert wait_until(smtp_handler.in_rcpt.is_set, timeout=10)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed_at = time.monotonic()
    smtp_handler.rcpt_delay = 0.0
    delivered_before = len(smtp_handler.received)
    assert 5 <= delivered_before < 30

    rows = outbox_by_id(store_url)
    sent = [r for r in rows.values() if r["status"] == "sent"]
    leased = [r for r in rows.values() if r["status"] == "pending" and r["lease_owner"]]
    assert len(sent) == delivered_before  # every accepted message was marked before the next one went
    assert len(leased) == 30 - delivered_before

    # While the dead sender's lease runs, nobody else takes its messages.
    early = run_partnerctl("outbox", "send")
    if time.monotonic() - killed_at < 1.5:
        assert early.returncode == 0, early.stderr
        assert len(smtp_handler.received) == delivered_before
        assert f"left {30 - delivered_before}" in early.stderr

    time.sleep(max(0.0, 2.2 - (time.monotonic() - killed_at)))
    late = run_partnerctl("outbox", "send")
    assert late.returncode == 0, late.stderr
    counts = smtp_handler.message_ids()
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert {r["status"] for r in outbox_by_id(store_url).values()} == {"sent"}


def test_refused_recipient_fails_only_that_message(store_url, smtp_profile, smtp_handler, cli):
    smtp_handler.refuse = {
        "user3@example.com": "550 5.1.1 <user3@example.com>: Recipient address rejected: User unknown",
        "user5@example.com": "451 4.7.1 Greylisted, try again later",
    }
    queue_many(store_url, 8)
    res = cli.fails(9, "outbox", "send")
    assert "sent 6, failed 1, deferred 1, left 1" in res.stderr
    assert "User unknown" in res.stderr

    rows = {r["to_addr"]: r for r in outbox_by_id(store_url).values()}
    assert rows["user3@example.com"]["status"] == "failed"
    assert "550 5.1.1" in rows["user3@example.com"]["last_error"]
    later = rows["user5@example.com"]
    assert later["status"] == "pending" and later["attempts"] == 1 and "451" in later["last_error"]
    assert later["lease_owner"] is None
    others = [r for a, r in rows.items() if a not in ("user3@example.com", "user5@example.com")]
    assert {r["status"] for r in others} == {"sent"}
    assert sorted(r.recipients[0] for r in smtp_handler.received) == sorted(r["to_addr"] for r in others)
    # One connection for the whole batch, refusals included.
    assert smtp_handler.connections == 1

    # The deferred one waits for its backoff: a second run right away sends nothing and exits 0.
    again = cli.ok("outbox", "send")
    assert "sent 0, failed 0, deferred 0, left 1" in again.stderr
    assert len(smtp_handler.received) == 6


def test_delivery_table_matches_the_model():
    model = OutboxMessage.__table__
    assert delivery.DELIVERY_TABLE.name == model.name
    for column in delivery.DELIVERY_TABLE.columns:
        assert column.name in model.c, column.name
        for dialect in (postgresql.dialect(), sqlite.dialect()):
            assert column.type.compile(dialect) == model.c[column.name].type.compile(dialect), column.name
        # The same Python-side conversions (UTC datetimes) as the model's columns.
        assert type(column.type).__name__ in (type(model.c[column.name].type).__name__, "String"), column.name
    assert (
        OutboxStatus.pending.value,
        OutboxStatus.sent.value,
        OutboxStatus.failed.value,
    ) == (delivery.PENDING, delivery.SENT, delivery.FAILED)
    # A claim returns every column an OutgoingMessage is made of.
    assert set(OUTGOING_COLUMNS) <= set(delivery.DELIVERY_TABLE.c.keys())
