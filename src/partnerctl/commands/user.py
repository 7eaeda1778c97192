"""`partnerctl user ...`: partner users and their roles."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.output import Column

app = sub_app("Manage partner users and their roles.")

USER_COLUMNS = [Column("email"), Column("name"), Column("role"), Column("language"), Column("active")]


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
) -> None:
    """Add a partner user (admins only)."""
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        user = users.create_user(s, app_ctx.actor(s), email=email, name=name, role=role, language=language)
        row = user_row(user)
    app_ctx.out.message(f"added {row['role']} {row['email']}")
    if app_ctx.out.format in ("json", "ids"):
        app_ctx.out.item(row)


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
    """Deactivate a user: they can no longer act or receive digests (admins only)."""
    from partnerctl.services import users

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        user = users.deactivate_user(s, app_ctx.actor(s), email)
        email_norm = user.email
    app_ctx.out.message(f"deactivated {email_norm}")
