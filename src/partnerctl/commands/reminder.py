"""`partnerctl reminder ...`: digest subscriptions, the schedule, the cron send, nudges, previews."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, parse_datetime, sub_app
from partnerctl.output import Column

app = sub_app("Digests of outstanding client tasks, their schedule, and nudges to bookkeepers.")

SUBSCRIPTION_COLUMNS = [
    Column("user"),
    Column("client"),
    Column("client_name"),
    Column("frequency"),
    Column("topics"),
    Column("client_status"),
]
PLAN_COLUMNS = [
    Column("user"),
    Column("frequency"),
    Column("period"),
    Column("clients", justify="right"),
    Column("outstanding", justify="right"),
    Column("action"),
]


def _deliver(app_ctx, result_row: dict) -> None:
    """Deliver the outbox as `partnerctl outbox send` does (the queue is committed already)."""
    from partnerctl.commands.outbox import delivery_line, send_now

    report = send_now(app_ctx)
    result_row["delivered"] = report.sent
    result_row["delivery_failed"] = report.failed
    result_row["delivery_deferred"] = report.deferred
    result_row["left_in_outbox"] = report.left
    if report.sent or report.failed or report.deferred or report.left:  # a quiet cron log otherwise
        app_ctx.out.message(delivery_line(report))
    for problem in report.problems:
        app_ctx.out.message(f"  {problem}")


def _fail_if_undelivered(result_row: dict) -> None:
    """Exit 9 when delivery failed or was deferred: queued mail stays in the outbox for the next run."""
    from partnerctl.errors import PartialFailure

    failed, deferred = result_row.get("delivery_failed") or 0, result_row.get("delivery_deferred") or 0
    if failed or deferred:
        raise PartialFailure(
            f"{failed} message(s) failed and {deferred} were deferred; "
            "see `partnerctl outbox list`, the next run retries the deferred ones"
        )


@app.command("subscribe")
def subscribe(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="The client's reference.")],
    frequency: Annotated[str, typer.Option("--frequency", "-f", help="daily, weekly or monthly.")],
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic", "-t", help="balance, missing-receipts or expenses-ready; repeat it (default: all)."
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Subscribe this user (admins only; default: you).")
    ] = None,
) -> None:
    """Subscribe to a client's digest at a frequency, e.g. `reminder subscribe ACME-1 -f weekly`."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        actor = app_ctx.actor(s)
        done = reminders.subscribe(s, actor, client, frequency=frequency, topics=topic, user_email=user)
        row = vars(done)
    verb = "subscribed" if row["created"] else "updated the subscription of"
    app_ctx.out.message(
        f"{verb} {row['user']} to the {row['frequency']} digest of {row['client']} ({', '.join(row['topics'])})"
    )
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(row)


@app.command("unsubscribe")
def unsubscribe(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="The client's reference.")],
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Unsubscribe this user (admins only; default: you).")
    ] = None,
    frequency: Annotated[
        str | None, typer.Option("--frequency", "-f", help="Only this frequency (default: all).")
    ] = None,
) -> None:
    """Stop a client's digests for a user."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        actor = app_ctx.actor(s)
        removed = reminders.unsubscribe(s, actor, client, user_email=user, frequency=frequency)
        who = (user or actor.email).strip().lower()
    app_ctx.out.message(
        f"removed {removed} subscription{'s' if removed != 1 else ''} of {who} to {client.strip()}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[
        str | None,
        typer.Option("--user", "-u", help="This user's subscriptions (admins only; default: you)."),
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Every user's subscriptions (admins only).")
    ] = False,
) -> None:
    """List reminder subscriptions."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        rows = [
            vars(r)
            for r in reminders.list_subscriptions(s, app_ctx.actor(s), user_email=user, everyone=everyone)
        ]
    app_ctx.out.rows(rows, SUBSCRIPTION_COLUMNS, empty="no reminder subscriptions")


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    time_of_day: Annotated[
        str | None, typer.Option("--time", help="Local time digests are due, HH:MM (default 10:00).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA timezone (default Europe/Copenhagen).")
    ] = None,
    weekday: Annotated[
        str | None, typer.Option("--weekday", help="Day of weekly digests, monday..sunday (default monday).")
    ] = None,
    monthday: Annotated[
        str | None,
        typer.Option(
            "--monthday",
            help="Day of monthly digests: 1..31 (clamped to the month's end), 'last', or 'first-weekday' "
            "(the first --weekday of the month; the default).",
        ),
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Show periods as of this time (ISO; no offset = UTC).")
    ] = None,
) -> None:
    """Show the partner-wide reminder schedule, or change it (admins only)."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    at = parse_datetime(now, "--now") or reminders.system_clock()
    changing = any(v is not None for v in (time_of_day, timezone, weekday, monthday))
    with app_ctx.session(readonly=not changing) as s:
        actor = app_ctx.actor(s)
        if changing:
            row = reminders.set_schedule(
                s, actor, time_of_day=time_of_day, timezone=timezone, weekday=weekday, monthday=monthday
            )
        else:
            row = reminders.get_schedule(s)
        view = reminders.schedule_view(row, at)
    if changing:
        app_ctx.out.message("reminder schedule updated")
    app_ctx.out.item(view, title="reminder schedule")


@app.command("send")
def send(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option("--now", help="Act as if it were this time (ISO; no offset = UTC).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show who would get which digest; queue and send nothing.")
    ] = False,
    send_empty: Annotated[
        bool, typer.Option("--send-empty", help="Also send digests with nothing outstanding.")
    ] = False,
    frequency: Annotated[
        list[str] | None, typer.Option("--frequency", "-f", help="Only this frequency; repeatable.")
    ] = None,
) -> None:
    """Queue the digests that are due and not sent yet, then deliver the outbox (run it from cron)."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    at = parse_datetime(now, "--now")
    with app_ctx.session(readonly=dry_run) as s:
        actor = app_ctx.actor(s)
        result = reminders.queue_due_digests(
            s, actor, now=at, send_empty=send_empty, dry_run=dry_run, frequencies=frequency
        )
    if dry_run:
        plan = [
            {
                "user": d.email,
                "frequency": d.frequency,
                "period": d.period.key,
                "clients": len(d.sections),
                "outstanding": d.outstanding,
                "action": action,
            }
            for action, group in (("send", result.queued), ("skip-empty", result.empty))
            for d in group
        ]
        plan.sort(key=lambda r: (r["user"], r["frequency"]))
        app_ctx.out.rows(plan, PLAN_COLUMNS, empty="nothing due")
        return
    summary = {
        "now": result.now,
        "periods": result.periods,
        "queued": len(result.queued),
        "empty_skipped": len(result.empty),
    }
    if result.nothing_due:
        app_ctx.out.message("nothing due")
    else:
        app_ctx.out.message(
            f"queued {summary['queued']} digest{'s' if summary['queued'] != 1 else ''}"
            + (f", {summary['empty_skipped']} empty not sent" if summary["empty_skipped"] else "")
        )
    # Deliver even when nothing new was queued: an earlier run may have been cut off before delivery.
    _deliver(app_ctx, summary)
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(summary)
    _fail_if_undelivered(summary)


@app.command("nudge")
def nudge(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="The client's reference.")],
    task: Annotated[
        list[str] | None,
        typer.Option("--task", "-t", help="balance, missing-receipts or expenses-ready; repeat it."),
    ] = None,
    comment: Annotated[str, typer.Option("--comment", "-m", help="A note for the bookkeepers.")] = "",
    again: Annotated[
        bool, typer.Option("--again", help="Send even if the same nudge went out in the last 24 hours.")
    ] = False,
    now: Annotated[str | None, typer.Option("--now", help="Act as if it were this time (ISO).")] = None,
) -> None:
    """E-mail every bookkeeper assigned to a client about outstanding tasks (admins only)."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    at = parse_datetime(now, "--now")
    with app_ctx.session() as s:
        result = reminders.nudge(
            s, app_ctx.actor(s), client, tasks=task or [], comment=comment, again=again, now=at
        )
    count = len(result.recipients)
    app_ctx.out.message(
        f"nudged {count} bookkeeper{'s' if count != 1 else ''} of {result.client_ref}: {', '.join(result.recipients)}"
    )
    row = {"client": result.client_ref, "tasks": result.tasks, "recipients": result.recipients}
    _deliver(app_ctx, row)
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(row)
    _fail_if_undelivered(row)


@app.command("preview")
def preview(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", "-u", help="Whose digest to render (yours unless admin).")],
    frequency: Annotated[
        str | None,
        typer.Option("--frequency", "-f", help="daily, weekly or monthly (default: each subscribed)."),
    ] = None,
    now: Annotated[str | None, typer.Option("--now", help="Render as of this time (ISO).")] = None,
) -> None:
    """Render the digest a user would get now, without queueing it."""
    from partnerctl.services import reminders

    app_ctx = get_ctx(ctx)
    at = parse_datetime(now, "--now")
    with app_ctx.session(readonly=True) as s:
        rendered = reminders.preview_digests(s, app_ctx.actor(s), user, frequency=frequency, now=at)
        items = [
            {
                "to": r.digest.email,
                "frequency": r.digest.frequency,
                "period": r.digest.period.key,
                "language": r.language,
                "clients": len(r.digest.sections),
                "outstanding": r.digest.outstanding,
                "subject": r.subject,
                "text": r.text,
            }
            for r in rendered
        ]
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.value(items)
        return
    if not items:
        app_ctx.out.message(f"{user.strip().lower()} has no digest to preview")
        return
    for item in items:
        print(f"To: {item['to']}\nSubject: {item['subject']}\n\n{item['text']}", file=app_ctx.out.stdout)
