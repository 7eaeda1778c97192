"""Helpers shared by command modules: sub-app factory, context access, stdin secrets, dates."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import typer

from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput


def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


def get_ctx(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # invoked outside the root app (tests of a sub-app)
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj


def read_secret_stdin(what: str, app_ctx: AppContext) -> str:
    """Read one secret line from stdin; prompts (hidden) only on a terminal and never with --no-input."""
    if sys.stdin is None:
        raise InvalidInput(f"no {what} on stdin")
    if sys.stdin.isatty():
        if app_ctx.no_input:
            raise InvalidInput(f"--no-input: pipe the {what} on stdin")
        value = typer.prompt(what.capitalize(), hide_input=True)
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise InvalidInput(f"the {what} read from stdin is empty")
    return value


def parse_date(raw: str | None, field: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-01-31, not {raw!r}") from None


def parse_datetime(raw: str | None, field: str) -> datetime | None:
    """ISO date or date-time; a value without offset is taken as UTC."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{field} must be a date or date-time like 2026-01-31T10:00, not {raw!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
