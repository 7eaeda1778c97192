"""Driving the terminal portal in tests: the real app under Textual's run_test, and a small partner space."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.helpers.cli import setup_invoicing, setup_space
from tests.helpers.store import ADMIN

BOB = "bob@acme.example"
CARA = "cara@acme.example"


def portal_space(cli) -> None:
    """BAK (active, retail, bob, 3 missing receipts, a subscription and an invoice), GAR (onboarding),
    INV (an open invitation) and ARC (archived); bob and cara are bookkeepers."""
    setup_space(cli)
    cli.ok("user", "add", BOB, "--role", "bookkeeper", "--name", "Bob")
    cli.ok("user", "add", CARA, "--role", "bookkeeper", "--name", "Cara")
    cli.ok("integration", "add", "exact", "--name", "Exact Online", "--kind", "accounting")
    cli.ok("client", "edit", "BAK", "--contact-name", "Ina Jansen", "--contact-email", "ina@jansen.example",
           "--billing-street", "Dorpsstraat 1", "--billing-city", "Utrecht", "--billing-zip", "3511 AA",
           "--billing-country", "NL", "--add-integration", "exact")  # fmt: skip
    cli.ok("client", "activate", "BAK")
    cli.ok("client", "assign", "BAK", BOB)
    cli.ok("client", "tasks", "BAK", "--missing-receipts", "3", "--wallet-balance", "12.50")
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "3", "--start", "2026-01-31")
    setup_invoicing(cli)
    cli.ok("billing", "run", "--as-of", "2026-02-28")
    cli.ok("client", "add", "Invited Co", "--ref", "INV", "--invited", "--no-template")
    cli.ok("client", "add", "Archived Ltd", "--ref", "ARC", "--no-template", "--group", "retail")
    cli.ok("client", "archive", "ARC")


def make_app(*, as_user: str = ADMIN, read_only: bool = False, deliver=None, page_size: int | None = None):
    from partnerctl.context import AppContext
    from partnerctl.portal.app import PortalApp
    from partnerctl.portal.data import PortalData

    data = PortalData(AppContext(as_user=as_user), **({"page_size": page_size} if page_size else {}))
    return PortalApp(data, data.whoami(), read_only=read_only, deliver=deliver)


def run_portal(
    scenario: Callable[[Any, Any], Awaitable[None]], *, size: tuple[int, int] = (80, 24), **kw: Any
):
    """Run `scenario(app, pilot)` against a real PortalApp (headless); returns the app after it stopped."""
    app = make_app(**kw)

    async def main() -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())
    return app


async def settle(pilot, *, rounds: int = 200) -> None:
    """Wait until the portal is idle: messages handled, store calls and page loads done.

    Workers waiting for an open dialog's answer (the menu, a picker) are not waited for.
    """
    from textual.screen import ModalScreen
    from textual.worker import WorkerState

    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        waiting_on_dialog = isinstance(app.screen, ModalScreen)
        busy = [
            w for w in app.workers
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            and not (waiting_on_dialog and w.group in ("menu", "picker"))
        ]  # fmt: skip
        if not busy:
            await pilot.pause()
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the portal did not settle")


async def press(pilot, *keys: str) -> None:
    """Press `keys` one by one, letting the portal settle after each."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def type_search(pilot, text: str) -> None:
    """Focus the search field, type `text` and wait out the debounce."""
    from partnerctl.portal.clients import SEARCH_DEBOUNCE

    await pilot.press("slash", *text)
    await pilot.pause(SEARCH_DEBOUNCE * 2)
    await settle(pilot)


def table_refs(app) -> list[str]:
    """The references of the loaded rows of the client table, in order."""
    table = app.screen.table
    return [table.cache.row(i).ref for i in range(table.cache.total) if table.cache.row(i) is not None]


def tab_bar(app) -> dict[str, str]:
    """Shown tabs: id without `tab-` -> label."""
    from textual.widgets import Tabs

    tabs = app.screen.query_one(Tabs)
    return {t.id.removeprefix("tab-"): str(t.label) for t in tabs.query("Tab") if not t.has_class("-hidden")}


def audit_actions(cli) -> list[str]:
    """The audit log's actions, oldest first (as an admin reads them)."""
    return [e["action"] for e in reversed(cli.ok("audit", "list", "--limit", "500", "-o", "json").json())]


def rendered_text(renderable, width: int = 100) -> str:
    """What a Rich renderable shows as plain text, `width` cells wide."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def import_clients(cli, tmp_path, n: int) -> list[str]:
    """`client import` of n clients "Client 00001".. (ref C00001..), every 7th with missing receipts;
    returns their references in name order."""
    path = tmp_path / "clients.csv"
    refs = [f"C{i:05d}" for i in range(1, n + 1)]
    lines = ["ref,name,missing_receipts"] + [
        f"{r},Client {r[1:]},{1 if i % 7 == 0 else 0}" for i, r in enumerate(refs)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli.ok("client", "import", str(path), "--no-template")
    return refs
