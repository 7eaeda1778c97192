"""Helpers shared by the tenant command groups: the TENANT argument, file reading, listings, advice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx
from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput
from partnerctl.output import Column

TenantArg = Annotated[
    str | None,
    typer.Argument(help="The tenant (default: the current one, see `partnerctl tenant use`)."),
]


def tenant_or_current(app_ctx: AppContext, tenant: str | None) -> str:
    if tenant:
        return tenant
    current = app_ctx.profile.get("tenant")
    if not current:
        raise InvalidInput(
            "no TENANT given and no current tenant",
            hint="pass TENANT, or switch into one with `partnerctl tenant use NAME`",
        )
    return current


def read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} file {str(path)!r}: {exc.strerror}") from None


def print_tenant_rows(
    ctx: typer.Context, tenant: str | None, fetch: Callable, cols: Sequence[Column], empty: str
) -> None:
    """Print what fetch(session, actor, tenant name) lists for TENANT (or the current tenant)."""
    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        rows = fetch(s, app_ctx.actor(s), tenant_or_current(app_ctx, tenant))
    app_ctx.out.rows(rows, cols, empty=empty)


def warn_if_many_admins(app_ctx: AppContext, tenant: str, count: int, *, now: bool = False) -> None:
    """The seed's advice: keep the administrator role to as few users as possible."""
    from partnerctl.services import tenants

    if tenants.too_many_admins(count):
        app_ctx.out.warn(
            f"{tenant!r} {'now has' if now else 'has'} {count} administrators; "
            "keep the administrator role to as few as possible"
        )
