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


def write_new_file(path: str, content: bytes, *, force: bool = False) -> None:
    """Write `content` to `path` through a temporary file in the same directory, so a reader never
    sees half a file. An existing file is replaced only with `force`; without it, linking the finished
    file into place fails rather than overwrite one that appeared meanwhile."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        raise InvalidInput(f"{path!r} is a directory")
    if target.exists() and not force:
        raise InvalidInput(f"{path!r} exists; pass --force to replace it")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path!r}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        if force:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
    except FileExistsError:
        raise InvalidInput(f"{path!r} exists; pass --force to replace it") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {path!r}: {exc.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
