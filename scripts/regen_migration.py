"""Regenerate migration 0001 from the models (development only, before the first release).

Run: python scripts/regen_migration.py   (a file lock keeps two concurrent runs apart)
"""

import fcntl
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from partnerctl.store.migrate import alembic_config

versions = Path(__file__).resolve().parent.parent / "src/partnerctl/store/migrations/versions"
with open(versions / ".regen.lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/empty.db")
        with engine.begin() as conn:
            command.revision(alembic_config(conn), message="initial schema", autogenerate=True, rev_id="0001")
print("regenerated", *versions.glob("0001_*.py"))
