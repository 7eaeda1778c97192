"""The models and the bundled migrations describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import partnerctl.store.models  # noqa: F401
from partnerctl.store.engine import make_engine, normalize_url
from partnerctl.store.migrate import head_revision
from partnerctl.store.schema import SCHEMA_HEAD, current_revision


def test_schema_head_constant_matches_alembic_head():
    assert head_revision() == SCHEMA_HEAD


def test_models_match_migrations(store_url):
    engine = make_engine(normalize_url(store_url))
    try:
        assert current_revision(engine) == SCHEMA_HEAD
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, SQLModel.metadata)
        assert diff == []
    finally:
        engine.dispose()
