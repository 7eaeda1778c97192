"""The `client list` filter options, shared by `client list` and `client export` so they cannot drift."""

from __future__ import annotations

from typing import Annotated, Any

import typer

Tab = Annotated[
    str | None,
    typer.Option(
        "--tab", help="invites, onboarding, mine or all (default: all for admins, mine for bookkeepers)."
    ),
]
Search = Annotated[
    str | None, typer.Option("--search", "-s", help="Case-insensitive text in the name or reference.")
]
MissingReceipts = Annotated[
    bool, typer.Option("--missing-receipts", help="Only clients with missing receipts.")
]
Status = Annotated[str | None, typer.Option("--status", help="Only this status.")]
Group = Annotated[str | None, typer.Option("--group", help="Only clients in this group.")]
Assigned = Annotated[
    str | None, typer.Option("--assigned", help="Only clients assigned to this user (e-mail).")
]
Template = Annotated[str | None, typer.Option("--template", help="Only clients created from this template.")]
Currency = Annotated[str | None, typer.Option("--currency", help="Only this currency.")]
Language = Annotated[str | None, typer.Option("--language", help="Only this language.")]
Sort = Annotated[str, typer.Option("--sort", help="name, created or missing-receipts.")]
Desc = Annotated[bool, typer.Option("--desc", help="Sort descending.")]
Offset = Annotated[int, typer.Option("--offset", help="Skip this many clients.")]
Archived = Annotated[bool, typer.Option("--archived", help="Include archived clients.")]


# The options above, by parameter name: every command that takes them names its parameters so.
_NAMES = (
    "tab", "search", "missing_receipts", "status", "group", "assigned", "template", "currency",
    "language", "sort", "desc", "offset",
)  # fmt: skip


def client_filters(options: dict[str, Any], *, limit: int | None):
    """The service's ClientFilters from a command's filter options (its parameters, e.g. `locals()`)."""
    from partnerctl.services.clients import ClientFilters

    return ClientFilters(
        **{name: options[name] for name in _NAMES}, include_archived=options["archived"], limit=limit
    )
