"""`partnerctl audit list`: read the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, parse_datetime, sub_app
from partnerctl.errors import InvalidInput
from partnerctl.output import Column

app = sub_app("Read the audit log.")

AUDIT_COLUMNS = [
    Column("id"), Column("at"), Column("actor"), Column("on_behalf_of"), Column("db_role"), Column("action"),
    Column("entity"), Column("key"), Column("before"), Column("after"),
]  # fmt: skip


@app.command("list")
def list_(
    ctx: typer.Context,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only events by this user, or done on their behalf.")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="e.g. client.add, or client for all.")
    ] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="e.g. client, template, user.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Date or date-time (UTC).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 50,
) -> None:
    """List audit events, newest first (admins only)."""
    from partnerctl.services import audit
    from partnerctl.services.access import require_admin

    if limit < 1:
        raise InvalidInput("--limit must be at least 1")
    app_ctx = get_ctx(ctx)
    since_dt = parse_datetime(since, "--since")
    with app_ctx.session(readonly=True) as s:
        require_admin(app_ctx.actor(s), "audit list")
        events = audit.list_events(s, actor=actor, action=action, entity=entity, since=since_dt, limit=limit)
        rows = [
            {"id": e.id, "at": e.at, "actor": e.actor, "on_behalf_of": e.on_behalf_of, "db_role": e.db_role,
             "action": e.action, "entity": e.entity, "key": e.key, "before": e.before, "after": e.after}
            for e in events
        ]  # fmt: skip
    app_ctx.out.rows(rows, AUDIT_COLUMNS, empty="no audit events match")
