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


def _leaf_option_names(ctx: typer.Context, group, args: list[str]) -> set[str]:
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
        sub = current.get_command(ctx, arg) if hasattr(current, "get_command") else None
        if sub is None:
            break
        current = sub
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


# Command groups, built only when a command line reaches them (or --help lists them): building
# every group's options costs ~0.1-0.2 s at each start, and a command needs just one group.
# name -> (module under partnerctl.commands, attribute, help). The order is the order of --help.
_LAZY_GROUPS: dict[str, tuple[str, str, str]] = {
    "client": ("client", "app", "Manage clients: tabs, search, filters, onboarding, import and export."),
    "template": ("template", "app", "Manage configuration templates and the default one."),
    "book": ("book", "app", "Keep the client book in git: export, plan (with billing), apply."),
    "subscription": ("subscription", "app", "Manage client subscriptions: seats, status, payer."),
    "billing": ("billing", "app", "Run billing and keep the exchange-rate and VAT-rate tables."),
    "invoice": ("invoice", "app", "Invoices and credit notes: list, show, PDF and XML, credit, pay, send."),
    "partner": ("partner", "app", "The partner's invoicing identity: legal name, address, VAT, bank."),
    "tenant": ("tenant", "app", "Manage tenants: hierarchy, administrators, hand-over, content."),
    "reminder": ("reminder", "app", "Digests of outstanding client tasks and nudges to bookkeepers."),
    "outbox": ("outbox", "app", "Look at and deliver the outbox of outgoing e-mail."),
    "user": ("user", "app", "Manage partner users and their roles."),
    "product": ("product", "app", "Manage the product catalogue."),
    "integration": ("integration", "app", "Manage the integration catalogue."),
    "audit": ("audit", "app", "Read the audit log."),
    "profile": ("profile", "app", "Manage profiles (stores and users) in config.toml."),
    "store": ("store", "app", "Look after the store: info, upgrade, backup."),
}


def _build_group(name: str):
    import importlib

    module, attr, help_text = _LAZY_GROUPS[name]
    sub_app = getattr(importlib.import_module(f"partnerctl.commands.{module}"), attr)
    group = typer.main.get_group(sub_app)
    group.name = name
    group.help = help_text
    return group


class PartnerctlGroup(TyperGroup):
    """Maps domain errors to exit codes, so CliRunner tests see the real codes too."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        eager = super().list_commands(ctx)
        return ["init", *_LAZY_GROUPS, *(n for n in eager if n != "init" and n not in _LAZY_GROUPS)]

    def get_command(self, ctx: typer.Context, name: str):
        command = super().get_command(ctx, name)
        if command is None and name in _LAZY_GROUPS:
            command = self.commands[name] = _build_group(name)
        return command

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            if not _is_cli_framework_exception(exc) or all(n in self.commands for n in _LAZY_GROUPS):
                raise
            # An unknown command: load every group so the "did you mean" suggestions see them all.
            for name in _LAZY_GROUPS:
                self.get_command(ctx, name)
            return super().resolve_command(ctx, args)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = list(args)
            args = hoist_global_options(args, _leaf_option_names(ctx, self, args))
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
    from partnerctl.commands import batch, init, portal

    app.command("init", help="Create the store, the first admin and the default template.")(init.init)
    app.command("batch", help="Run many partnerctl command lines in one process.")(batch.batch)
    # The docstring is the help (with its example); short_help keeps the root listing to one line.
    app.command(
        "portal", short_help="Open the full-screen portal: client tabs, search, filters, client menu."
    )(portal.portal)


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
