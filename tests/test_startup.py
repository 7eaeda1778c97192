"""Start-up stays light: help, version and profile commands never import the heavy libraries."""

import subprocess
import sys

import pytest

from partnerctl.cli import app

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "keyring")

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
    [["--help"], ["--version"], ["profile", "list"], ["profile", "show"], ["user", "--help"]],
)
def test_light_commands_do_not_import_heavy_libraries(args):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args], capture_output=True, text=True, timeout=60
    )
    assert "HEAVY=" in proc.stdout, proc.stderr
    heavy = proc.stdout.split("HEAVY=")[1].strip()
    assert heavy == "", f"{args} imported {heavy}"


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def test_every_command_has_help_text():
    import typer.main

    root = typer.main.get_command(app)
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


def test_python_m_partnerctl_runs():
    proc = subprocess.run([sys.executable, "-m", "partnerctl", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("partnerctl ")
