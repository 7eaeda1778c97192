"""`partnerctl batch`: run many partnerctl command lines in one process, each in its own transaction."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from partnerctl.commands._common import get_ctx
from partnerctl.errors import EXIT_INTERRUPTED, EXIT_PARTIAL, EXIT_UNEXPECTED, InvalidInput


def _global_prefix(app_ctx) -> list[str]:
    """The batch's own global options, repeated in front of every line (a line's own options win)."""
    prefix: list[str] = []
    for flag, value in (
        ("--profile", app_ctx.profile_flag),
        ("--store", app_ctx.store_flag),
        ("--as", app_ctx.as_user),
        ("--output", app_ctx.output_format),
    ):
        if value:
            prefix += [flag, value]
    if app_ctx.no_input:
        prefix.append("--no-input")
    return prefix


def parse_lines(text: str) -> list[tuple[int, list[str] | None, str]]:
    """(line number, argv or None when unparsable, error) for every non-blank, non-comment line."""
    out: list[tuple[int, list[str] | None, str]] = []
    pending = ""
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        # A trailing backslash continues the command on the next line, as in a shell script.
        if line.endswith("\\") and not line.endswith("\\\\"):
            if not pending:
                start = number
            pending += line[:-1] + " "
            continue
        if pending:
            line, number, pending = pending + line, start, ""
        try:
            argv = shlex.split(line, comments=True)
        except ValueError as exc:
            out.append((number, None, f"cannot parse the line: {exc}"))
            continue
        if not argv:
            continue
        if argv[0] == "partnerctl":
            argv = argv[1:]
        out.append((number, argv, ""))
    if pending:
        out.append((start, None, "the last line ends with a backslash"))
    return out


def _run_line(root, argv: list[str]) -> int:
    """Run one command line through the root command; its exit code, never an exception."""
    try:
        rv = root.main(argv, prog_name="partnerctl", standalone_mode=False)
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:
        # Usage errors of the (vendored) click parser: show them as the shell would.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
            return int(getattr(exc, "exit_code", 2))
        if type(exc).__name__ == "Abort":
            typer.echo("aborted", err=True)
            return 1
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc}", err=True)
        return EXIT_UNEXPECTED
    return rv if isinstance(rv, int) else 0


def batch(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="File of partnerctl command lines, or - for stdin.")],
    stop_on_error: Annotated[
        bool, typer.Option("--stop-on-error", help="Stop at the first line that fails.")
    ] = False,
) -> None:
    """Run partnerctl command lines (one per line, shell-quoted, # comments) in one process.

    Each line runs in its own transaction; the result of each line is reported on stderr.
    Exit 0 when every line succeeded, 9 when some failed.

    Example: printf 'user add bob@acme.example\\nuser list\\n' | partnerctl batch -
    """
    app_ctx = get_ctx(ctx)
    if file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InvalidInput(f"no such file: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {file}: {exc}") from None
    lines = parse_lines(text)
    root = ctx.find_root().command
    prefix = _global_prefix(app_ctx)
    failed = ran = 0
    for number, argv, problem in lines:
        if argv is None:
            code = 2
            typer.echo(f"error: line {number}: {problem}", err=True)
        elif argv[0] == "batch":
            code = 2
            typer.echo(f"error: line {number}: batch cannot run batch", err=True)
        else:
            try:
                code = _run_line(root, prefix + argv)
            except KeyboardInterrupt:
                typer.echo(f"line {number}: interrupted", err=True)
                raise typer.Exit(EXIT_INTERRUPTED) from None
        ran += 1
        shown = shlex.join(argv) if argv else ""
        if code == 0:
            typer.echo(f"line {number}: ok: {shown}", err=True)
        else:
            failed += 1
            typer.echo(f"line {number}: exit {code}: {shown}", err=True)
            if stop_on_error:
                typer.echo(f"stopped at line {number} (--stop-on-error)", err=True)
                break
    typer.echo(f"batch: {ran - failed} of {len(lines)} lines ok, {failed} failed", err=True)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)
