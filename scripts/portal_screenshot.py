"""Write docs/portal.svg: the terminal portal at 80x24 over the example book (examples/clients.csv).

    python scripts/portal_screenshot.py [-o docs/portal.svg]

Builds a throw-away store in a temporary directory through the real CLI (init, import, a few
invitations), opens the portal headless as the admin and saves Textual's SVG screenshot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> None:
    from partnerctl.cli import click_command

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            click_command().main(list(args), prog_name="partnerctl")
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"partnerctl {' '.join(args)} exited {exc.code}") from None


def build_store() -> None:
    cli("init", "--partner", "Acme Partners", "--admin-email", "anna@acme.example", "--admin-name", "Anna")
    cli("user", "add", "bob@acme.example", "--name", "Bob", "--role", "bookkeeper")
    cli("client", "import", str(ROOT / "examples" / "clients.csv"))
    for name, ref in (("Fjord Fisk ApS", "FJORD"), ("Harbour Bikes Ltd", "HARBOUR")):
        cli("client", "add", name, "--ref", ref, "--invited", "--no-template")


async def shoot(out: Path) -> None:
    from textual.worker import WorkerState

    from partnerctl.context import AppContext
    from partnerctl.portal.app import PortalApp
    from partnerctl.portal.data import PortalData

    data = PortalData(AppContext(as_user="anna@acme.example"))
    app = PortalApp(data, data.whoami())
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause()
            if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
                break
        await pilot.press("down", "down")
        await pilot.pause(0.5)  # let the tab underline settle
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "portal.svg")
    args = parser.parse_args()
    os.environ.pop("NO_COLOR", None)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PARTNERCTL_CONFIG_DIR"] = f"{tmp}/config"
        os.environ["PARTNERCTL_DATA_DIR"] = f"{tmp}/data"
        os.environ["PARTNERCTL_STORE"] = f"sqlite:///{tmp}/store.db"
        build_store()
        asyncio.run(shoot(args.out.resolve()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
