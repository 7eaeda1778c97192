"""`partnerctl user ...`: partner users and their roles."""

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
from partnerctl.errors import InvalidInput
from partnerctl.output import Column

app = sub_app("Manage partner users and their roles.")

USER_COLUMNS = [
    Column("email"), Column("name"), Column("role"), Column("language"), Column("active"), Column("db_role"),
]  # fmt: skip

DbRole = Annotated[
    str | None,
    typer.Option(
        "--db-role",
        help="PostgreSQL: the login role this user connects as (created if missing; needs CREATEROLE).",
    ),
]


def user_row(user) -> dict:
    """A user as the audit log shows it, and when it was added."""
    from partnerctl.services import users

    return {**users.user_snapshot(user), "created_at": user.created_at}


@app.command("add")
def add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's e-mail (also their login).")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    role: Annotated[str, typer.Option("--role", help="admin or bookkeeper.")] = "bookkeeper",
    language: Annotated[str, typer.Option("--language", help="ISO 639-1 language for e-mails.")] = "en",
    db_role: DbRole = None,
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    password_file: PasswordFile = None,
) -> None:
    """Add a partner user, on PostgreSQL with their own login role (admins only).

    A role that --db-role creates gets no password unless --password-stdin or --generate-password
    says otherwise: it then logs in by peer, certificate or trust authentication.

    Example: partnerctl user add bob@acme.example --role bookkeeper --db-role bob --generate-password
    """
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    if db_role is None and (password_stdin or generate_password or password_file):
        raise InvalidInput("--password-stdin, --generate-password and --password-file go with --db-role")
    password, generated = obtain_password(
        app_ctx, password_stdin, generate_password, password_file, required=False
    )

    def work(s):
        user, created = users.create_user(
            s, app_ctx.actor(s), email=email, name=name, role=role, language=language,
            db_role=db_role, db_password=password,
        )  # fmt: skip
        return user_row(user), created

    row, created = with_password_file(app_ctx, generated, password, password_file, work)
    app_ctx.out.message(f"added {row['role']} {row['email']}")
    if row["db_role"]:
        _say_role(app_ctx, row, created, password is not None)
    if generated:
        deliver_generated(app_ctx, f"role {row['db_role']}", password, password_file)
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(row)


def _say_role(app_ctx, row: dict, created: bool, with_password: bool) -> None:
    if not created:
        app_ctx.out.message(f"linked to the existing role {row['db_role']}")
    elif with_password:
        app_ctx.out.message(f"created the login role {row['db_role']} with a password")
    else:
        app_ctx.out.message(
            f"created the login role {row['db_role']} without a password: it logs in by peer, "
            "certificate or trust authentication (pg_hba.conf)"
        )


@app.command("link")
def link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    db_role: Annotated[str, typer.Option("--db-role", help="An existing PostgreSQL login role.")],
) -> None:
    """Link a user to an existing PostgreSQL login role and grant it their group (admins only).

    Example: partnerctl user link bob@acme.example --db-role bob
    """
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        row = user_row(users.link_user(s, app_ctx.actor(s), email, db_role))
    app_ctx.out.message(f"{row['email']} now connects as role {row['db_role']}")


@app.command("list")
def list_(
    ctx: typer.Context,
    role: Annotated[str | None, typer.Option("--role", help="Only this role.")] = None,
    active_only: Annotated[bool, typer.Option("--active", help="Only active users.")] = False,
) -> None:
    """List partner users."""
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        rows = [user_row(u) for u in users.list_users(s, role=role, include_inactive=not active_only)]
    app_ctx.out.rows(rows, USER_COLUMNS, empty="no users")


@app.command("show")
def show(ctx: typer.Context, email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Show one user."""
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        app_ctx.actor(s)
        row = user_row(users.get_user(s, email))
    app_ctx.out.item(row, title=row["email"])


@app.command("edit")
def edit(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    name: Annotated[str | None, typer.Option("--name", help="New display name.")] = None,
    role: Annotated[str | None, typer.Option("--role", help="admin or bookkeeper.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="ISO 639-1 language.")] = None,
) -> None:
    """Change a user's name, role or language (admins only)."""
    from partnerctl.services import users
    from partnerctl.store.models import UserUpdate

    app_ctx = get_ctx(ctx)
    changes = {k: v for k, v in {"name": name, "language": language}.items() if v is not None}
    if role is not None:
        changes["role"] = users.parse_role(role)
    with app_ctx.session() as s:
        user = users.edit_user(s, app_ctx.actor(s), email, UserUpdate(**changes))
        row = user_row(user)
    app_ctx.out.message(f"updated {row['email']}")


@app.command("deactivate")
def deactivate(ctx: typer.Context, email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Deactivate a user: they can no longer act or receive digests, their role loses its group (admins only)."""
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        user = users.deactivate_user(s, app_ctx.actor(s), email)
        email_norm = user.email
    app_ctx.out.message(f"deactivated {email_norm}")


@app.command("activate")
def activate(ctx: typer.Context, email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Let a deactivated user act again; their login role gets its group back (admins only).

    Example: partnerctl user activate bob@acme.example
    """
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        email_norm = users.activate_user(s, app_ctx.actor(s), email).email
    app_ctx.out.message(f"activated {email_norm}")
