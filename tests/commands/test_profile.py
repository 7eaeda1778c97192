"""Profiles in config.toml and secrets in keyring; secrets never land in the file or the output."""

import tomllib

from partnerctl import secrets
from tests.helpers.store import ADMIN


def _config(tmp_path):
    return tomllib.loads((tmp_path / "config" / "config.toml").read_text())


def test_profile_add_list_use_show_remove(cli, tmp_path):
    cli.ok(
        "profile", "add", "team", "--store", "postgresql+psycopg://anna@db.example/partners", "--user", ADMIN
    )
    cli.ok("profile", "add", "local", "--store", "sqlite:////tmp/x.db")
    rows = {r["name"]: r for r in cli.ok("profile", "list", "-o", "json").json()}
    assert rows["team"]["current"] is True  # the first profile becomes current
    cli.ok("profile", "use", "local")
    assert _config(tmp_path)["current_profile"] == "local"
    shown = cli.ok("profile", "show", "team", "-o", "json").json()
    assert shown["store"] == "postgresql+psycopg://anna@db.example/partners"
    cli.fails(4, "profile", "add", "team")
    cli.fails(3, "profile", "use", "nope")
    cli.fails(2, "profile", "add", "bad name!")
    cli.ok("profile", "remove", "local")
    assert "local" not in _config(tmp_path)["profiles"]
    cli.fails(3, "-p", "nope", "profile", "show")


def test_profile_refuses_password_in_url(cli):
    result = cli.fails(2, "profile", "add", "team", "--store", "postgresql+psycopg://anna:hunter2@db/p")
    assert "hunter2" not in result.stderr


def test_profile_set_mail_keys(cli, tmp_path):
    cli.ok("profile", "add", "default")
    cli.ok("profile", "set", "mail.transport", "smtp")
    cli.ok("profile", "set", "mail.smtp.port", "2525")
    cli.ok("profile", "set", "mail.smtp.security", "starttls")
    mail = _config(tmp_path)["profiles"]["default"]["mail"]
    assert mail == {"transport": "smtp", "smtp": {"port": 2525, "security": "starttls"}}
    cli.fails(2, "profile", "set", "mail.smtp.port", "http")
    cli.fails(2, "profile", "set", "mail.transport", "pigeon")
    cli.fails(2, "profile", "set", "mail.smtp.password", "x")
    cli.fails(2, "profile", "set", "colour", "blue")
    shown = cli.ok("profile", "show", "-o", "json").json()
    assert shown["mail.smtp.port"] == 2525
    cli.ok("profile", "unset", "mail.smtp.port")
    assert "port" not in _config(tmp_path)["profiles"]["default"]["mail"]["smtp"]


def test_set_secret_reads_stdin_and_never_writes_it(cli, tmp_path, isolate):
    cli.ok("profile", "add", "default")
    cli.ok("profile", "set-secret", "default", "smtp-password", input="s3cr3t-value\n")
    assert isolate.store[("partnerctl", "default/smtp-password")] == "s3cr3t-value"
    assert "s3cr3t-value" not in (tmp_path / "config" / "config.toml").read_text()
    shown = cli.ok("profile", "show", "--check-secrets", "-o", "json")
    assert "s3cr3t-value" not in shown.stdout + shown.stderr
    assert shown.json()["secret.smtp-password"] == "keyring"
    cli.fails(2, "profile", "set-secret", "default", "api-token", input="x\n")
    cli.fails(2, "profile", "set-secret", "default", "smtp-password", input="\n")
    cli.ok("profile", "set-secret", "default", "smtp-password", "--delete")
    assert ("partnerctl", "default/smtp-password") not in isolate.store


def test_secret_resolution_order(monkeypatch, isolate):
    isolate.set_password("partnerctl", "p/store-password", "from-keyring")
    assert secrets.resolve_secret("p", "store-password") == "from-keyring"
    monkeypatch.setenv("PARTNERCTL_STORE_PASSWORD", "from-env")
    assert secrets.resolve_secret("p", "store-password") == "from-env"
    assert secrets.resolve_secret("p", "store-password", explicit="from-stdin") == "from-stdin"


def test_missing_secret_without_keyring_names_the_env_var(monkeypatch):
    import keyring
    import pytest
    from keyring.backends import fail

    from partnerctl.errors import ConfigMissing

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(ConfigMissing) as err:
        secrets.resolve_secret("p", "smtp-password", required=True)
    assert "PARTNERCTL_SMTP_PASSWORD" in err.value.message
    with pytest.raises(ConfigMissing) as err:
        secrets.set_secret("p", "smtp-password", "x")
    assert "PARTNERCTL_SMTP_PASSWORD" in err.value.message


def test_corrupt_config_is_exit_7(cli, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("this is = = not toml")
    cli.fails(7, "profile", "list")


def test_unwritable_config_dir_is_exit_7(cli, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the config dir should be")
    monkeypatch.setenv("PARTNERCTL_CONFIG_DIR", str(blocker / "cfg"))
    result = cli.fails(7, "profile", "add", "x")
    assert "cannot write" in result.stderr
