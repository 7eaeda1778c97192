"""Regenerate migration 0001 from the models (development only, before the first release).

Run: python scripts/regen_migration.py
"""

import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from partnerctl.store.migrate import alembic_config

versions = Path(__file__).resolve().parent.parent / "src/partnerctl/store/migrations/versions"
for old in versions.glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = create_engine(f"sqlite:///{tmp}/empty.db")
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
print("regenerated", *versions.glob("0001_*.py"))
