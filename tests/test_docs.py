"""The docs stay true: docs/cli.md is what the generator makes now, every command has help, the README
stays a short front door, and relative links in the docs lead to files that exist."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "scripts" / "gen_cli_docs.py"
README_MAX_BYTES = 20_000
REGENERATE = "docs/cli.md is out of date: run `python scripts/gen_cli_docs.py`"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current(gen):
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == gen.render(), REGENERATE


def test_cli_reference_lists_every_command(gen):
    text = gen.render()
    paths = [" ".join(("partnerctl", *path)) for path, _, _ in gen.walk()]
    missing = [p for p in paths if not re.search(rf"^#+ {re.escape(p)}$", text, re.MULTILINE)]
    assert missing == []
    # The lazy groups are loaded, nested groups included.
    assert {"partnerctl client import", "partnerctl tenant admin add", "partnerctl billing rate set"} <= set(
        paths
    )


def test_every_command_and_group_has_help_text(gen):
    missing = gen.commands_without_help()
    assert missing == [], f"commands without help text: {', '.join(missing)}"


def test_the_help_check_finds_a_command_without_help(gen):
    app = typer.Typer(help="A root with help.")

    @app.command("documented")
    def documented() -> None:
        """Do something."""

    @app.command("bare")
    def bare() -> None:
        pass

    assert gen.commands_without_help(typer.main.get_command(app)) == ["partnerctl bare"]


def test_check_mode_fails_on_a_stale_reference(gen, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "cli.md"
    monkeypatch.setattr(gen, "CLI_MD", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    stale.write_text("# Command reference\n", encoding="utf-8")
    assert gen.main(["--check"]) == 1
    assert "run `python scripts/gen_cli_docs.py`" in capsys.readouterr().out
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0


def test_readme_is_a_short_front_door():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/"


def _anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings (outside code blocks)."""
    text = re.sub(r"^```.*?^```", "", doc.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_links_in_the_docs_lead_somewhere():
    broken = []
    for doc in [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", doc.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            path = (doc.parent / target) if target else doc
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{doc.relative_to(ROOT)} -> {target}#{anchor}")
    assert broken == []


@pytest.mark.slow
def test_the_generator_imports_nothing_heavy():
    heavy = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "keyring", "argon2", "zxcvbn", "PIL")
    probe = (
        "import runpy, sys\n"
        f"module = runpy.run_path({str(GENERATOR)!r})\n"
        "module['render']()\n"
        f"print('HEAVY=' + ','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "HEAVY=" in proc.stdout, proc.stderr
    assert proc.stdout.split("HEAVY=")[1].strip() == ""
