"""`partnerctl reminder ...` end to end: permissions, schedule, cron sends delivered exactly once at aiosmtpd."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.cli import run_partnerctl
from tests.helpers.store import ADMIN, add_client, add_user, assign, outbox_rows, store_session

MONDAY = "2026-03-16T09:05:00+00:00"  # 10:05 in Copenhagen


@pytest.fixture
def firm(initialized):
    """Bookkeepers bob (nl) and carl, clients ACME-1 (bob, carl) and ACME-2 (bob), LONELY (nobody)."""
    with store_session(initialized) as s:
        bob = add_user(s, "bob@acme.example", name="Bob", language="nl")
        carl = add_user(s, "carl@acme.example", name="Carl", language="de")
        a = add_client(s, "ACME-1", name="Alpha", missing=3, ready=1)
        b = add_client(s, "ACME-2", name="Beta", missing=2)
        add_client(s, "LONELY", missing=9)
        assign(s, a, bob, carl)
        assign(s, b, bob)
    return initialized


def test_subscribe_list_unsubscribe_and_who_may_do_what(firm, cli):
    bob = ("--as", "bob@acme.example")
    cli.ok(*bob, "reminder", "subscribe", "ACME-1", "--frequency", "weekly", "--topic", "missing-receipts")
    made = cli.ok(*bob, "reminder", "subscribe", "acme-2", "-f", "daily", "-o", "json").json()
    assert (made["user"], made["client"], made["created"]) == ("bob@acme.example", "ACME-2", True)
    cli.fails(3, *bob, "reminder", "subscribe", "LONELY", "-f", "daily")  # not his client: not visible
    cli.fails(5, *bob, "reminder", "subscribe", "ACME-1", "-f", "daily", "--user", "carl@acme.example")
    cli.fails(5, "reminder", "subscribe", "ACME-2", "-f", "daily", "--user", "carl@acme.example")
    cli.fails(2, *bob, "reminder", "subscribe", "ACME-1", "-f", "hourly")
    cli.fails(2, *bob, "reminder", "subscribe", "ACME-1", "-f", "daily", "--topic", "coffee")
    # An admin subscribes others (to clients they are assigned to) and themself to any client.
    cli.ok("reminder", "subscribe", "ACME-1", "-f", "monthly", "--user", "carl@acme.example")
    cli.ok("reminder", "subscribe", "LONELY", "-f", "weekly")
    mine = cli.ok(*bob, "reminder", "list", "-o", "json").json()
    assert [(r["client"], r["frequency"], r["topics"]) for r in mine] == [
        ("ACME-1", "weekly", ["missing-receipts"]),
        ("ACME-2", "daily", ["balance", "missing-receipts", "expenses-ready"]),
    ]
    # Subscribing again at the same frequency changes the topics instead of adding a second digest.
    cli.ok(*bob, "reminder", "subscribe", "ACME-1", "-f", "weekly", "-t", "balance", "-t", "expenses-ready")
    assert cli.ok(*bob, "reminder", "list", "-o", "json").json()[0]["topics"] == ["balance", "expenses-ready"]
    cli.fails(5, *bob, "reminder", "list", "--user", "carl@acme.example")
    cli.fails(5, *bob, "reminder", "list", "--all")
    everyone = cli.ok("reminder", "list", "--all", "-o", "json").json()
    assert sorted((r["user"], r["client"]) for r in everyone) == [
        (ADMIN, "LONELY"),
        ("bob@acme.example", "ACME-1"),
        ("bob@acme.example", "ACME-2"),
        ("carl@acme.example", "ACME-1"),
    ]
    cli.ok(*bob, "reminder", "unsubscribe", "ACME-2")
    cli.fails(3, *bob, "reminder", "unsubscribe", "ACME-2")
    cli.ok("reminder", "unsubscribe", "ACME-1", "--user", "carl@acme.example", "-f", "monthly")
    assert cli.ok("reminder", "list", "--user", "carl@acme.example", "-o", "json").json() == []
    actions = [e["action"] for e in cli.ok("audit", "list", "--action", "reminder", "-o", "json").json()]
    assert actions.count("reminder.subscribe") == 5 and actions.count("reminder.unsubscribe") == 2


def test_schedule_show_set_and_validate(firm, cli):
    shown = cli.ok("reminder", "schedule", "--now", MONDAY, "-o", "json").json()
    assert (shown["time"], shown["timezone"], shown["weekday"]) == ("10:00", "Europe/Copenhagen", "monday")
    assert shown["weekly_period"] == "2026-W12" and shown["weekly_next"] == "2026-03-23T10:00+01:00"
    assert shown["monthly_next"] == "2026-04-06T10:00+02:00"  # the first Monday of April, in CEST
    cli.fails(5, "--as", "bob@acme.example", "reminder", "schedule", "--time", "08:00")
    cli.fails(2, "reminder", "schedule", "--timezone", "Europe/Atlantis")
    cli.fails(2, "reminder", "schedule", "--time", "8 o'clock")
    changed = cli.ok(
        "reminder", "schedule", "--time", "07:30", "--timezone", "America/New_York", "--weekday", "fri",
        "--monthday", "last", "--now", MONDAY, "-o", "json",
    ).json()  # fmt: skip
    assert changed["weekly_next"] == "2026-03-20T07:30-04:00"
    assert changed["monthly_next"] == "2026-03-31T07:30-04:00"
    event = cli.ok("audit", "list", "--action", "reminder.schedule", "-o", "json").json()[0]
    assert event["before"]["timezone"] == "Europe/Copenhagen" and event["after"]["weekday"] == 4


def test_send_dry_run_preview_and_nothing_due(firm, cli):
    bob = ("--as", "bob@acme.example")
    cli.ok(*bob, "reminder", "subscribe", "ACME-1", "-f", "weekly")
    cli.ok(*bob, "reminder", "subscribe", "ACME-2", "-f", "weekly", "-t", "balance")
    cli.ok("reminder", "subscribe", "ACME-2", "-f", "weekly", "-t", "expenses-ready")  # nothing outstanding
    plan = cli.ok("reminder", "send", "--now", MONDAY, "--dry-run", "-o", "json").json()
    assert [(p["user"], p["period"], p["clients"], p["action"]) for p in plan] == [
        (ADMIN, "2026-W12", 1, "skip-empty"),
        ("bob@acme.example", "2026-W12", 2, "send"),
    ]
    assert outbox_rows(firm, "digest") == []
    cli.fails(5, *bob, "reminder", "send", "--now", MONDAY)
    preview = cli.ok(*bob, "reminder", "preview", "--user", "bob@acme.example", "--now", MONDAY).stdout
    assert "Subject: Je wekelijkse klantoverzicht voor 2026-W12" in preview
    assert (
        "Alpha (ACME-1)" in preview and "Beta (ACME-2)" in preview and "Ontbrekende bonnetjes: 3" in preview
    )
    cli.fails(5, *bob, "reminder", "preview", "--user", ADMIN)
    sent = cli.ok("reminder", "send", "--now", MONDAY, "-o", "json")
    assert sent.json()["queued"] == 1 and sent.json()["empty_skipped"] == 1
    assert [r["to_addr"] for r in outbox_rows(firm, "digest")] == ["bob@acme.example"]
    # Cron again ten minutes later: nothing due, nothing done, exit 0.
    again = cli.ok("reminder", "send", "--now", "2026-03-16T09:15:00+00:00")
    assert "nothing due" in again.stderr
    assert len(outbox_rows(firm, "digest")) == 1
    # The preview still renders the period that was sent, and queues nothing.
    cli.ok("reminder", "preview", "--user", "bob@acme.example", "-f", "weekly", "--now", MONDAY)
    assert len(outbox_rows(firm, "digest")) == 1
    # Without an offset, --now is UTC; a bad one is one clear line.
    cli.fails(2, "reminder", "send", "--now", "next monday")


def test_nudge_counts_bookkeepers_refuses_empty_clients_and_repeats(firm, cli):
    first = cli.ok(
        "reminder", "nudge", "ACME-1", "--task", "missing-receipts", "--task", "expenses-ready",
        "--comment", "VAT deadline on Friday", "--now", MONDAY, "-o", "json",
    )  # fmt: skip
    assert "nudged 2 bookkeepers" in first.stderr
    assert first.json()["recipients"] == ["bob@acme.example", "carl@acme.example"]
    mails = {m["to_addr"]: m for m in outbox_rows(firm, "nudge")}
    assert set(mails) == {"bob@acme.example", "carl@acme.example"}
    assert "Fehlende Belege: 3" in mails["carl@acme.example"]["body_text"]
    assert "VAT deadline on Friday" in mails["carl@acme.example"]["body_text"]
    repeat = cli.fails(
        4, "reminder", "nudge", "ACME-1", "-t", "missing-receipts", "-t", "expenses-ready",
        "-m", "VAT deadline on Friday", "--now", "2026-03-16T20:00:00+00:00",
    )  # fmt: skip
    assert "--again" in repeat.stderr
    cli.ok(
        "reminder", "nudge", "ACME-1", "-t", "expenses-ready", "-t", "missing-receipts",
        "-m", "VAT deadline on Friday", "--again", "--now", "2026-03-16T20:00:00+00:00",
    )  # fmt: skip
    assert len(outbox_rows(firm, "nudge")) == 4
    single = cli.ok("reminder", "nudge", "ACME-2", "-t", "balance", "--now", MONDAY)
    assert "nudged 1 bookkeeper of ACME-2" in single.stderr
    assert "no active bookkeeper" in cli.fails(4, "reminder", "nudge", "LONELY", "-t", "balance").stderr
    cli.fails(2, "reminder", "nudge", "ACME-1")  # no --task
    cli.fails(5, "--as", "bob@acme.example", "reminder", "nudge", "ACME-1", "-t", "balance")
    cli.fails(3, "reminder", "nudge", "NOPE", "-t", "balance")


# -- exactly once, at a real SMTP server, with real processes ---------------------------------------


class CountingHandler:
    """Counts accepted messages; can hold the answer to the Nth DATA until told to refuse it."""

    def __init__(self, hold_at: int | None = None) -> None:
        self.accepted: list[tuple[str, str]] = []  # (recipient, subject)
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.data_calls = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_calls += 1
            hold = self.data_calls == self.hold_at
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Try again later"
        parsed = email.message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(parsed["Subject"])))
        with self.lock:
            self.accepted.extend((rcpt, subject) for rcpt in envelope.rcpt_tos)
        return "250 2.0.0 Ok"

    def per_recipient(self) -> Counter:
        with self.lock:
            return Counter(r for r, _ in self.accepted)


@pytest.fixture
def smtp(request, initialized, cli):
    handler = CountingHandler(getattr(request, "param", None))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in (
        ("mail.transport", "smtp"),
        ("mail.from", "Acme Partners <noreply@acme.example>"),
        ("mail.smtp.host", "127.0.0.1"),
        ("mail.smtp.port", str(port)),
        ("mail.smtp.security", "none"),
        ("mail.smtp.timeout", "10"),
    ):
        cli.ok("profile", "set", key, value)
    yield handler
    handler.release.set()
    controller.stop()


def many_subscribers(url: str, n: int) -> list[str]:
    with store_session(url) as s:
        from partnerctl.services import reminders
        from partnerctl.services.users import get_user

        anna = get_user(s, ADMIN)
        clients = [add_client(s, f"K-{i}", missing=i + 1) for i in range(3)]
        emails = []
        for i in range(n):
            user = add_user(s, f"bk{i:02d}@acme.example", language=("en", "nl", "de", "fr", "da")[i % 5])
            assign(s, clients[i % 3], user)
            reminders.subscribe(s, anna, f"K-{i % 3}", frequency="weekly", user_email=user.email)
            emails.append(user.email)
    return emails


@pytest.mark.slow
def test_two_cron_runs_at_the_same_moment_deliver_each_digest_once(initialized, smtp):
    emails = many_subscribers(initialized, 12)
    cmd = [sys.executable, "-m", "partnerctl", "reminder", "send", "--now", MONDAY]
    procs = [
        subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    assert smtp.per_recipient() == Counter({e: 1 for e in emails})
    assert all("2026-W12" in subject for _, subject in smtp.accepted)
    queued = sorted(int(err.split("queued ")[1].split()[0]) for _, _, err in results if "queued " in err)
    assert sum(queued) == 12, results  # one run queued them all, the other found nothing due
    # Cron once more in the same period: nothing queued, nothing delivered twice.
    again = run_partnerctl("reminder", "send", "--now", "2026-03-16T09:20:00+00:00")
    assert again.returncode == 0 and "nothing due" in again.stderr
    assert smtp.per_recipient() == Counter({e: 1 for e in emails})


@pytest.mark.parametrize("smtp", [5], indirect=True)
@pytest.mark.slow
def test_a_run_killed_halfway_then_rerun_delivers_each_digest_once(initialized, smtp):
    emails = many_subscribers(initialized, 10)
    env = dict(os.environ, PARTNERCTL_OUTBOX_LEASE="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "partnerctl", "reminder", "send", "--now", MONDAY],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert smtp.holding.wait(60), "the run never reached the fifth message"
    os.kill(proc.pid, signal.SIGKILL)  # killed while the fifth digest is on the wire
    proc.wait(timeout=30)
    smtp.release.set()
    assert sum(smtp.per_recipient().values()) == 4
    time.sleep(2.2)  # the dead run's lease on the rest runs out
    rerun = run_partnerctl("reminder", "send", "--now", "2026-03-16T09:15:00+00:00", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "nothing due" in rerun.stderr  # the digests were queued once, by the killed run
    assert smtp.per_recipient() == Counter({e: 1 for e in emails})
    assert len(outbox_rows(initialized, "digest")) == 10


def test_undeliverable_digests_stay_queued_and_exit_9(firm, cli):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    for key, value in (
        ("mail.transport", "smtp"),
        ("mail.from", "noreply@acme.example"),
        ("mail.smtp.host", "127.0.0.1"),
        ("mail.smtp.port", str(dead_port)),
        ("mail.smtp.security", "none"),
    ):
        cli.ok("profile", "set", key, value)
    cli.ok("--as", "bob@acme.example", "reminder", "subscribe", "ACME-1", "-f", "daily")
    failed = cli.fails(9, "reminder", "send", "--now", MONDAY)
    assert "queued 1 digest" in failed.stderr and "deferred" in failed.stderr
    with store_session(firm) as s:
        import sqlalchemy as sa

        assert s.execute(sa.text("SELECT status FROM outbox WHERE kind = 'digest'")).scalars().all() == [
            "pending"
        ]
    # The next cron run does not queue it again; it waits in the outbox for its retry time.
    later = cli.ok("reminder", "send", "--now", "2026-03-16T09:15:00+00:00").stderr
    assert "nothing due" in later and "left in outbox 1" in later
    assert len(outbox_rows(firm, "digest")) == 1
