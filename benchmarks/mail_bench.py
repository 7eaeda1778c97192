"""Benchmark: `partnerctl outbox send` against a bare smtplib loop, both to a local aiosmtpd.

    python benchmarks/mail_bench.py --messages 2000 [--store postgresql+psycopg://...]

Queues N messages in a fresh store, delivers them with `partnerctl outbox send` (a real subprocess,
start-up included), then sends the same N messages (pre-built) over one smtplib connection — the
limit for one sender. Prints messages/s for both and the ratio (target: >= 0.5), and the same without
process start-up (timed as an `outbox send` with nothing left to send). With --store, the store's
outbox table is emptied first: point it at a scratch database. --profile PATH runs the send under
cProfile.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

BARE_LOOP = """
import pickle, smtplib, sys, time
messages = pickle.loads(open(sys.argv[1], "rb").read())
t0 = time.perf_counter()
conn = smtplib.SMTP("127.0.0.1", int(sys.argv[2]), local_hostname="localhost", timeout=30)
for data, to in messages:
    conn.sendmail("bench@acme.example", [to], data)
conn.quit()
print(time.perf_counter() - t0)
"""


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000, help="how many messages (default 2000)")
    parser.add_argument("--store", help="store URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--profile", metavar="PATH", help="run `outbox send` under cProfile, writing the stats to PATH"
    )
    args = parser.parse_args()
    n = args.messages

    tmp = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    env = dict(os.environ)
    env.update(
        PARTNERCTL_CONFIG_DIR=str(tmp / "config"),
        PARTNERCTL_DATA_DIR=str(tmp / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    env.pop("PARTNERCTL_PROFILE", None)
    store = args.store or f"sqlite:///{tmp / 'bench.db'}"
    env["PARTNERCTL_STORE"] = store
    os.environ.update(env)

    handler = Counter()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        py = [sys.executable, "-m", "partnerctl"]
        if args.store:
            from partnerctl.store.engine import make_engine, normalize_url
            from partnerctl.store.schema import upgrade

            engine = make_engine(normalize_url(store))
            upgrade(engine)
            engine.dispose()
        for key, value in (
            ("mail.transport", "smtp"),
            ("mail.from", "Bench <bench@acme.example>"),
            ("mail.smtp.host", "127.0.0.1"),
            ("mail.smtp.port", str(port)),
            ("mail.smtp.security", "none"),
        ):
            run([*py, "profile", "set", key, value], env)

        from partnerctl.mail.message import OutgoingMessage, build_email
        from partnerctl.services.outbox import queue_message
        from partnerctl.store.engine import make_engine, normalize_url, session_scope
        from partnerctl.store.models import OutboxMessage

        engine = make_engine(normalize_url(store))
        from partnerctl.store.schema import ensure_schema

        ensure_schema(engine, auto_upgrade=True)
        with session_scope(engine) as s:
            s.exec(OutboxMessage.__table__.delete())  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            for i in range(n):
                queue_message(
                    s,
                    dedupe_key=f"bench:{i}",
                    kind="bench",
                    to=f"client{i}@example.com",
                    subject=f"Your weekly digest #{i}",
                    text=f"Hello client {i},\n\nyou have {i % 7} missing receipts.\n\n-- Acme\n",
                )
        queue_s = time.perf_counter() - t0
        with session_scope(engine, readonly=True) as s:
            rows = list(s.exec(__import__("sqlmodel").select(OutboxMessage)))
            messages = [
                (
                    build_email(
                        OutgoingMessage(
                            id=r.id,
                            dedupe_key=r.dedupe_key,
                            to_addr=r.to_addr,
                            from_addr=None,
                            subject=r.subject,
                            body_text=r.body_text,
                            body_html=None,
                            created_at=r.created_at,
                        ),
                        "Bench <bench@acme.example>",
                    ).as_bytes(),
                    r.to_addr,
                )
                for r in rows
            ]
        engine.dispose()

        # 1. partnerctl outbox send (a real process, start-up and bookkeeping included).
        send_cmd = [*py, "outbox", "send"]
        if args.profile:
            send_cmd = [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                args.profile,
                "-m",
                "partnerctl",
                "outbox",
                "send",
            ]
        t0 = time.perf_counter()
        proc = run(send_cmd, env)
        outbox_s = time.perf_counter() - t0
        assert handler.count == n, (handler.count, proc.stderr)

        # 2. The bare limit: the same messages, pre-built, over one smtplib connection, also in a
        #    process of its own (so both face the same scheduling); timed around the loop only.
        handler.count = 0
        blob = tmp / "messages.pickle"
        blob.write_bytes(pickle.dumps(messages))
        proc = run([sys.executable, "-c", BARE_LOOP, str(blob), str(port)], env)
        bare_s = float(proc.stdout.strip())
        assert handler.count == n

        # 3. Start-up alone: the same command with nothing left to send (imports, config, schema check).
        t0 = time.perf_counter()
        run([*py, "outbox", "send"], env)
        startup_s = time.perf_counter() - t0
    finally:
        controller.stop()

    backend = "postgresql" if args.store and args.store.startswith("postgres") else "sqlite"
    outbox_rate = n / outbox_s
    bare_rate = n / bare_s
    print(f"messages: {n} (store: {backend}; queued in {queue_s:.2f}s)")
    print(f"outbox send : {outbox_rate:8.0f} msg/s ({outbox_s:.2f}s, process start-up included)")
    print(
        f"bare smtplib: {bare_rate:8.0f} msg/s ({bare_s:.2f}s, one connection, pre-built messages, loop only)"
    )
    print(f"ratio       : {outbox_rate / bare_rate:.2f}x (target >= 0.5x)")
    loop_s = max(outbox_s - startup_s, 1e-9)
    print(
        f"without start-up ({startup_s:.2f}s, an empty `outbox send`): {n / loop_s:.0f} msg/s, "
        f"ratio {n / loop_s / bare_rate:.2f}x"
    )


if __name__ == "__main__":
    main()
