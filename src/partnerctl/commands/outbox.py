"""`partnerctl outbox ...`: the queue of outgoing e-mail, and delivering it (Maildir or SMTP)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.context import AppContext
from partnerctl.errors import ConfigMissing, InvalidInput, PartialFailure
from partnerctl.output import Column

if TYPE_CHECKING:
    from partnerctl.mail.transport import MailSettings
    from partnerctl.services.outbox import DeliveryOptions, DeliveryReport

app = sub_app("Look at and deliver the outbox of outgoing e-mail.")

LEASE_ENV = "PARTNERCTL_OUTBOX_LEASE"
OUTBOX_COLUMNS = [
    Column("id", justify="right"),
    Column("status"),
    Column("to"),
    Column("subject"),
    Column("kind"),
    Column("attempts", justify="right"),
    Column("created_at"),
    Column("sent_at"),
    Column("last_error"),
]


def message_row(m) -> dict:
    return {
        "id": m.id,
        "status": m.status,
        "to": m.to_addr,
        "subject": m.subject,
        "kind": m.kind,
        "language": m.language,
        "attempts": m.attempts,
        "created_at": m.created_at,
        "next_attempt_at": m.next_attempt_at,
        "sent_at": m.sent_at,
        "last_error": m.last_error,
        "server_response": m.server_response,
        "dedupe_key": m.dedupe_key,
    }


def mail_settings(app_ctx: AppContext, *, with_password: bool = True) -> MailSettings:
    """The active profile's transport settings (and, for SMTP with a username, the password)."""
    from pathlib import Path

    from partnerctl.config import data_dir
    from partnerctl.mail.transport import DEFAULT_FROM, DEFAULT_TIMEOUT, MailSettings

    profile = app_ctx.profile
    transport = profile.get("mail.transport") or "maildir"
    maildir_raw = profile.get("mail.maildir")
    maildir = Path(maildir_raw).expanduser() if maildir_raw else data_dir() / "maildir"
    from_addr = profile.get("mail.from") or DEFAULT_FROM
    if transport != "smtp":
        return MailSettings(transport="maildir", from_addr=from_addr, maildir=maildir)
    host = profile.get("mail.smtp.host")
    if not host:
        raise ConfigMissing(
            f"profile {profile.name!r} sends over SMTP but has no mail.smtp.host: "
            "`partnerctl profile set mail.smtp.host HOST`"
        )
    if not profile.get("mail.from"):
        raise ConfigMissing(
            f"profile {profile.name!r} sends over SMTP but has no mail.from: "
            "`partnerctl profile set mail.from noreply@example.com`"
        )
    username = profile.get("mail.smtp.username")
    password = None
    if username and with_password:
        from partnerctl.secrets import resolve_secret

        password = resolve_secret(app_ctx.profile_name, "smtp-password", required=True)
    return MailSettings(
        transport="smtp",
        from_addr=from_addr,
        maildir=maildir,
        smtp_host=host,
        smtp_port=profile.get("mail.smtp.port"),
        smtp_security=profile.get("mail.smtp.security") or "starttls",
        smtp_username=username,
        smtp_password=password,
        smtp_timeout=float(profile.get("mail.smtp.timeout") or DEFAULT_TIMEOUT),
        smtp_cafile=profile.get("mail.smtp.cafile"),
    )


def _delivery_options(lease: float | None, batch: int | None) -> DeliveryOptions:
    from partnerctl.services.outbox import DEFAULT_CHUNK, DEFAULT_LEASE_SECONDS, DeliveryOptions

    if lease is None:
        raw = os.environ.get(LEASE_ENV)
        try:
            lease = float(raw) if raw else DEFAULT_LEASE_SECONDS
        except ValueError:
            raise InvalidInput(f"{LEASE_ENV} must be a number of seconds, not {raw!r}") from None
    if lease <= 0:
        raise InvalidInput("the lease must be a positive number of seconds")
    if batch is not None and batch < 1:
        raise InvalidInput("--batch must be at least 1")
    return DeliveryOptions(lease_seconds=lease, chunk=batch or DEFAULT_CHUNK)


def delivery_line(report: DeliveryReport) -> str:
    """One line on what a delivery run did."""
    return f"delivered {report.sent}, failed {report.failed}, deferred {report.deferred}, left in outbox {report.left}"


def send_now(
    app_ctx: AppContext,
    *,
    limit: int | None = None,
    dry_run: bool = False,
    lease: float | None = None,
    batch: int | None = None,
) -> DeliveryReport:
    """Deliver what is due, exactly as `partnerctl outbox send` does, without printing.

    Returns a report with `.sent`, `.failed`, `.deferred` (temporary failures, still pending),
    `.left` (pending after the run) and, for a dry run, `.due`.
    """
    from partnerctl.services.outbox import deliver

    if limit is not None and limit < 0:
        raise InvalidInput("--limit must not be negative")
    settings = mail_settings(app_ctx, with_password=not dry_run)
    options = _delivery_options(lease, batch)
    _require_admin(app_ctx)
    engine = app_ctx.engine()
    return deliver(engine, settings, limit=limit, dry_run=dry_run, options=options)


def _require_admin(app_ctx: AppContext) -> None:
    """Delivering is for admins (cron runs as one): on PostgreSQL a bookkeeper's role may not touch
    the outbox at all. Checked without the ORM (services.acting), so `outbox send` stays light."""
    from partnerctl.context import translate_db_errors
    from partnerctl.services.acting import require_admin

    engine = app_ctx.engine()
    reader = engine.execution_options(partnerctl_readonly=True)
    with translate_db_errors(engine, app_ctx.profile_name), reader.connect() as conn:
        require_admin(app_ctx.acting(conn).user, "outbox send")


def _where(app_ctx: AppContext) -> str:
    settings = mail_settings(app_ctx, with_password=False)
    if settings.transport == "maildir":
        return f"mail goes to the Maildir {settings.maildir}"
    return f"mail goes to {settings.describe()}"


@app.command("send")
def send(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", help="Send at most N messages.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say how many messages are due; send nothing.")
    ] = False,
    lease: Annotated[
        float | None,
        typer.Option(
            "--lease",
            help=f"Seconds a claimed message stays reserved for this run (default 300, or ${LEASE_ENV}).",
        ),
    ] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", help="Messages claimed per transaction (default 100).")
    ] = None,
) -> None:
    """Deliver the pending messages (admins only); exit 9 when some failed or had to be deferred.

    Safe to run from cron, also several at once: each message goes out once.
    """
    app_ctx = get_ctx(ctx)
    report = send_now(app_ctx, limit=limit, dry_run=dry_run, lease=lease, batch=batch)
    out = app_ctx.out
    out.message(_where(app_ctx))
    summary = {
        "sent": report.sent,
        "failed": report.failed,
        "deferred": report.deferred,
        "left": report.left,
    }
    if dry_run:
        summary = {"due": report.due, "left": report.left}
        out.message(f"dry run: {report.due} message(s) would be sent, {report.left} pending in all")
    else:
        out.message(
            f"sent {report.sent}, failed {report.failed}, deferred {report.deferred}, left {report.left}"
        )
        for problem in report.problems:
            out.message(f"  {problem}")
    if out.format in ("json", "jsonl"):
        out.item(summary)
    if report.failed or report.deferred:
        parts = []
        if report.failed:
            parts.append(f"{report.failed} message(s) failed (see `partnerctl outbox list --status failed`)")
        if report.deferred:
            parts.append(f"{report.deferred} deferred for a later run")
        reason = f": {report.stopped}" if report.stopped else ""
        raise PartialFailure("; ".join(parts) + reason)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="Only pending, sent or failed messages.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind (e.g. welcome, digest).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most N messages (newest first).")] = 50,
) -> None:
    """List outbox messages, newest first (admins only)."""
    from partnerctl.services import outbox
    from partnerctl.services.access import require_admin

    app_ctx = get_ctx(ctx)
    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    with app_ctx.session(readonly=True) as s:
        require_admin(app_ctx.actor(s), "outbox list")
        rows = [message_row(m) for m in outbox.list_messages(s, status=status, kind=kind, limit=limit)]
        counts = outbox.count_by_status(s)
    app_ctx.out.rows(rows, OUTBOX_COLUMNS, empty="the outbox is empty")
    app_ctx.out.message(
        f"{counts['pending']} pending, {counts['sent']} sent, {counts['failed']} failed; {_where(app_ctx)}"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="The message id (from `outbox list`).")],
) -> None:
    """Show one message: its status, headers and body (admins only)."""
    from partnerctl.mail.message import OutgoingMessage, build_email
    from partnerctl.services import outbox
    from partnerctl.services.access import require_admin

    app_ctx = get_ctx(ctx)
    settings = mail_settings(app_ctx, with_password=False)
    with app_ctx.session(readonly=True) as s:
        require_admin(app_ctx.actor(s), "outbox show")
        m = outbox.get_message(s, message_id)
        row = message_row(m)
        # The headers exactly as delivery would compose them (same Message-ID, same From).
        email = build_email(OutgoingMessage.from_row(m), settings.from_addr)
        row["headers"] = {k: str(v) for k, v in email.items() if k != "Content-Type"}
        row["body_text"] = m.body_text
        row["body_html"] = m.body_html
    out = app_ctx.out
    if out.format in ("json", "jsonl"):
        out.item(row)
        return
    if out.format != "table":
        out.item({k: v for k, v in row.items() if k != "headers"})
        return
    meta = {k: row[k] for k in ("id", "status", "kind", "language", "attempts", "created_at")}
    meta.update(
        {k: row[k] for k in ("sent_at", "next_attempt_at", "server_response", "last_error") if row[k]}
    )
    out.item(meta, title=f"outbox message {message_id}")
    print(file=out.stdout)
    for k, v in row["headers"].items():
        print(f"{k}: {v}", file=out.stdout)
    print(file=out.stdout)
    print(row["body_text"], file=out.stdout)
    if row["body_html"]:
        print("\n--- text/html alternative ---", file=out.stdout)
        print(row["body_html"], file=out.stdout)


@app.command("retry")
def retry(
    ctx: typer.Context,
    message_ids: Annotated[list[int], typer.Argument(help="Ids of failed messages to send again.")],
) -> None:
    """Put failed messages back in the queue; the next `outbox send` tries them (admins only)."""
    from partnerctl.services import outbox

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        actor = app_ctx.actor(s)
        for message_id in message_ids:
            outbox.retry_message(s, actor, message_id)
    app_ctx.out.message(f"{len(message_ids)} message(s) pending again; run `partnerctl outbox send`")


@app.command("test")
def test(
    ctx: typer.Context,
    to: Annotated[str, typer.Argument(help="Address to send the test message to.")],
    language: Annotated[str, typer.Option("--language", help="ISO 639-1 language of the test text.")] = "en",
) -> None:
    """Queue a test message to check the mail set-up; `outbox send` delivers it (admins only)."""
    from partnerctl.services import outbox

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        actor = app_ctx.actor(s)
        message = outbox.queue_test_message(s, actor, to=to, language=language)
        row = message_row(message)
    app_ctx.out.message(f"queued test message {row['id']} to {row['to']}; {_where(app_ctx)}")
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(row)
