"""`partnerctl init`: create the store, the first admin, the default template and the default profile."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerctl import config
from partnerctl.commands._common import get_ctx


def init(
    ctx: typer.Context,
    partner: Annotated[
        str, typer.Option("--partner", help="Name of the partner space, e.g. 'Acme Partners'.")
    ],
    admin_email: Annotated[str, typer.Option("--admin-email", help="E-mail of the first admin.")],
    admin_name: Annotated[str, typer.Option("--admin-name", help="Name of the first admin.")] = "",
    profile_name: Annotated[
        str, typer.Option("--profile-name", help="Profile to create for this store.")
    ] = "default",
) -> None:
    """Create the store, the first admin and the default template; running it again changes nothing.

    Example: partnerctl init --partner "Acme Partners" --admin-email anna@acme.example
    """
    from partnerctl.services.setup import DEFAULT_TEMPLATE_NAME, init_partner_space
    from partnerctl.store.engine import normalize_url, redact

    app_ctx = get_ctx(ctx)
    config.validate_profile_name(profile_name)
    url_raw = app_ctx.store_url_raw()
    url = normalize_url(url_raw)
    engine = app_ctx.engine(check_schema=False)
    from partnerctl.context import translate_db_errors
    from partnerctl.store.schema import ensure_schema

    with translate_db_errors(engine, app_ctx.profile_name):
        ensure_schema(engine, auto_upgrade=True)
    with app_ctx.session() as s:
        result = init_partner_space(s, partner=partner, admin_email=admin_email, admin_name=admin_name)

    profile_note = _remember_profile(app_ctx, profile_name, url, result.admin)
    out = app_ctx.out
    if result.created:
        out.message(f"initialised partner space {result.partner!r} in {redact(url)}")
        out.message(f"admin: {result.admin}; default template: {DEFAULT_TEMPLATE_NAME}")
    else:
        out.message(
            f"already initialised: partner space {result.partner!r} in {redact(url)}; nothing changed"
        )
    for note in result.notes:
        out.message(note)
    if profile_note:
        out.message(profile_note)


def _remember_profile(app_ctx, profile_name: str, url, admin: str) -> str | None:
    """Create the profile for this store unless one of that name exists; what to tell the user."""
    from partnerctl.store.engine import redact

    settings = app_ctx.settings
    existing = settings.profiles.get(profile_name)
    # The password never goes into config.toml; it comes from the secret chain.
    store_value = url.set(password=None).render_as_string(hide_password=False)
    if existing is None:
        settings.profiles[profile_name] = config.Profile(profile_name, {"store": store_value, "user": admin})
        settings.current_profile = settings.current_profile or profile_name
        app_ctx.save_settings()
        return f"profile {profile_name!r} created and points at this store"
    if existing.store != store_value:
        return (
            f"profile {profile_name!r} already points at {redact(existing.store or '')}; "
            f"add one for this store with `partnerctl profile add NAME --store URL --user {admin}`"
        )
    return None
