"""Generate docs/cli.md, the command reference, from the real click command tree of the Typer app.

Run:  python scripts/gen_cli_docs.py           # rewrite docs/cli.md
      python scripts/gen_cli_docs.py --check   # exit 1 when docs/cli.md is out of date

The output depends only on the command tree (names, help texts, options), never on the terminal or
the environment, so the same code always gives the same file. Every lazy command group is loaded.
Only the CLI itself is imported: no store, database driver or keyring.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from partnerctl.cli import click_command

ROOT = Path(__file__).resolve().parents[1]
CLI_MD = ROOT / "docs" / "cli.md"
PROG = "partnerctl"
HEADER = """\
# Command reference

<!-- Generated from the Typer app by scripts/gen_cli_docs.py: do not edit by hand. -->

Generated from `partnerctl --help` and every command's `--help`. After changing a command, run
`python scripts/gen_cli_docs.py`; `tests/test_docs.py` fails while this file is out of date.

Every command also takes `-h`/`--help`. The global options (`--profile`, `--store`, `--as`,
`--output`, `--no-input`) may be given before or after the subcommand: `partnerctl user list -o json`.
"""


def _is_group(command: Any) -> bool:
    # Typer ships its own copy of click, so a group is recognised by what it can do.
    return hasattr(command, "list_commands")


def _context(command: Any, name: str, parent: Any | None) -> Any:
    """A context for reading help only: nothing is parsed or invoked, context_settings still apply."""
    return command.context_class(command, info_name=name, parent=parent, **command.context_settings)


def walk(
    command: Any | None = None, path: tuple[str, ...] = (), parent: Any | None = None
) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(path below the root, command, its context) for every visible command, lazy groups loaded."""
    command = command or click_command()
    ctx = _context(command, path[-1] if path else PROG, parent)
    yield path, command, ctx
    if _is_group(command):
        for name in command.list_commands(ctx):
            # get_command builds a lazy group on first use (partnerctl.cli.PartnerctlGroup).
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, (*path, name), ctx)


def help_text(command: Any) -> str:
    """The command's help as --help shows it (click cuts it at a form feed)."""
    return inspect.cleandoc((command.help or command.short_help or "").split("\f")[0]).strip()


def commands_without_help(root: Any | None = None) -> list[str]:
    """Every command or group without help text (the root included), as `partnerctl a b`."""
    return [" ".join((PROG, *path)) for path, command, _ in walk(root) if not help_text(command)]


def _summary(command: Any) -> str:
    first = help_text(command).split("\n\n")[0]
    return " ".join(first.split())


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(path: tuple[str, ...]) -> str:
    # GitHub's heading anchors: lower case, spaces to dashes, no other punctuation but - and _.
    return "-".join((PROG, *path)).lower()


def _paragraphs(text: str) -> tuple[list[str], list[str]]:
    """The help as Markdown: (description, examples), so the usage line can go between them."""
    description: list[str] = []
    examples: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if paragraph.startswith("\b"):
            # click's marker for a paragraph that must not be re-wrapped: keep its lines as they are.
            description += ["```text", paragraph.lstrip("\b").strip("\n"), "```", ""]
        elif paragraph.startswith(("Example:", "Examples:")):
            label, _, example = paragraph.partition(":")
            examples += [f"{label}:", "", "```sh", *example.strip().splitlines(), "```", ""]
        elif paragraph:
            description += [" ".join(paragraph.split()), ""]
    return description, examples


def _param_table(title: str, records: list[tuple[str, str]]) -> list[str]:
    if not records:
        return []
    rows = [f"| `{_cell(names)}` | {_cell(text)} |" for names, text in records]
    return [f"{title}:", "", f"| {title[:-1].lower()} | description |", "|---|---|", *rows, ""]


def _section(path: tuple[str, ...], command: Any, ctx: Any) -> list[str]:
    level = "#" * min(2 + max(len(path) - 1, 0), 6)
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    description, examples = _paragraphs(help_text(command))
    title = " ".join((PROG, *path))
    lines = [f"{level} {title}", "", *description, "```text", f"Usage: {usage}", "```", ""]
    lines += examples
    arguments, options = [], []
    for param in command.get_params(ctx):
        # -h/--help is on every command; the header says so once instead.
        record = param.get_help_record(ctx) if param.name != "help" else None
        if record is not None:
            (arguments if param.param_type_name == "argument" else options).append(record)
    lines += _param_table("Arguments", arguments) + _param_table("Options", options)
    if _is_group(command):
        subs = [(n, command.get_command(ctx, n)) for n in command.list_commands(ctx)]
        links = [
            f"| [`{n}`](#{_anchor((*path, n))}) | {_cell(_summary(sub))} |"
            for n, sub in subs
            if not sub.hidden
        ]
        lines += ["Commands:", "", "| command | description |", "|---|---|", *links, ""]
    return lines


def render() -> str:
    """The whole of docs/cli.md."""
    sections = list(walk())
    toc = [f"{'  ' * max(len(p) - 1, 0)}- [`{' '.join((PROG, *p))}`](#{_anchor(p)})" for p, _, _ in sections]
    lines = [HEADER, "## Contents", "", *toc, ""]
    for path, command, ctx in sections:
        lines += _section(path, command, ctx)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = CLI_MD.read_text(encoding="utf-8") if CLI_MD.exists() else ""
        if current != text:
            print(f"{CLI_MD.relative_to(ROOT)} is out of date: run `python scripts/gen_cli_docs.py`")
            return 1
        return 0
    CLI_MD.parent.mkdir(parents=True, exist_ok=True)
    CLI_MD.write_text(text, encoding="utf-8")
    print(f"wrote {CLI_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
