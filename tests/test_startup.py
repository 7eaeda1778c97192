"""Start-up stays light: help, version and profile commands never import the heavy libraries."""

import subprocess
import sys

import pytest
import typer

from partnerctl.cli import click_command

HEAVY = (
    "sqlalchemy", "sqlmodel", "alembic", "psycopg", "keyring", "textual",
    "babel", "stdnum", "facturx", "fpdf", "lxml", "pypdf", "tomli",
)  # fmt: skip

PROBE = """
import sys
from partnerctl.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["profile", "list"],
        ["profile", "show"],
        ["user", "--help"],
        ["invoice", "--help"],
    ],
)
@pytest.mark.slow
def test_light_commands_do_not_import_heavy_libraries(args):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args], capture_output=True, text=True, timeout=60
    )
    assert "HEAVY=" in proc.stdout, proc.stderr
    heavy = proc.stdout.split("HEAVY=")[1].strip()
    assert heavy == "", f"{args} imported {heavy}"


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            yield from _walk(sub, (*path, name))


def test_every_command_has_help_text():
    root = click_command()
    missing = [" ".join(p) for p, c in _walk(root) if p and not (c.help or c.short_help)]
    assert missing == []
    # Every option has help too.
    undocumented = [
        f"{' '.join(p)} {param.name}"
        for p, c in _walk(root)
        for param in c.params
        if param.param_type_name == "option" and not param.help and param.name not in ("help",)
    ]
    assert undocumented == []


@pytest.mark.slow
def test_python_m_partnerctl_runs():
    proc = subprocess.run([sys.executable, "-m", "partnerctl", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("partnerctl ")


@pytest.mark.slow
def test_a_command_builds_only_its_own_group():
    probe = (
        "import sys\n"
        "from partnerctl.cli import click_command\n"
        "try:\n"
        "    click_command().main(['profile', 'list'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED=' + ','.join(sorted(m for m in sys.modules if m.startswith('partnerctl.commands.'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    loaded = set(proc.stdout.split("LOADED=")[1].strip().split(","))
    assert "partnerctl.commands.profile" in loaded
    assert not loaded & {
        "partnerctl.commands.client",
        "partnerctl.commands.tenant",
        "partnerctl.commands.billing",
    }


def test_unknown_command_suggests_a_lazy_group(cli):
    result = cli("clinet", "list")
    assert result.exit_code == 2
    assert "client" in result.stderr
