"""`partnerctl book ...`: the client book as TOML files in git: export, plan (with billing), apply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from partnerctl.commands._common import get_ctx, sub_app
from partnerctl.errors import EXIT_CHANGES
from partnerctl.output import Column, to_text
from partnerctl.values import to_jsonable

app = sub_app("Keep the client book in git: export it, plan a change (with billing), apply the plan.")

DirArg = Annotated[Path, typer.Argument(help="The book's directory.", metavar="DIR")]
SYMBOLS = {"create": "+", "update": "~", "archive": "-"}
SHOW_UNMANAGED = 20


@app.command("export")
def export(
    ctx: typer.Context,
    directory: DirArg,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty DIR, replacing the book in it.")
    ] = False,
) -> None:
    """Write the store as TOML files for git: clients, templates, users and the catalogue.

    Example: partnerctl book export book
    """
    from partnerctl.services import book

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        book.begin_snapshot(s)
        counts = book.export_book(s, app_ctx.actor(s), directory, force=force)
    parts = [f"{counts[kind]} {kind if counts[kind] != 1 else kind[:-1]}"
             for kind in ("clients", "templates", "users", "products", "integrations")]  # fmt: skip
    removed = f"; removed {counts['removed']} stale file(s)" if counts["removed"] else ""
    app_ctx.out.message(f"wrote {', '.join(parts)} to {directory}{removed}")


@app.command("plan")
def plan(
    ctx: typer.Context,
    directory: DirArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Save the plan to this file, for `book apply`.", metavar="PLAN"),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Archive clients (and deactivate users) that have no file or entry."),
    ] = False,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help=f"Exit {EXIT_CHANGES} when there are changes (drift), 0 when none."),
    ] = False,
    mail_to: Annotated[
        list[str] | None,
        typer.Option(
            "--mail-to",
            help="When there are changes, queue them as an e-mail to this address in the outbox, once "
            "per distinct drift (repeatable; admins only).",
            metavar="EMAIL",
        ),
    ] = None,
) -> None:
    """Compare the book's files with the store: what would change, field by field, and the money.

    Example: partnerctl book plan book --out book.plan
    """
    from partnerctl.services import book

    app_ctx = get_ctx(ctx)
    with app_ctx.session(readonly=True) as s:
        book.begin_snapshot(s)
        actor = app_ctx.actor(s)
        recipients = book.drift_recipients(actor, mail_to) if mail_to else []
        result = book.plan_book(s, actor, directory, prune=prune)
        email = actor.email
    if out is not None:
        book.save_plan(result, out, directory=directory, actor=email)
    if recipients and result.changes:
        report = "\n".join(plan_lines(result, directory))
        with app_ctx.session() as s:
            queued = book.queue_drift_report(
                s, app_ctx.actor(s), result, to=recipients, report=report, directory=str(directory)
            )
        if queued:
            app_ctx.out.message(f"queued the drift report to {', '.join(queued)}; `outbox send` delivers it")
    _render(app_ctx.out, result, directory)
    if out is not None:
        app_ctx.out.message(f"saved the plan to {out}; apply it with `partnerctl book apply {out}`")
    if exit_code and result.changes:
        raise typer.Exit(EXIT_CHANGES)


@app.command("apply")
def apply(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="A plan saved by `book plan --out`.", metavar="PLAN")],
) -> None:
    """Apply a saved plan exactly, in one transaction (admins only).

    Example: partnerctl book apply book.plan
    """
    from partnerctl.services import book

    app_ctx = get_ctx(ctx)
    with app_ctx.session() as s:
        applied = book.apply_plan(s, app_ctx.actor(s), plan_file)
    if not applied.counts:
        app_ctx.out.message(f"nothing to apply: the store already matched {applied.directory}")
        return
    done = ", ".join(f"{action}d {n} {kind}{'s' if n != 1 else ''}"
                     for (action, kind), n in sorted(applied.counts.items()))  # fmt: skip
    app_ctx.out.message(f"applied the plan: {done}; the store now matches {applied.directory}")


# -- rendering ----------------------------------------------------------------------------------------


def _render(out, result, directory: Path) -> None:
    if out.format == "json":
        out.value(result.as_json())
    elif out.format == "jsonl":
        print(json.dumps(to_jsonable(result.as_json()), ensure_ascii=False), file=out.stdout)
    elif out.format == "table":
        for line in plan_lines(result, directory):
            print(line, file=out.stdout)
        return
    elif out.format == "ids":
        for change in result.changes:
            print(change.key, file=out.stdout)
    else:
        cols = [
            Column("action"),
            Column("kind"),
            Column("key"),
            Column("field"),
            Column("from"),
            Column("to"),
        ]
        rows = [
            {"action": c.action, "kind": c.kind, "key": c.key, "field": name,
             "from": _cell(value["from"]), "to": _cell(value["to"])}
            for c in result.changes for name, value in c.fields.items()
        ]  # fmt: skip
        out.rows(rows, cols, key="key")
    if result.unmanaged:
        out.message(_unmanaged_line(result))


def _cell(value: Any) -> str:
    return to_text(value) if not isinstance(value, dict) else json.dumps(to_jsonable(value), sort_keys=True)


def plan_lines(result, directory: Path) -> list[str]:
    """The plan for people: each change with its fields, the monthly money, unmanaged clients."""
    lines: list[str] = []
    for change in result.changes:
        lines.append(f"{SYMBOLS[change.action]} {change.action} {change.kind} {change.key}")
        for name, value in change.fields.items():
            if name.startswith("subscriptions."):
                lines.append(f"    {name}: {_subscription_text(value['from'], value['to'])}")
            elif change.action == "create":
                lines.append(f"    {name}: {_text(value['to'])}")
            else:
                lines.append(f"    {name}: {_text(value['from'])} -> {_text(value['to'])}")
    if result.money:
        lines += ["", "Monthly billing (what the changes do):"]
        for m in result.money:
            sign = "+" if not m["delta"].startswith("-") else ""
            lines.append(
                f"    {m['currency']}  before {m['before']}  after {m['after']}  change {sign}{m['delta']}"
            )
    if result.unmanaged:
        lines += ["", _unmanaged_line(result)]
    counts = {action: sum(c.action == action for c in result.changes) for action in SYMBOLS}
    if result.changes:
        lines += ["", "Plan: " + ", ".join(f"{n} to {action}" for action, n in counts.items()) + "."]
    else:
        lines.append(f"No changes: the store matches {directory}.")
    return lines


def _unmanaged_line(result) -> str:
    shown = ", ".join(result.unmanaged[:SHOW_UNMANAGED])
    more = (
        f" and {len(result.unmanaged) - SHOW_UNMANAGED} more"
        if len(result.unmanaged) > SHOW_UNMANAGED
        else ""
    )
    what = "are archived by --prune" if result.prune else "are left alone (--prune archives them)"
    return f"{len(result.unmanaged)} client(s) without a file {what}: {shown}{more}"


def _text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict) and "key" in value:  # a template's product
        return f"{value['key']} x{value['seats']} ({value['payer']} pays)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def _subscription_text(before: dict | None, after: dict | None) -> str:
    def money(sub: dict | None) -> str:
        return f"{sub['currency']} {sub['monthly_value']}" if sub and "monthly_value" in sub else "-"

    if before is None:
        text = f"add {after['seats']} seat(s), {after['payer']} pays, {after['status']}"
    elif after is None:
        text = "cancel"
    else:
        text = ", ".join(
            f"{k} {before[k]} -> {after[k]}" for k in ("seats", "payer", "status") if before[k] != after[k]
        )
    return f"{text}; monthly {money(before)} -> {money(after)}"
