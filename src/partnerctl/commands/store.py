"""`partnerctl store ...`: schema upgrades, information, backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx, sub_app

app = sub_app("Look after the store: info, upgrade, backup.")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply the bundled schema migrations to the store."""
    from partnerctl.context import translate_db_errors
    from partnerctl.store.schema import SCHEMA_HEAD, current_revision
    from partnerctl.store.schema import upgrade as run_upgrade

    app_ctx = get_ctx(ctx)
    engine = app_ctx.engine(check_schema=False)
    with translate_db_errors(engine, app_ctx.profile_name):
        before = current_revision(engine)
        if before == SCHEMA_HEAD:
            app_ctx.out.message(f"the store is up to date (schema {SCHEMA_HEAD})")
            return
        run_upgrade(engine)
    app_ctx.out.message(f"upgraded the store from {before or 'empty'} to {SCHEMA_HEAD}")


@app.command("info")
def info(ctx: typer.Context) -> None:
    """Show the store's URL (redacted), schema revision and, to admins, its row counts."""
    from partnerctl.context import translate_db_errors
    from partnerctl.services.store_admin import row_counts, store_info

    app_ctx = get_ctx(ctx)
    engine = app_ctx.engine(check_schema=False)
    with translate_db_errors(engine, app_ctx.profile_name):
        result = store_info(engine)
    data = {
        "url": result.url,
        "backend": result.backend,
        "revision": result.revision,
        "up_to_date": result.up_to_date,
        "head": result.head,
    }
    # A store that is behind still shows where it is; the rest needs the current schema.
    counts = _counts(app_ctx, row_counts) if result.up_to_date else None
    if counts is not None and app_ctx.out.format in ("json", "jsonl"):
        data["counts"] = counts
    elif counts is not None:
        data.update({f"rows.{k}": v for k, v in counts.items()})
    app_ctx.out.item(data, title="store")


def _counts(app_ctx, row_counts) -> dict[str, int] | None:
    from partnerctl.errors import ConfigMissing

    with app_ctx.session(readonly=True) as s:
        try:
            actor = app_ctx.actor(s)
        except ConfigMissing:
            actor = None  # no acting user configured: the rest of the information still helps
        return row_counts(s, actor)


@app.command("backup")
def backup(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="Where to write the copy.")]
) -> None:
    """Write a consistent copy of a SQLite store (online backup; admins only); for PostgreSQL, explains pg_dump."""
    from partnerctl.context import translate_db_errors
    from partnerctl.services.store_admin import backup_sqlite

    app_ctx = get_ctx(ctx)
    engine = app_ctx.engine()
    with translate_db_errors(engine, app_ctx.profile_name), app_ctx.session(readonly=True) as s:
        size = backup_sqlite(engine, app_ctx.actor(s), file)
    app_ctx.out.message(f"backed up the store to {file} ({size} bytes)")
