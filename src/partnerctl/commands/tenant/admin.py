"""`partnerctl tenant admin ...`: a tenant's administrators, with strong, never reused passwords."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, read_secret_stdin, sub_app
from partnerctl.commands.tenant._common import (
    TenantArg,
    print_tenant_rows,
    tenant_or_current,
    warn_if_many_admins,
)
from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput
from partnerctl.output import Column

HELP = "Manage a tenant's administrators (strong, never reused passwords)."
app = sub_app(HELP)

ADMIN_COLUMNS = [
    Column("email"),
    Column("username"),
    Column("name"),
    Column("password_changed_at"),
    Column("tenant"),
]

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


def _obtain_password(
    app_ctx: AppContext, password_stdin: bool, generate: bool, password_file: Path | None
) -> tuple[str, bool]:
    if password_stdin == generate:
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
    return read_secret_stdin("password", app_ctx), False


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


def _deliver_generated(app_ctx: AppContext, email: str, password: str, password_file: Path | None) -> None:
    if password_file is not None:
        app_ctx.out.message(f"the generated password for {email} is in {password_file} (mode 0600)")
    else:
        typer.echo(f"generated password for {email} (shown once, pass it on safely): {password}", err=True)


def _with_password(app_ctx: AppContext, generated: bool, password: str, password_file: Path | None, work):
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


@app.command("add")
def add(
    ctx: typer.Context,
    tenant: TenantArg = None,
    email: Annotated[
        str, typer.Option("--email", help="The administrator's e-mail (valid and active).")
    ] = "",
    username: Annotated[
        str | None, typer.Option("--username", help="Login name (default and advice: the e-mail).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The administrator's name.")] = "",
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    password_file: PasswordFile = None,
) -> None:
    """Add an administrator to a tenant, with a strong password that no other administrator uses.

    Example: partnerctl tenant admin add "Bakery Berlin" --email eva@bakery.example --generate-password
    """
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    if not email:
        raise InvalidInput("--email is required")
    tenant_name = tenant_or_current(app_ctx, tenant)
    password, generated = _obtain_password(app_ctx, password_stdin, generate_password, password_file)

    def work(s):
        admin, count = tenants.add_admin(
            s, app_ctx.actor(s), tenant_name, email=email, password=password, username=username, name=name
        )
        return tenants.admin_summary(admin, tenants.get_tenant(s, tenant_name)), count

    row, count = _with_password(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"added administrator {row['email']} to {row['tenant']!r}")
    if generated:
        _deliver_generated(app_ctx, row["email"], password, password_file)
    warn_if_many_admins(app_ctx, row["tenant"], count, now=True)
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(row)


@app.command("list")
def list_(ctx: typer.Context, tenant: TenantArg = None) -> None:
    """List a tenant's administrators (never their passwords)."""
    from partnerctl.services import tenants

    print_tenant_rows(ctx, tenant, tenants.list_admins, ADMIN_COLUMNS, "no administrators")


@app.command("remove")
def remove(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant.")],
    email: Annotated[str, typer.Argument(help="The administrator's e-mail.")],
) -> None:
    """Remove an administrator (the last one of a handed-over tenant stays)."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        remaining = tenants.remove_admin(s, app_ctx.actor(s), tenant, email)
    app_ctx.out.message(f"removed administrator {tenants.admin_address(email)}; {remaining} left")


@app.command("reset-password")
def reset_password(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant.")],
    email: Annotated[str, typer.Argument(help="The administrator's e-mail.")],
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    password_file: PasswordFile = None,
) -> None:
    """Give an administrator a new strong password (from stdin or generated)."""
    from partnerctl.services import tenants

    app_ctx = get_ctx(ctx)
    password, generated = _obtain_password(app_ctx, password_stdin, generate_password, password_file)

    def work(s):
        admin = tenants.reset_admin_password(s, app_ctx.actor(s), tenant, email, password)
        return admin.email

    address = _with_password(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"set a new password for {address}")
    if generated:
        _deliver_generated(app_ctx, address, password, password_file)
