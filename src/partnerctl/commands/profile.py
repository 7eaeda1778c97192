"""`partnerctl profile ...`: profiles in config.toml and their secrets in keyring."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl import config
from partnerctl.commands._common import get_ctx, read_secret_stdin, sub_app
from partnerctl.errors import Conflict, InvalidInput
from partnerctl.output import Column

app = sub_app("Manage profiles (stores and users) in config.toml.")


def _redact_store(url: str | None) -> str | None:
    # Profiles never hold passwords, but hide one if a hand-edited file does; no sqlalchemy needed.
    if not url or "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name.")],
    store: Annotated[str | None, typer.Option("--store", help="Store URL.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Acting user's e-mail.")] = None,
    use: Annotated[bool, typer.Option("--use", help="Make it the current profile.")] = False,
) -> None:
    """Add a profile pointing at a store, acting as a user."""
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings
    config.validate_profile_name(name)
    if name in settings.profiles:
        raise Conflict(
            f"profile {name!r} already exists; change it with `partnerctl -p {name} profile set KEY VALUE`"
        )
    values: dict = {}
    if store:
        if "://" not in store:
            raise InvalidInput(f"not a store URL: {store!r}")
        if _redact_store(store) != store:
            raise InvalidInput(
                "put no password in a profile's store URL: use `partnerctl profile set-secret NAME store-password`"
            )
        values["store"] = store
    if user:
        values["user"] = user.strip().lower()
    settings.profiles[name] = config.Profile(name, values)
    if use or not settings.current_profile:
        settings.current_profile = name
    path = config.save_settings(settings)
    app_ctx.out.message(f"profile {name!r} added to {path}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List profiles; the current one is marked."""
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings
    current = app_ctx.profile_name
    rows = [
        {
            "name": p.name,
            "current": p.name == current,
            "store": _redact_store(p.store) or "(default SQLite)",
            "user": p.user or "",
        }
        for p in sorted(settings.profiles.values(), key=lambda p: p.name)
    ]
    cols = [Column("name"), Column("current"), Column("store"), Column("user")]
    app_ctx.out.rows(rows, cols, empty="no profiles yet: run `partnerctl init` or `partnerctl profile add`")


@app.command("use")
def use(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Profile name.")]) -> None:
    """Make a profile the current one."""
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings
    settings.profile(name)
    settings.current_profile = name
    config.save_settings(settings)
    app_ctx.out.message(f"now using profile {name!r}")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Profile name (default: the active one).")] = None,
    check_secrets: Annotated[
        bool,
        typer.Option("--check-secrets", help="Also say where each secret would come from (asks keyring)."),
    ] = False,
) -> None:
    """Show a profile's settings (secrets redacted)."""
    app_ctx = get_ctx(ctx)
    profile = app_ctx.settings.profile(name) if name else app_ctx.profile
    from partnerctl.secrets import SECRET_ENV

    data: dict = {"name": profile.name, "current": profile.name == app_ctx.profile_name}
    data["store"] = _redact_store(profile.store) or f"{config.default_store_url()} (default)"
    data["user"] = profile.user or ""
    data["client"] = profile.get("client") or ""
    data["tenant"] = profile.get("tenant") or ""
    mail = {k: v for k, v in _flatten(profile.get("mail") or {}, "mail").items()}
    data.update(mail)
    data.setdefault("mail.transport", "maildir (default)")
    if check_secrets:
        from partnerctl.secrets import secret_source

        for key in SECRET_ENV:
            data[f"secret.{key}"] = secret_source(profile.name, key)
    else:
        import os

        for key, env in SECRET_ENV.items():
            data[f"secret.{key}"] = f"env {env}" if os.environ.get(env) else "env unset (keyring not checked)"
    app_ctx.out.item(data, title=f"profile {profile.name}")


def _flatten(values: dict, prefix: str) -> dict:
    flat: dict = {}
    for k, v in values.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            flat.update(_flatten(v, key))
        else:
            flat[key] = v
    return flat


@app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Profile name.")]) -> None:
    """Remove a profile (the store itself is left alone)."""
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings
    settings.profile(name)
    del settings.profiles[name]
    if settings.current_profile == name:
        settings.current_profile = None
    config.save_settings(settings)
    app_ctx.out.message(f"profile {name!r} removed; its store was not touched")


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help=f"One of: {', '.join(config.SETTABLE_KEYS)}.")],
    value: Annotated[str, typer.Argument(help="The value.")],
) -> None:
    """Set a key on the active profile (e.g. mail.transport smtp)."""
    app_ctx = get_ctx(ctx)
    parsed = config.parse_setting(key, value)
    settings = app_ctx.settings
    profile = app_ctx.profile
    settings.profiles[profile.name] = profile
    profile.set(key, parsed)
    settings.current_profile = settings.current_profile or profile.name
    config.save_settings(settings)
    app_ctx.out.message(f"{profile.name}: {key} = {parsed}")


@app.command("unset")
def unset(ctx: typer.Context, key: Annotated[str, typer.Argument(help="The key to remove.")]) -> None:
    """Remove a key from the active profile."""
    app_ctx = get_ctx(ctx)
    profile = app_ctx.profile
    if not profile.unset(key):
        raise InvalidInput(f"{key} is not set on profile {profile.name!r}")
    app_ctx.settings.profiles[profile.name] = profile
    config.save_settings(app_ctx.settings)
    app_ctx.out.message(f"{profile.name}: {key} unset")


@app.command("set-secret")
def set_secret(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name.")],
    key: Annotated[str, typer.Argument(help="store-password or smtp-password.")],
    delete: Annotated[bool, typer.Option("--delete", help="Remove the secret from keyring.")] = False,
) -> None:
    """Store a secret in keyring, read from stdin (never from the command line).

    Example: printf '%s' "$PW" | partnerctl profile set-secret default smtp-password
    """
    from partnerctl import secrets

    app_ctx = get_ctx(ctx)
    config.validate_profile_name(name)
    secrets.check_key(key)
    if delete:
        removed = secrets.delete_secret(name, key)
        app_ctx.out.message(
            f"{key} for {name!r} {'removed from keyring' if removed else 'was not in keyring'}"
        )
        return
    value = read_secret_stdin(key.replace("-", " "), app_ctx)
    secrets.set_secret(name, key, value)
    app_ctx.out.message(f"{key} for profile {name!r} stored in keyring")
