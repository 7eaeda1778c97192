"""init, store upgrade/info/backup, schema checks, SQLite settings, connection errors."""

import os
import sqlite3
import stat
import tomllib

import pytest
from sqlalchemy import create_engine, text

from partnerctl.store.engine import normalize_url
from tests.helpers.cli import run_partnerctl
from tests.helpers.pg import drop_group_roles, postgres_admin_url
from tests.helpers.store import ADMIN


def test_init_creates_everything_and_second_run_changes_nothing(store_url, cli, tmp_path):
    cli.ok("init", "--partner", "Acme Partners", "--admin-email", "Anna@ACME.example", "--admin-name", "Anna")
    users = cli.ok("user", "list", "-o", "json").json()
    assert [(u["email"], u["role"]) for u in users] == [(ADMIN, "admin")]
    events_before = cli.ok("audit", "list", "-o", "json").json()
    assert {e["action"] for e in events_before} >= {"user.add", "partner.init", "template.add"}
    cfg = tomllib.loads((tmp_path / "config" / "config.toml").read_text())
    assert cfg["current_profile"] == "default"
    assert cfg["profiles"]["default"]["user"] == ADMIN

    again = cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN)
    assert "nothing changed" in again.stderr
    assert cli.ok("audit", "list", "-o", "json").json() == events_before


def test_default_sqlite_store_in_data_dir_is_private_and_wal(cli, tmp_path):
    cli.ok("init", "--partner", "Acme", "--admin-email", ADMIN)
    db = tmp_path / "data" / "partnerctl.db"
    assert db.exists()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    # The profile was written and is used without --store.
    assert cli.ok("store", "info", "-o", "json").json()["up_to_date"] is True


def test_store_info_counts_rows(initialized, cli):
    info = cli.ok("store", "info", "-o", "json").json()
    assert info["revision"] == info["head"]
    assert info["counts"]["users"] == 1
    assert info["counts"]["templates"] == 1
    assert "password" not in info["url"]


def test_backup_is_a_consistent_copy(initialized, cli, backend, tmp_path):
    target = tmp_path / "backup.db"
    if backend == "postgresql":
        result = cli.fails(2, "store", "backup", str(target))
        assert "pg_dump" in result.stderr
        return
    cli.ok("user", "add", "bob@acme.example", "--name", "Bob")
    cli.ok("store", "backup", str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    conn = sqlite3.connect(target)
    assert conn.execute("select count(*) from users").fetchone()[0] == 2
    conn.close()
    cli.fails(2, "store", "backup", str(target))  # never overwrites


def test_empty_sqlite_store_is_upgraded_automatically(cli, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("PARTNERCTL_STORE", url)
    info = cli.ok("store", "info", "-o", "json").json()
    assert info["revision"] is None
    cli.ok("init", "--partner", "Acme", "--admin-email", ADMIN)
    assert cli.ok("store", "info", "-o", "json").json()["up_to_date"] is True


@pytest.fixture
def empty_pg_database(monkeypatch):
    import uuid

    admin_url = normalize_url(postgres_admin_url())
    name = f"partnerctl_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("PARTNERCTL_STORE", url)
    yield url
    from partnerctl.context import dispose_engines

    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        drop_group_roles(conn, name)  # roles are cluster-wide: the store's group roles go with it
    admin.dispose()


def test_remote_store_behind_exits_6_until_upgraded(empty_pg_database, cli):
    result = cli.fails(6, "--as", ADMIN, "user", "list")
    assert "store upgrade" in result.stderr
    cli.ok("store", "upgrade")
    assert "up to date" in cli.ok("store", "upgrade").stderr
    cli.ok("init", "--partner", "Acme", "--admin-email", ADMIN)
    assert cli.ok("user", "list", "-o", "ids").stdout.split() == [ADMIN]


def test_remote_store_with_old_revision_exits_6(empty_pg_database, cli):
    cli.ok("init", "--partner", "Acme", "--admin-email", ADMIN)
    engine = create_engine(normalize_url(empty_pg_database))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zzzz'"))
    engine.dispose()
    from partnerctl.context import dispose_engines

    dispose_engines()
    result = cli.fails(6, "user", "list")
    assert "newer" in result.stderr


def test_unreachable_store_exits_6_with_one_line(cli):
    result = cli.fails(
        6, "--store", "postgresql+psycopg://nobody@127.0.0.1:1/nothing", "--as", ADMIN, "user", "list"
    )
    assert "cannot use the store" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sqlite_store_in_an_unwritable_place_exits_6(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = cli.fails(6, "--store", f"sqlite:///{blocker}/sub/store.db", "--as", ADMIN, "user", "list")
    assert "cannot create the SQLite store" in result.stderr


def test_bad_store_url_exits_2(cli):
    cli.fails(2, "--store", "mysql://x@y/z", "--as", ADMIN, "user", "list")


@pytest.mark.slow
def test_processes_writing_at_once_all_succeed(initialized):
    # On SQLite this relies on BEGIN IMMEDIATE + busy_timeout: writers queue, none fails.
    import subprocess
    import sys

    env = dict(os.environ, PARTNERCTL_USER=ADMIN)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "partnerctl", "user", "add", f"u{i}@acme.example"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(4)
    ]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0, 0, 0], [p.stderr.read() for p in procs]
    out = run_partnerctl("user", "list", "-o", "ids", env=env)
    assert len(out.stdout.split()) == 5
