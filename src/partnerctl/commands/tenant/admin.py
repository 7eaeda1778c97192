"""`partnerctl tenant admin ...`: a tenant's administrators, with strong, never reused passwords."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.commands._passwords import (
    GeneratePassword,
    PasswordFile,
    PasswordStdin,
    deliver_generated,
    obtain_password,
    with_password_file,
)
from partnerctl.commands.tenant._common import (
    TenantArg,
    print_tenant_rows,
    tenant_or_current,
    warn_if_many_admins,
)
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
    password, generated = obtain_password(app_ctx, password_stdin, generate_password, password_file)

    def work(s):
        admin, count = tenants.add_admin(
            s, app_ctx.actor(s), tenant_name, email=email, password=password, username=username, name=name
        )
        return tenants.admin_summary(admin, tenants.get_tenant(s, tenant_name)), count

    row, count = with_password_file(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"added administrator {row['email']} to {row['tenant']!r}")
    if generated:
        deliver_generated(app_ctx, row["email"], password, password_file)
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
    password, generated = obtain_password(app_ctx, password_stdin, generate_password, password_file)

    def work(s):
        admin = tenants.reset_admin_password(s, app_ctx.actor(s), tenant, email, password)
        return admin.email

    address = with_password_file(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"set a new password for {address}")
    if generated:
        deliver_generated(app_ctx, address, password, password_file)
