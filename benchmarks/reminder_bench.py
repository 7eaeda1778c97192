"""Benchmark: queue and render the weekly digests of 5,000 users subscribed to 20 clients each.

Run:  python benchmarks/reminder_bench.py [--users 5000] [--small 500] [--store URL]

It builds a fresh store (a temporary SQLite file unless --store names an empty PostgreSQL database),
then times `reminders.queue_due_digests` (plan + render + bulk insert, one transaction) at two sizes
and counts the SQL statements it sends (SQLAlchemy `before_cursor_execute`). The count must be the
same at both sizes: no per-user queries. As a baseline from the same run it also queues the small
size the naive way (`outbox.queue_template` per user), whose statement count grows with the users.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from partnerctl.services import reminders
from partnerctl.store.engine import make_engine, normalize_url, session_scope
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    Partner,
    ReminderSubscription,
    User,
)
from partnerctl.store.models.reminders import ALL_TOPICS
from partnerctl.store.schema import upgrade

CLIENTS_PER_USER = 20
CLIENTS = 2_000
LANGUAGES = ("en", "nl", "de", "fr", "da")
ADMIN = "bench-admin@acme.example"


def populate(engine, first_user: int, last_user: int) -> None:
    """Users first_user..last_user-1, each a bookkeeper assigned and subscribed weekly to 20 clients."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        if first_user == 0:
            s.add(Partner(name="Bench Partners"))
            s.add(User(email=ADMIN, name="Admin", role="admin"))
            s.execute(
                sa.insert(Client),
                [
                    {
                        "ref": f"C-{i:05d}",
                        "ref_key": f"c-{i:05d}",
                        "name": f"Client {i:05d}",
                        "name_key": f"client {i:05d}",
                        "status": "active",
                        "currency": "EUR",
                        "language": "en",
                        "permissions": [],
                        "missing_receipts": i % 7,
                        "wallet_balance": Decimal(i % 500) - Decimal("20.5"),
                        "expenses_ready": i % 3,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(CLIENTS)
                ],
            )
        s.execute(
            sa.insert(User),
            [
                {
                    "email": f"user{u:05d}@acme.example",
                    "name": f"User {u}",
                    "role": "bookkeeper",
                    "language": LANGUAGES[u % len(LANGUAGES)],
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for u in range(first_user, last_user)
            ],
        )
        ids = dict(s.execute(sa.select(User.email, User.id)).all())
        client_ids = [cid for (cid,) in s.execute(sa.select(Client.id).order_by(Client.id))]
        assignments, subscriptions = [], []
        for u in range(first_user, last_user):
            uid = ids[f"user{u:05d}@acme.example"]
            for k in range(CLIENTS_PER_USER):
                cid = client_ids[(u * CLIENTS_PER_USER + k) % CLIENTS]
                assignments.append({"client_id": cid, "user_id": uid})
                subscriptions.append(
                    {
                        "user_id": uid,
                        "client_id": cid,
                        "frequency": "weekly",
                        "topics": list(ALL_TOPICS),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        s.execute(sa.insert(ClientAssignment), assignments)
        s.execute(sa.insert(ReminderSubscription), subscriptions)


def measure(engine, now: datetime) -> tuple[float, int, int]:
    counter = {"n": 0}

    def count(*_args) -> None:
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        start = time.perf_counter()
        with session_scope(engine) as s:
            result = reminders.queue_due_digests(s, ADMIN, clock=lambda: now, frequencies=["weekly"])
        elapsed = time.perf_counter() - start
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return elapsed, counter["n"], len(result.queued)


def naive_baseline(engine, now: datetime) -> tuple[float, int, int]:
    """The same digests queued one by one with queue_template (a dedupe look-up per message)."""
    from partnerctl.services.outbox import queue_template

    counter = {"n": 0}

    def count(*_args) -> None:
        counter["n"] += 1

    with session_scope(engine) as s:
        digests = reminders.plan_digests(s, now, frequencies=["weekly"])
    event.listen(engine, "before_cursor_execute", count)
    try:
        start = time.perf_counter()
        with session_scope(engine) as s:
            for d in digests:
                queue_template(
                    s,
                    template="digest",
                    language=d.language,
                    to=d.email,
                    dedupe_key="naive:" + d.dedupe_key,
                    context=reminders.digest_context(d, "Bench Partners"),
                )
            s.rollback()  # leave the store as it was
        elapsed = time.perf_counter() - start
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return elapsed, counter["n"], len(digests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--store", help="an EMPTY PostgreSQL database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.store or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(normalize_url(url))
        upgrade(engine)
        print(f"store: {engine.url.render_as_string(hide_password=True)}")

        build = time.perf_counter()
        populate(engine, 0, args.small)
        print(
            f"built {args.small} users x {CLIENTS_PER_USER} subscriptions in {time.perf_counter() - build:.1f}s"
        )
        week1 = datetime(2026, 3, 9, 9, 5, tzinfo=UTC)
        base_t, base_q, base_n = naive_baseline(engine, week1)
        small_t, small_q, small_n = measure(engine, week1)

        build = time.perf_counter()
        populate(engine, args.small, args.users)
        print(
            f"built {args.users} users x {CLIENTS_PER_USER} subscriptions in {time.perf_counter() - build:.1f}s"
        )
        large_t, large_q, large_n = measure(engine, datetime(2026, 3, 16, 9, 5, tzinfo=UTC))
        again_t, again_q, again_n = measure(engine, datetime(2026, 3, 16, 9, 20, tzinfo=UTC))
        engine.dispose()

    print()
    print(f"{'run':<44}{'digests':>8}{'seconds':>10}{'ms/digest':>11}{'SQL stmts':>11}")
    for label, t, q, n in (
        (f"baseline: queue_template per user ({args.small})", base_t, base_q, base_n),
        (f"queue_due_digests, {args.small} users", small_t, small_q, small_n),
        (f"queue_due_digests, {args.users} users", large_t, large_q, large_n),
        ("same period again (nothing due)", again_t, again_q, again_n),
    ):
        per = f"{1000 * t / n:.3f}" if n else "-"
        print(f"{label:<44}{n:>8}{t:>10.2f}{per:>11}{q:>11}")
    print()
    print(
        f"statements: {small_q} at {args.small} users, {large_q} at {args.users} users "
        f"({'constant' if small_q == large_q else 'GROWS'}); naive baseline {base_q} at {args.small} users"
    )
    print(
        f"per-digest time, {args.users} vs {args.small} users: x{(large_t / large_n) / (small_t / small_n):.2f}; "
        f"bulk vs naive at {args.small} users: x{(small_t / small_n) / (base_t / base_n):.2f}"
    )
    print(
        f"target: {args.users} users queued+rendered in under 10 s -> {large_t:.2f}s "
        f"({'met' if large_t < 10 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
