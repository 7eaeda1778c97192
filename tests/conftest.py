"""Shared fixtures: isolation, a fresh store on SQLite and PostgreSQL, a CLI runner, a test SMTP server."""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from typer.testing import CliRunner

from partnerctl.cli import click_command
from partnerctl.context import dispose_engines
from tests.helpers.pg import PG_ENV, RoleFactory, drop_group_roles, postgres_admin_url, truncate_all
from tests.helpers.smtpd import RecordingHandler, SmtpServer
from tests.helpers.store import ADMIN, open_engine

_ENV_TO_CLEAR = (
    "PARTNERCTL_PROFILE", "PARTNERCTL_STORE", "PARTNERCTL_USER", "PARTNERCTL_STORE_PASSWORD",
    "PARTNERCTL_SMTP_PASSWORD", "PARTNERCTL_DEBUG", "PARTNERCTL_CONFIG_DIR", "PARTNERCTL_DATA_DIR",
)  # fmt: skip


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring so no test touches the machine's real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.store:
            raise PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARTNERCTL_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PARTNERCTL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    # Subprocesses get a keyring that stores nothing, never the machine's real one.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)
    dispose_engines()


# -- stores -------------------------------------------------------------------------------------

_SQLITE_TEMPLATE: dict[str, Path] = {}
_PG_DATABASE: dict[str, str] = {}


def _migrated_sqlite_template(tmp_path_factory) -> Path:
    if "path" not in _SQLITE_TEMPLATE:
        from partnerctl.store.engine import make_engine, normalize_url
        from partnerctl.store.schema import upgrade

        path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
        engine = make_engine(normalize_url(f"sqlite:///{path}"))
        upgrade(engine)
        engine.dispose()
        _SQLITE_TEMPLATE["path"] = path
    return _SQLITE_TEMPLATE["path"]


def _pg_session_database() -> str:
    """One database per test session (so parallel runs never collide), migrated once."""
    if "url" not in _PG_DATABASE:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from partnerctl.store.engine import make_engine, normalize_url
        from partnerctl.store.schema import upgrade

        admin_url = normalize_url(postgres_admin_url())
        name = f"partnerctl_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(admin_url).set(database=name)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        _PG_DATABASE["url"] = url.render_as_string(hide_password=False)
        _PG_DATABASE["name"] = name
    return _PG_DATABASE["url"]


def pytest_sessionfinish(session, exitstatus):
    if "name" in _PG_DATABASE:
        from sqlalchemy import create_engine, text

        from partnerctl.store.engine import normalize_url

        dispose_engines()
        admin = create_engine(normalize_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_DATABASE["name"]}" WITH (FORCE)'))
            # Roles are cluster-wide: the session database's group roles go with it.
            drop_group_roles(conn, _PG_DATABASE["name"])
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, tmp_path: Path, tmp_path_factory, monkeypatch) -> str:
    """A fresh, migrated, empty store; PARTNERCTL_STORE points at it."""
    if backend != "sqlite":
        return _empty_pg_store(monkeypatch)
    path = tmp_path / "store.db"
    shutil.copy(_migrated_sqlite_template(tmp_path_factory), path)
    os.chmod(path, 0o600)
    monkeypatch.setenv("PARTNERCTL_STORE", f"sqlite:///{path}")
    return f"sqlite:///{path}"


def _empty_pg_store(monkeypatch) -> str:
    url = _pg_session_database()
    dispose_engines()
    truncate_all(url)
    monkeypatch.setenv("PARTNERCTL_STORE", url)
    return url


@pytest.fixture
def pg_store(monkeypatch) -> str:
    """The PostgreSQL store alone (tests of what only PostgreSQL does: roles, row-level security)."""
    return _empty_pg_store(monkeypatch)


@pytest.fixture
def pg_roles(pg_store) -> Iterator[RoleFactory]:
    """Makes uniquely named login roles for this test and drops them (and what they own) at its end."""
    factory = RoleFactory(pg_store)
    yield factory
    dispose_engines()
    factory.drop_all()


# -- the CLI ------------------------------------------------------------------------------------


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout[-2000:]!r}, stderr={self.stderr[-2000:]!r})"


class Cli:
    """Runs the real command tree in-process, like typer's CliRunner, but builds the tree once."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None) -> Result:
        command = click_command()
        exception: BaseException | None = None
        with self.runner.isolation(input=input, env=env) as (out, err, _mixed):
            try:
                command.main(args=[str(a) for a in args], prog_name="partnerctl")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException as exc:  # an escaped exception is a bug the test should see
                exception = exc
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            stdout = out.getvalue().decode("utf-8", "replace")
            stderr = err.getvalue().decode("utf-8", "replace")
        return Result(code, stdout, stderr, exception)

    def ok(self, *args: str, **kw) -> Result:
        result = self(*args, **kw)
        assert result.exit_code == 0, result
        return result

    def fails(self, code: int, *args: str, **kw) -> Result:
        """Runs a command that must fail with `code`, one clear line on stderr and no traceback."""
        result = self(*args, **kw)
        assert result.exit_code == code, result
        assert result.exception is None, result
        assert "Traceback" not in result.stderr
        lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("hint:")]
        assert len(lines) >= 1, result
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def initialized(store_url: str, cli: Cli) -> str:
    """A store with a partner space, admin anna@acme.example as the acting user."""
    cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN, "--admin-name", "Anna")
    return store_url


@pytest.fixture
def engine(store_url: str):
    """An engine on a fresh store holding a partner space and its admin, for service tests."""
    yield from open_engine(store_url)


@pytest.fixture
def smtp_handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def smtp_server(smtp_handler: RecordingHandler):
    """A real SMTP server on loopback (aiosmtpd), recording what it accepts (mail and outbox tests)."""
    with SmtpServer(smtp_handler) as server:
        yield server


@pytest.fixture
def smtp_profile(initialized, cli, smtp_server: SmtpServer) -> SmtpServer:
    """The active profile sends over plain SMTP to the test server."""
    for key, value in (
        ("mail.transport", "smtp"),
        ("mail.from", "Acme Partners <noreply@acme.example>"),
        ("mail.smtp.host", "127.0.0.1"),
        ("mail.smtp.port", str(smtp_server.port)),
        ("mail.smtp.security", "none"),
        ("mail.smtp.timeout", "10"),
    ):
        cli.ok("profile", "set", key, value)
    return smtp_server


@dataclass
class Team:
    """A PostgreSQL store set up as a team would: an admin role (not a superuser, with CREATEROLE)
    ran `init` and added bookkeeper bob with his own login role. BAK is bob's client, GAR is not."""

    roles: RoleFactory
    admin_role: str
    bob_role: str

    def url(self, role: str) -> str:
        return self.roles.url(role)

    def store(self, role: str) -> list[str]:
        """The global option that connects the CLI as `role`."""
        return ["--store", self.url(role)]

    def connect(self, role: str):
        """A raw psycopg connection as `role`, no partnerctl code involved."""
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.url(role))
        return psycopg.connect(host=url.host, port=url.port, user=role, dbname=url.database)


@pytest.fixture
def team(pg_roles, cli, monkeypatch) -> Team:
    from partnerctl.store.roles import group_roles

    # The store's tables belong to the superuser that migrated the session database; the admin
    # role owns nothing. It can run `init` as a member of the store's admin group (granted with
    # the admin option, as PostgreSQL 16 needs to pass it on) and create login roles (CREATEROLE).
    admin_role = pg_roles.login("adm", createrole=True, groups=(group_roles(pg_roles.database).admin,))
    monkeypatch.setenv("PARTNERCTL_STORE", pg_roles.url(admin_role))
    cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN, "--admin-name", "Anna")
    bob_role = pg_roles.name("bob")
    cli.ok("user", "add", "bob@acme.example", "--name", "Bob", "--role", "bookkeeper", "--db-role", bob_role)
    cli.ok(
        "client",
        "add",
        "Bakkerij Jansen",
        "--ref",
        "BAK",
        "--no-template",
        "--contact-email",
        "piet@bak.example",
    )
    cli.ok(
        "client", "add", "Garage Berg", "--ref", "GAR", "--no-template", "--contact-email", "gerd@gar.example"
    )
    cli.ok("client", "assign", "BAK", "bob@acme.example")
    return Team(pg_roles, admin_role, bob_role)
