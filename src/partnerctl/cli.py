"""Root Typer app: global options, the AppContext, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import os
import sys
from typing import Annotated

import typer
import typer.main
from typer.core import TyperGroup

from partnerctl import __version__
from partnerctl.context import AppContext
from partnerctl.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, PartnerctlError
from partnerctl.output import FORMATS

# Global options a user may put anywhere on the line (`partnerctl client list -o json`), like kubectl.
_GLOBAL_WITH_VALUE = {"--profile", "-p", "--store", "--as", "--output", "-o"}
_GLOBAL_FLAGS = {"--no-input"}


def _leaf_option_names(group, args: list[str]) -> set[str]:
    """Option names of the command the args lead to; those stay with it rather than being hoisted."""
    current = group
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in _GLOBAL_WITH_VALUE
            continue
        if arg not in getattr(current, "commands", {}):
            break
        current = current.commands[arg]
    if current is group:
        return set()
    return {
        opt for p in current.params if p.param_type_name == "option" for opt in (*p.opts, *p.secondary_opts)
    }


def hoist_global_options(args: list[str], keep: set[str] = frozenset()) -> list[str]:
    """Move global options found after the subcommand to the front, where click expects them."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if name in keep:
            rest.append(arg)
        elif name in _GLOBAL_FLAGS:
            front.append(arg)
        elif name in _GLOBAL_WITH_VALUE:
            if "=" in arg and arg.startswith("--"):
                front.append(arg)
            elif i + 1 < len(args):
                front.extend(args[i : i + 2])
                i += 1
            else:
                rest.append(arg)
        elif arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--"):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def report_error(message: str, hint: str | None = None) -> None:
    typer.echo(f"error: {message}", err=True)
    if hint:
        typer.echo(f"hint: {hint}", err=True)


def _is_cli_framework_exception(exc: BaseException) -> bool:
    # Exit, Abort and usage errors of Typer's (vendored) click: let the framework handle them.
    return type(exc).__module__.split(".")[0] in ("click", "typer")


class PartnerctlGroup(TyperGroup):
    """Maps domain errors to exit codes, so CliRunner tests see the real codes too."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = list(args)
            args = hoist_global_options(args, _leaf_option_names(self, args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except PartnerctlError as exc:
            if os.environ.get("PARTNERCTL_DEBUG"):
                raise
            report_error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except SystemExit:
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            # `partnerctl client list | head` is not an error.
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:
            if _is_cli_framework_exception(exc) or os.environ.get("PARTNERCTL_DEBUG"):
                raise
            report_error(
                f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(
                    ": "
                ),
                "run again with PARTNERCTL_DEBUG=1 to see the traceback",
            )
            raise typer.Exit(EXIT_UNEXPECTED) from None


app = typer.Typer(
    name="partnerctl",
    cls=PartnerctlGroup,
    help="Administer a partner space: clients, templates, subscriptions, tenants and reminders.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"partnerctl {__version__}")
        raise typer.Exit()


def _output_format(value: str | None) -> str | None:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}")
    return value


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", envvar="PARTNERCTL_PROFILE", help="Profile to use.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="PARTNERCTL_STORE",
            help="Store URL (sqlite:///PATH or postgresql+psycopg://...).",
        ),
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", envvar="PARTNERCTL_USER", help="Act as this user (e-mail).")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            callback=_output_format,
            help="table, json, jsonl, csv, tsv or ids (default: table on a terminal, tsv otherwise).",
        ),
    ] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt; fail instead.")] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Administer a partner space: clients, templates, subscriptions, tenants and reminders."""
    ctx.obj = AppContext(
        profile_flag=profile, store_flag=store, as_user=as_user, output_format=output, no_input=no_input
    )


def _register() -> None:
    from partnerctl.commands import audit, batch, catalog, init, profile, store, user
    from partnerctl.commands import outbox as outbox_cmd

    app.command("init", help="Create the store, the first admin and the default template.")(init.init)
    app.add_typer(profile.app, name="profile", help="Manage profiles (stores and users) in config.toml.")
    app.add_typer(store.app, name="store", help="Look after the store: info, upgrade, backup.")
    app.add_typer(user.app, name="user", help="Manage partner users and their roles.")
    app.add_typer(catalog.product_app, name="product", help="Manage the product catalogue.")
    app.add_typer(catalog.integration_app, name="integration", help="Manage the integration catalogue.")
    app.add_typer(audit.app, name="audit", help="Read the audit log.")
    from partnerctl.commands import client, template

    app.add_typer(client.app, name="client", help="Manage clients: tabs, search, filters, onboarding.")
    app.add_typer(template.app, name="template", help="Manage configuration templates and the default one.")
    from partnerctl.commands import tenant

    app.add_typer(
        tenant.app, name="tenant", help="Manage tenants: hierarchy, administrators, hand-over, content."
    )
    from partnerctl.commands import billing, subscription

    app.add_typer(
        subscription.app, name="subscription", help="Manage client subscriptions: seats, status, payer."
    )
    app.add_typer(billing.billing_app, name="billing", help="Run billing and keep the exchange-rate table.")
    app.add_typer(billing.invoice_app, name="invoice", help="Read invoices.")
    app.add_typer(outbox_cmd.app, name="outbox", help="Look at and deliver the outbox of outgoing e-mail.")
    app.command("batch", help="Run many partnerctl command lines in one process.")(batch.batch)
    from partnerctl.commands import reminder

    app.add_typer(
        reminder.app, name="reminder", help="Digests of outstanding client tasks and nudges to bookkeepers."
    )


_register()


@functools.cache
def click_command():
    """The command tree, built once per process (Typer rebuilds it on every app() call otherwise)."""
    return typer.main.get_command(app)


def main() -> None:
    try:
        click_command()(prog_name="partnerctl")
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
