"""Alembic, driven from code: the migrations ship inside the package, no alembic.ini at run time."""

from __future__ import annotations

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

SCRIPT_LOCATION = "partnerctl.store:migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in script_directory().walk_revisions())


def head_revision() -> str:
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]
