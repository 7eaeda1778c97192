"""`partnerctl portal`: open the terminal portal (Textual, imported only here), or say why it cannot open."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx
from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput


def _on_a_terminal() -> bool:
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def _deliver(app_ctx: AppContext) -> str:
    """Deliver the outbox as `reminder nudge` does after queueing (the portal runs this off its UI thread)."""
    from partnerctl.commands.outbox import delivery_line, send_now

    report = send_now(app_ctx)
    return delivery_line(report) if report.sent or report.failed or report.deferred or report.left else ""


def portal(
    ctx: typer.Context,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Only look: every action of the client menu is disabled.")
    ] = False,
) -> None:
    """Open the full-screen portal: the client tabs, search, filters and the client menu.

    Example: partnerctl portal --read-only
    """
    app_ctx = get_ctx(ctx)
    if app_ctx.no_input or not _on_a_terminal():
        raise InvalidInput("the portal needs a terminal; use `partnerctl client list`")
    from partnerctl.portal.app import PortalApp
    from partnerctl.portal.data import PortalData

    data = PortalData(app_ctx)
    who = data.whoami()  # no acting user, no store: the usual one line and exit code, before the screen opens
    app = PortalApp(data, who, read_only=read_only, deliver=lambda: _deliver(app_ctx))
    app.run()
    raise typer.Exit(app.return_code or 0)
