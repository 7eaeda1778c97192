"""`partnerctl client import` and `client export`: bulk onboarding from CSV/JSON and its way back out."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from partnerctl.commands._common import get_ctx
from partnerctl.commands.client import filters as F
from partnerctl.errors import InvalidInput, PartialFailure

# Rejected rows beyond this many are counted on stderr, not listed (the --errors file has them all).
MAX_SHOWN_ERRORS = 200


class _LineWriter:
    def __init__(self, file) -> None:
        from partnerctl.services.clients.bulk import csv_line

        self.file = file
        self.line = csv_line

    def writerow(self, cells) -> None:
        self.file.write(self.line([str(c) for c in cells]))


class _ErrorReport:
    """Rejected rows: one line each on stderr, and every one in the --errors CSV (re-importable)."""

    def __init__(self, path: str | None, headers: list[str], fmt: str) -> None:
        from partnerctl.services.clients.bulk import escape_formula

        self.shown = 0
        self.count = 0
        from partnerctl.services.clients.bulk import IGNORED_COLUMNS, normalize_header

        # A re-imported errors file carries old line/error columns: they are replaced, not repeated.
        self.drop = {i for i, h in enumerate(headers) if normalize_header(h) in IGNORED_COLUMNS}
        self.headers = [h for i, h in enumerate(headers) if i not in self.drop]
        self.fmt = fmt
        self.escape = escape_formula
        self._file = None
        self._writer = None
        if path:
            try:
                # surrogateescape writes undecodable bytes back exactly as they were read.
                self._file = open(path, "w", encoding="utf-8", errors="surrogateescape", newline="")  # noqa: SIM115
            except OSError as exc:
                raise InvalidInput(f"cannot write the errors file {path}: {exc.strerror}") from None
            self._writer = _LineWriter(self._file)
            # line and error first: a rejected ragged row is written with all its cells, as read.
            self._writer.writerow(["line", "error", *self.headers])

    def __call__(self, error) -> None:
        self.count += 1
        if self.shown < MAX_SHOWN_ERRORS:
            typer.echo(f"rejected: {error}", err=True)
            self.shown += 1
        if self._writer is not None:
            if isinstance(error.raw, list):
                cells = [c for i, c in enumerate(error.raw) if i not in self.drop]
            else:
                cells = [self._cell(error.raw.get(h)) for h in self.headers]
            self._writer.writerow([error.line, error.reason, *cells])

    def _cell(self, value: Any) -> str:
        if value is None:
            return ""
        if self.fmt == "csv":
            return str(value)  # exactly as read, protection included
        if isinstance(value, list):
            value = ";".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        return self.escape(str(value))

    def close(self) -> None:
        if self.count > self.shown:
            typer.echo(f"... and {self.count - self.shown} more rejected rows", err=True)
        if self._file is not None:
            self._file.close()


def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="CSV, JSON or JSON-lines file of clients, or - for stdin.")],
    template: Annotated[
        str | None,
        typer.Option(
            "--template", help="Template for rows without a template column (default: the default)."
        ),
    ] = None,
    no_template: Annotated[
        bool, typer.Option("--no-template", help="Apply no template to rows without a template column.")
    ] = False,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="csv, json or jsonl (default: from the file name, else csv)."),
    ] = None,
    key: Annotated[
        str, typer.Option("--key", help="What identifies a client already in the store: ref or name.")
    ] = "ref",
    on_existing: Annotated[
        str,
        typer.Option(
            "--on-existing", help="For clients already in the store: skip, update or fail (reject the row)."
        ),
    ] = "skip",
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate every row and report what would happen; write nothing."),
    ] = False,
    errors: Annotated[
        str | None,
        typer.Option(
            "--errors",
            help="Write rejected rows to this CSV, with line and error columns, to fix and re-import.",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Rows per transaction (a re-run skips committed batches).")
    ] = 2000,
    ignore_unknown: Annotated[
        bool, typer.Option("--ignore-unknown", help="Ignore columns import does not know instead of failing.")
    ] = False,
    welcome: Annotated[
        bool | None,
        typer.Option(
            "--welcome/--no-welcome", help="Queue the welcome e-mail for rows without a welcome column."
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Encoding of a file without BOM, e.g. cp1252 (default: utf-8)."),
    ] = None,
) -> None:
    """Import clients from CSV, JSON or JSON lines, onboarding each row as `client add` does.

    Re-running the same file changes nothing (rows are keyed by ref). Exit 0 when every row went
    in, 9 when some were rejected, 2 when none could be read.

    Example: partnerctl client import clients.csv --errors rejected.csv
    """
    from partnerctl.services.clients import bulk as ci

    app_ctx = get_ctx(ctx)
    fmt = (fmt or (ci.guess_format(file) if file != "-" else "csv")).lower()
    if fmt not in ci.FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use csv, json or jsonl")
    options = ci.ImportOptions(
        template=template,
        no_template=no_template,
        key=key.strip().lower(),
        on_existing=on_existing.strip().lower(),
        dry_run=dry_run,
        welcome=welcome,
        batch_size=batch_size,
    )
    options.check()
    stream = _open_input(file)
    try:
        source = ci.open_source(stream, fmt, encoding=encoding, ignore_unknown=ignore_unknown)
        report = _ErrorReport(errors, source.headers, fmt)
        try:
            summary = _run(app_ctx, ci, source, options, report, stream, file)
        finally:
            report.close()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    _finish(app_ctx, summary, errors)


def _open_input(file: str):
    if file == "-":
        return sys.stdin.buffer
    try:
        return open(file, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {file}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{file} is a directory") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None


def _run(app_ctx, ci, source, options, report, stream, file):
    """The import, with a Rich progress bar on stderr when stderr is a terminal."""
    kwargs = {"on_error": report}
    total = None
    if file != "-":
        try:
            total = os.fstat(stream.fileno()).st_size
        except OSError:
            total = None
    if not app_ctx.out.stderr.isatty():
        return ci.import_clients(app_ctx.session, app_ctx.actor, source, options, **kwargs)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    rows = {"n": 0}
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.fields[rows]} rows, {task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=app_ctx.out.console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=total, rows=0, rate=0)

        def on_progress(n: int) -> None:
            rows["n"] += n
            elapsed = progress.tasks[0].elapsed or 0
            rate = int(rows["n"] / elapsed) if elapsed else 0
            position = stream.tell() if total else rows["n"]
            progress.update(task, completed=position, rows=rows["n"], rate=rate)

        return ci.import_clients(
            app_ctx.session, app_ctx.actor, source, options, on_progress=on_progress, **kwargs
        )


def _finish(app_ctx, summary, errors_path: str | None) -> None:
    verb = "would import" if summary.dry_run else "imported"
    parts = [f"{summary.created} {'to create' if summary.dry_run else 'created'}"]
    if summary.updated or summary.unchanged:
        parts.append(f"{summary.updated} {'to update' if summary.dry_run else 'updated'}")
        parts.append(f"{summary.unchanged} unchanged")
    parts.append(f"{summary.skipped} skipped (already in the store)")
    parts.append(f"{summary.rejected} rejected")
    app_ctx.out.message(f"{verb} {summary.accepted} of {summary.rows} rows: {', '.join(parts)}")
    if app_ctx.out.format in ("json", "jsonl"):
        app_ctx.out.item(
            {
                "rows": summary.rows,
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "skipped": summary.skipped,
                "rejected": summary.rejected,
                "dry_run": summary.dry_run,
            }
        )
    if summary.rejected:
        where = f"; fix them in {errors_path} and import that file" if errors_path else ""
        if summary.accepted == 0:
            raise InvalidInput(f"none of the {summary.rows} rows could be imported{where}")
        raise PartialFailure(f"{summary.rejected} of {summary.rows} rows were rejected{where}")


def export(
    ctx: typer.Context,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="csv, json or jsonl (default: csv, or the -o format when it is one)."
        ),
    ] = None,
    file: Annotated[str | None, typer.Option("--file", help="Write to this file instead of stdout.")] = None,
    tab: F.Tab = None,
    search: F.Search = None,
    missing_receipts: F.MissingReceipts = False,
    status: F.Status = None,
    group: F.Group = None,
    assigned: F.Assigned = None,
    template: F.Template = None,
    currency: F.Currency = None,
    language: F.Language = None,
    archived: F.Archived = False,
    sort: F.Sort = "name",
    desc: F.Desc = False,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many clients.")] = None,
    offset: F.Offset = 0,
) -> None:
    """Export clients in the format `client import` reads (CSV cells safe to open in a spreadsheet).

    Example: partnerctl client export --group Retail > retail.csv
    """
    from partnerctl.services.clients import bulk as client_export

    filters = F.client_filters(locals(), limit=limit)
    app_ctx = get_ctx(ctx)
    fmt = (
        fmt or (app_ctx.output_format if app_ctx.output_format in ("csv", "json", "jsonl") else "csv")
    ).lower()
    if fmt not in ("csv", "json", "jsonl"):
        raise InvalidInput(f"unknown format {fmt!r}: use csv, json or jsonl")
    if limit is not None and limit < 0:
        raise InvalidInput("--limit must be 0 or more")
    if offset < 0:
        raise InvalidInput("--offset must be 0 or more")
    out = None
    try:
        if file:
            try:
                out = open(file, "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                raise InvalidInput(f"cannot write {file}: {exc.strerror}") from None
        target = out or app_ctx.out.stdout
        with app_ctx.session(readonly=True) as s:
            rows = client_export.export_rows(s, app_ctx.actor(s), filters)
            if fmt == "csv":
                n = client_export.write_csv(rows, target)
            else:
                n = client_export.write_json(rows, target, lines=fmt == "jsonl")
    finally:
        if out is not None:
            out.close()
    app_ctx.out.message(f"exported {n} client{'s' if n != 1 else ''}" + (f" to {file}" if file else ""))
