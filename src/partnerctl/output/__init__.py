"""Rows -> Rich table / JSON / JSON lines / CSV / TSV / ids. Data goes to stdout, messages to stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TextIO

from partnerctl.values import to_jsonable

FORMATS = ("table", "json", "jsonl", "csv", "tsv", "ids")


@dataclass(frozen=True)
class Column:
    key: str
    header: str | None = None
    justify: str = "left"
    # False: the column is in json/csv/tsv output but left out of the terminal table, to keep it readable.
    in_table: bool = True

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")


def columns(*specs: str | Column) -> list[Column]:
    return [c if isinstance(c, Column) else Column(c) for c in specs]


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(to_text(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(to_jsonable(value), sort_keys=True)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)


class Output:
    """Renders results in the chosen format; stdout carries data only."""

    def __init__(self, fmt: str | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self._stdout = stdout
        self._stderr = stderr
        self.format = fmt or ("table" if self.stdout.isatty() else "tsv")

    @property
    def stdout(self) -> TextIO:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self._stderr or sys.stderr

    @property
    def is_terminal(self) -> bool:
        return self.stdout.isatty()

    def console(self, *, stderr: bool = False):
        from rich.console import Console

        return Console(
            file=self.stderr if stderr else self.stdout,
            no_color=bool(os.environ.get("NO_COLOR")),
            highlight=False,
            soft_wrap=False,
        )

    # -- messages (stderr) -------------------------------------------------
    def message(self, text: str) -> None:
        print(text, file=self.stderr)

    def warn(self, text: str) -> None:
        print(f"warning: {text}", file=self.stderr)

    # -- data (stdout) -----------------------------------------------------
    def rows(
        self,
        rows: Iterable[Mapping[str, Any]],
        cols: Sequence[Column],
        *,
        key: str | None = None,
        title: str | None = None,
        header_line: Any = None,
        empty: str | None = None,
    ) -> None:
        rows = list(rows)
        fmt = self.format
        key = key or cols[0].key
        if fmt == "json":
            print(dumps([{c.key: r.get(c.key) for c in cols} for r in rows]), file=self.stdout)
        elif fmt == "jsonl":
            for r in rows:
                print(
                    json.dumps(to_jsonable({c.key: r.get(c.key) for c in cols}), ensure_ascii=False),
                    file=self.stdout,
                )
        elif fmt == "ids":
            for r in rows:
                print(to_text(r.get(key)), file=self.stdout)
        elif fmt in ("csv", "tsv"):
            self.stdout.write(delimited(rows, [c.key for c in cols], "," if fmt == "csv" else "\t"))
        else:
            console = self.console()
            if header_line is not None:
                console.print(header_line)
            if not rows and empty:
                self.message(empty)
                return
            from rich.table import Table

            table = Table(title=title, show_edge=False, header_style="bold", pad_edge=False)
            shown = [c for c in cols if c.in_table]
            for c in shown:
                table.add_column(c.title, justify=c.justify, overflow="fold")
            for r in rows:
                table.add_row(*(escape(to_text(r.get(c.key))) for c in shown))
            console.print(table)

    def item(self, data: Mapping[str, Any], *, title: str | None = None) -> None:
        fmt = self.format
        if fmt in ("json", "jsonl"):
            print(dumps(data) if fmt == "json" else json.dumps(to_jsonable(data)), file=self.stdout)
        elif fmt == "ids":
            print(to_text(next(iter(data.values()), "")), file=self.stdout)
        elif fmt in ("csv", "tsv"):
            self.stdout.write(delimited([data], list(data.keys()), "," if fmt == "csv" else "\t"))
        else:
            from rich.table import Table

            table = Table(title=title, show_header=False, show_edge=False, box=None, pad_edge=False)
            table.add_column(style="bold")
            table.add_column(overflow="fold")
            for k, v in data.items():
                table.add_row(k.replace("_", " "), escape(to_text(v)))
            self.console().print(table)

    def value(self, data: Any) -> None:
        """Print a free-form structure (JSON in json formats, otherwise pretty text)."""
        if self.format in ("json", "jsonl"):
            print(dumps(data), file=self.stdout)
        else:
            print(to_text(data), file=self.stdout)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def delimited(rows: Iterable[Mapping[str, Any]], keys: Sequence[str], delimiter: str) -> str:
    buf = io.StringIO()
    if delimiter == "\t":
        # TSV for `cut`/`awk`: no quoting; tabs and newlines inside values become spaces.
        buf.write("\t".join(keys) + "\n")
        for r in rows:
            buf.write("\t".join(to_text(r.get(k)).replace("\t", " ").replace("\n", " ") for k in keys) + "\n")
    else:
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(keys)
        for r in rows:
            writer.writerow([to_text(r.get(k)) for k in keys])
    return buf.getvalue()
