"""Passwords a command sets (tenant administrators, PostgreSQL login roles): read from stdin or
generated, shown once or written to a new 0600 file, never taken from the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import read_secret_stdin
from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (never from the command line).")
]
GeneratePassword = Annotated[
    bool, typer.Option("--generate-password", help="Generate a strong password, shown once on stderr.")
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="With --generate-password: write it to this new file (mode 0600)."),
]


def _never_overwritten(path: Path) -> InvalidInput:
    return InvalidInput(f"{str(path)!r} already exists; it is never overwritten")


def obtain_password(
    app_ctx: AppContext,
    password_stdin: bool,
    generate: bool,
    password_file: Path | None,
    *,
    required: bool = True,
) -> tuple[str | None, bool]:
    """(password, generated): from stdin or generated; None when neither was asked for and
    `required` is false. Checks --password-file before anything is changed."""
    if password_stdin and generate or (required and not (password_stdin or generate)):
        raise InvalidInput(
            "pass exactly one of --password-stdin or --generate-password",
            hint="a password is never taken from the command line: it would show in `ps` and shell history",
        )
    if password_file is not None:
        if not generate:
            raise InvalidInput("--password-file goes with --generate-password")
        if password_file.exists():
            raise _never_overwritten(password_file)
        if not password_file.parent.is_dir():
            raise InvalidInput(f"the directory of {str(password_file)!r} does not exist")
    if generate:
        from partnerctl.services.tenants import generate_password

        return generate_password(), True
    if password_stdin:
        return read_secret_stdin("password", app_ctx), False
    return None, False


def _write_password_file(path: Path, password: str) -> None:
    # O_EXCL with mode 0600: only the owner can read it and an existing file is never replaced.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _never_overwritten(path) from None
    except OSError as exc:
        raise InvalidInput(f"cannot create {str(path)!r}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")


def deliver_generated(app_ctx: AppContext, who: str, password: str, password_file: Path | None) -> None:
    if password_file is not None:
        app_ctx.out.message(f"the generated password for {who} is in {password_file} (mode 0600)")
    else:
        typer.echo(f"generated password for {who} (shown once, pass it on safely): {password}", err=True)


def with_password_file(
    app_ctx: AppContext, generated: bool, password: str | None, password_file: Path | None, work
):
    """Run work(session) in one transaction; a generated password goes to its file before the commit."""
    written = False
    try:
        with app_ctx.session() as s:
            result = work(s)
            if generated and password_file is not None:
                _write_password_file(password_file, password)
                written = True
    except BaseException:
        if written:
            password_file.unlink(missing_ok=True)
        raise
    return result
