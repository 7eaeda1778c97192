"""Delivering the outbox exactly once: claim with a lease, send outside the transaction, then mark.

Every step is its own short transaction on the Engine:
1. claim: pending, due, unleased rows get `lease_owner`/`lease_until` (PostgreSQL: FOR UPDATE SKIP
   LOCKED, so concurrent senders take disjoint rows; SQLite: store.engine begins write transactions
   IMMEDIATE, which serialises claimers), in one UPDATE ... RETURNING;
2. compose each message (partnerctl.mail.message) and hand it to the transport (partnerctl.mail.transport)
   with no transaction open (a slow mail server never holds a lock);
3. mark each message sent (with the server's answer), failed, or deferred with a backoff — one commit
   per message, before the next one is handed over, so a process killed at any moment leaves at most
   the one message that was on the wire unmarked; its lease expires and the next run sends it.
A sender stops handing messages over before its lease runs out, so nobody else can claim a message
it is still sending.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from partnerctl.mail.message import (
    OUTGOING_COLUMNS,
    Attachment,
    OutgoingMessage,
    build_email,
    envelope_recipient,
    envelope_sender,
)
from partnerctl.mail.transport import (
    MailSettings,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
    open_transport,
)
from partnerctl.store.engine import is_sqlite
from partnerctl.store.types import UTCDateTime, utcnow

DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_CHUNK = 100
DEFAULT_BACKOFF_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 6 * 3600.0
MAX_ATTEMPTS = 20

# The columns delivery touches, as a plain Core table: importing the ORM models (all of them, through
# store.models) would add a fifth of a second to every `outbox send`. A test checks that these match
# store.models.outbox.OutboxMessage, the one source of the schema, and another that `outbox send`
# never imports store.models.
DELIVERY_TABLE = sa.Table(
    "outbox",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dedupe_key", sa.String(300)),
    sa.Column("to_addr", sa.String(320)),
    sa.Column("from_addr", sa.String(320)),
    sa.Column("subject", sa.String(300)),
    sa.Column("body_text", sa.Text),
    sa.Column("body_html", sa.Text),
    sa.Column("status", sa.String(10)),
    sa.Column("attempts", sa.Integer),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("last_error", sa.Text),
    sa.Column("server_response", sa.Text),
    sa.Column("created_at", UTCDateTime),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("attachments", sa.Integer),
)
# The files of messages that have any (store.models.outbox.OutboxAttachment, checked by the same test).
ATTACHMENT_TABLE = sa.Table(
    "outbox_attachments",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_id", sa.Integer),
    sa.Column("filename", sa.String(200)),
    sa.Column("content_type", sa.String(100)),
    sa.Column("content", sa.LargeBinary),
)
# store.models.outbox.OutboxStatus values (checked by the same test).
PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class DeliveryOptions:
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    chunk: int = DEFAULT_CHUNK
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS
    max_attempts: int = MAX_ATTEMPTS


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    left: int = 0
    due: int = 0
    dry_run: bool = False
    destination: str = ""
    problems: list[str] = field(default_factory=list)
    stopped: str | None = None

    def note(self, problem: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(problem)


def _due_clause(now):
    return sa.and_(
        DELIVERY_TABLE.c.status == PENDING,
        DELIVERY_TABLE.c.next_attempt_at <= now,
        sa.or_(DELIVERY_TABLE.c.lease_until.is_(None), DELIVERY_TABLE.c.lease_until < now),
    )


def _reader(engine: Engine):
    # Readonly: on SQLite a plain BEGIN, not the IMMEDIATE one that would queue behind writers.
    return engine.execution_options(partnerctl_readonly=True).connect()


def count_due(engine: Engine) -> int:
    with _reader(engine) as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(DELIVERY_TABLE).where(_due_clause(utcnow()))
        ).scalar_one()


def count_pending(engine: Engine) -> int:
    with _reader(engine) as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(DELIVERY_TABLE).where(DELIVERY_TABLE.c.status == PENDING)
        ).scalar_one()


def claim(engine: Engine, owner: str, limit: int, lease_seconds: float) -> list[OutgoingMessage]:
    """Lease up to `limit` due messages to `owner` with one UPDATE ... RETURNING.

    PostgreSQL: the subquery locks the rows it picks FOR UPDATE SKIP LOCKED, so concurrent senders
    take disjoint rows without waiting; SQLite: the write transaction begins IMMEDIATE (see
    store.engine), so claimers are serialised.
    """
    now = utcnow()
    due = sa.select(DELIVERY_TABLE.c.id).where(_due_clause(now)).order_by(DELIVERY_TABLE.c.id).limit(limit)
    if not is_sqlite(engine.url):
        due = due.with_for_update(skip_locked=True)
    statement = (
        sa.update(DELIVERY_TABLE)
        .where(DELIVERY_TABLE.c.id.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
        .returning(*(DELIVERY_TABLE.c[name] for name in OUTGOING_COLUMNS))
    )
    with engine.begin() as conn:
        rows = conn.execute(statement).all()
    # RETURNING follows no ORDER BY: send in id (queueing) order.
    return sorted((OutgoingMessage.from_row(row) for row in rows), key=lambda m: m.id)


class _Marker:
    """Writes each message's outcome with one autocommitted UPDATE on a connection held for the run.

    One commit per message, before the next message is handed over (see the module docstring): the
    UPDATE goes straight to the driver (no Session, no statement compilation per message; the
    columns' own bind processors convert the values), and on its own it is a whole transaction, so
    one round trip marks a message. On PostgreSQL these commits use synchronous_commit=off: a crash
    of the database server itself (not of this process) may forget the last few marks, which can
    only cause a re-send (the same Message-ID), never a loss, and it spares a WAL flush per message.
    """

    def __init__(self, engine: Engine, owner: str) -> None:
        self.owner = owner
        self.conn = engine.connect()
        self.dialect = engine.dialect
        self.postgres = not is_sqlite(engine.url)
        # SQLite: store.engine leaves pysqlite in autocommit mode (isolation_level None) and only
        # SQLAlchemy's begin hook opens transactions, so a bare statement is its own transaction.
        self.dbapi = self.conn.connection.dbapi_connection
        if self.postgres:
            self.dbapi.autocommit = True
            with self.dbapi.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
        self.cursor = self.dbapi.cursor()
        self._statements: dict[tuple[str, ...], tuple[str, list]] = {}

    def _statement(self, keys: tuple[str, ...]) -> tuple[str, list]:
        statement = self._statements.get(keys)
        if statement is None:
            mark = "%({})s" if self.postgres else ":{}"
            sets = ", ".join(f"{k} = {mark.format(k)}" for k in keys)
            sql = (
                f"UPDATE {DELIVERY_TABLE.name} SET {sets}, lease_owner = NULL, lease_until = NULL, "
                f"attempts = attempts + 1 WHERE id = {mark.format('message_id')} "
                f"AND lease_owner = {mark.format('owner')}"
            )
            processors = [(k, DELIVERY_TABLE.c[k].type._cached_bind_processor(self.dialect)) for k in keys]
            statement = self._statements[keys] = (sql, [(k, p) for k, p in processors if p is not None])
        return statement

    def finish(self, message_id: int, **values) -> bool:
        """Update one leased message; False when the lease was lost (another sender owns it now)."""
        sql, processors = self._statement(tuple(sorted(values)))
        for key, process in processors:
            values[key] = process(values[key])
        values["message_id"] = message_id
        values["owner"] = self.owner
        if self.postgres:
            self.cursor.execute(sql, values, prepare=True)
        else:
            self.cursor.execute(sql, values)
        return self.cursor.rowcount == 1

    def close(self) -> None:
        try:
            self.cursor.close()
            if self.postgres:
                with self.dbapi.cursor() as cur:
                    cur.execute("RESET synchronous_commit")
                self.dbapi.autocommit = False
        except Exception:
            # A broken connection must not go back to the pool.
            self.conn.invalidate()
        finally:
            self.conn.close()


def _backoff(attempts: int, options: DeliveryOptions) -> timedelta:
    return timedelta(seconds=min(options.backoff_seconds * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_SECONDS))


def _defer(
    marker: _Marker,
    msg: OutgoingMessage,
    reason: str,
    options: DeliveryOptions,
    report: DeliveryReport,
) -> None:
    attempts = msg.attempts + 1
    if attempts >= options.max_attempts:
        marker.finish(
            msg.id,
            status=FAILED,
            last_error=f"gave up after {attempts} attempts: {reason}",
        )
        report.failed += 1
        report.note(f"#{msg.id} {msg.to_addr}: gave up after {attempts} attempts: {reason}")
        return
    marker.finish(
        msg.id,
        last_error=reason,
        next_attempt_at=utcnow() + _backoff(attempts, options),
    )
    report.deferred += 1
    report.note(f"#{msg.id} {msg.to_addr}: deferred: {reason}")


def release(engine: Engine, owner: str) -> None:
    """Give back whatever this sender still holds, so the next run need not wait for the lease."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(DELIVERY_TABLE)
            .where(DELIVERY_TABLE.c.lease_owner == owner, DELIVERY_TABLE.c.status == PENDING)
            .values(lease_owner=None, lease_until=None)
        )


def deliver(
    engine: Engine,
    settings: MailSettings,
    *,
    limit: int | None = None,
    dry_run: bool = False,
    options: DeliveryOptions | None = None,
) -> DeliveryReport:
    """Send what is due (at most `limit`); returns how many were sent, failed, deferred and left."""
    options = options or DeliveryOptions()
    report = DeliveryReport(dry_run=dry_run, destination=settings.describe())
    if dry_run:
        due = count_due(engine)
        report.due = due if limit is None else min(due, limit)
        report.left = count_pending(engine)
        return report

    owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    # Stop handing messages over well before the lease ends: a send in flight must finish first.
    margin = min(options.lease_seconds * 0.25, max(settings.smtp_timeout, 5.0))
    remaining = limit
    transport = None
    marker = _Marker(engine, owner)
    try:
        while remaining is None or remaining > 0:
            size = options.chunk if remaining is None else min(options.chunk, remaining)
            claimed_at = time.monotonic()
            batch = claim(engine, owner, size, options.lease_seconds)
            if not batch:
                break
            if remaining is not None:
                remaining -= len(batch)
            deadline = claimed_at + options.lease_seconds - margin
            if transport is None:
                try:
                    transport = open_transport(settings)
                except TransportUnavailable as exc:
                    for msg in batch:
                        _defer(marker, msg, exc.reason, options, report)
                    report.stopped = exc.reason
                    break
            files = load_attachments(engine, [m.id for m in batch if m.attachments])
            composed = (_compose(m, settings, files.get(m.id, ())) for m in batch)
            if not _send_batch(marker, transport, batch, composed, options, report, deadline):
                break
    finally:
        if transport is not None:
            transport.close()
        marker.close()
        release(engine, owner)
    report.left = count_pending(engine)
    return report


def load_attachments(engine: Engine, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """The files of these messages, by message id; no query at all when none has any."""
    if not message_ids:
        return {}
    t = ATTACHMENT_TABLE.c
    query = sa.select(t.message_id, t.filename, t.content_type, t.content).where(
        t.message_id.in_(message_ids)
    )
    files: dict[int, list[Attachment]] = {}
    with _reader(engine) as conn:
        for row in conn.execute(query.order_by(t.id)):
            files.setdefault(row.message_id, []).append(
                Attachment(row.filename, row.content_type, row.content)
            )
    return files


def _compose(msg: OutgoingMessage, settings: MailSettings, attachments=()):
    """(email, sender, recipient, None) or (None, None, None, reason)."""
    try:
        email = build_email(msg, settings.from_addr, attachments)
        return email, envelope_sender(msg, settings.from_addr), envelope_recipient(msg), None
    except (ValueError, TypeError) as exc:
        return None, None, None, f"cannot compose the message: {exc}"


def _send_batch(marker, transport, batch, composed, options, report, deadline) -> bool:
    """Send one claimed batch; False when the run must stop (transport gone)."""
    for index, (msg, (email, sender, recipient, problem)) in enumerate(zip(batch, composed, strict=True)):
        if time.monotonic() >= deadline:
            # The rest is released in deliver(); the next claim takes it with a fresh lease.
            return True
        if problem is not None:
            _finish_failed(marker, msg, problem, report)
            continue
        try:
            answer = transport.send(email, sender, recipient)
        except PermanentFailure as exc:
            _finish_failed(marker, msg, exc.reason, report)
        except TemporaryFailure as exc:
            _defer(marker, msg, exc.reason, options, report)
        except TransportUnavailable as exc:
            for rest in batch[index:]:
                _defer(marker, rest, exc.reason, options, report)
            report.stopped = exc.reason
            return False
        else:
            report.sent += 1
            if not marker.finish(
                msg.id,
                status=SENT,
                sent_at=utcnow(),
                server_response=answer[:1000],
                last_error=None,
            ):
                report.note(f"#{msg.id}: sent, but its lease had passed to another sender")
    return True


def _finish_failed(marker: _Marker, msg: OutgoingMessage, reason: str, report: DeliveryReport) -> None:
    marker.finish(msg.id, status=FAILED, last_error=reason)
    report.failed += 1
    report.note(f"#{msg.id} {msg.to_addr}: failed: {reason}")
