"""The terminal portal's Textual app: the store calls off the UI thread, the client menu and its actions.

Every store call runs on one worker thread, one at a time, each in its own short session (a load or an
action is one transaction). A refused or failed call becomes a notification, never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App

from partnerctl.errors import PartnerctlError
from partnerctl.portal.clients import ClientsScreen
from partnerctl.portal.data import ACTIONS, FAILED, ClientLine, PortalData, Who, actions_for, nudge_topics
from partnerctl.portal.screens import (
    ActionMenu,
    ConfirmScreen,
    DetailsScreen,
    HelpScreen,
    NudgeScreen,
    PickerScreen,
)

ACTION_BY_KEY = {a.key: a for a in ACTIONS}


class PortalApp(App[int]):
    """`partnerctl portal`: the partner portal's client tabs as a keyboard-driven full-screen UI."""

    CSS_PATH = Path(__file__).with_name("portal.tcss")
    TITLE = "partnerctl portal"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        data: PortalData,
        who: Who,
        *,
        read_only: bool = False,
        deliver: Callable[[], str] | None = None,
    ) -> None:
        # Textual's NO_COLOR turns colours into greys; with the terminal's own (ANSI) colours it drops
        # every colour instead, as NO_COLOR asks. The portal.tcss marks focus with text styles then.
        super().__init__(ansi_color=True if "NO_COLOR" in os.environ else None)
        self.data = data
        self.who = who
        self.read_only = read_only
        self.deliver = deliver
        self.messages: list[tuple[str, str]] = []  # (severity, text) of every notification, oldest first
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="partnerctl-portal-store")

    def on_mount(self) -> None:
        self.push_screen(ClientsScreen())

    def on_unmount(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def clients(self) -> ClientsScreen:
        return next(s for s in self.screen_stack if isinstance(s, ClientsScreen))

    # -- the store, off the UI thread ------------------------------------------------------------
    async def call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run a store call on the store thread; a refusal or failure is notified and gives FAILED."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kw))
        except PartnerctlError as exc:
            self.notify(exc.message + (f" ({exc.hint})" if exc.hint else ""), severity="error")
        except Exception as exc:
            if os.environ.get("PARTNERCTL_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            self.notify(f"unexpected {type(exc).__name__}: {first}".rstrip(": "), severity="error")
        return FAILED

    def notify(self, message: str, *, title: str = "", severity: Any = "information", **kw: Any) -> None:
        """Show a notification (never as markup: messages quote user input) and keep it in `messages`."""
        self.messages.append((str(severity), message))
        del self.messages[:-50]
        kw["markup"] = False
        super().notify(message, title=title, severity=severity, **kw)

    # -- screens -----------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @work(exclusive=True, group="details")
    async def open_details(self, line: ClientLine) -> None:
        details = await self.call(self.data.details, line.ref)
        if details is not FAILED:
            await self.push_screen(DetailsScreen(line, details))

    # -- the client menu ---------------------------------------------------------------------------
    @work(exclusive=True, group="menu")
    async def open_menu(self, line: ClientLine) -> None:
        """The portal's three dots: pick an action, give what it needs, confirm, then carry it out."""
        menu = ActionMenu(line, actions_for(line.status), read_only=self.read_only)
        choice = await self.push_screen_wait(menu)
        if choice is None:
            return
        if choice == "details":
            if not isinstance(self.screen, DetailsScreen):
                self.open_details(line)
            return
        if self.read_only:
            self.notify("read-only: actions are disabled (--read-only)", severity="warning")
            return
        asked = await self._ask(choice, line)
        if asked is None:
            return
        kw, extra = asked
        question = ACTION_BY_KEY[choice].confirm.format(ref=line.ref, name=line.name, extra=extra)
        if not await self.push_screen_wait(ConfirmScreen(question)):
            self.notify("nothing changed")
            return
        message = await self.call(self.data.run, choice, line.ref, **kw)
        if message is FAILED:
            return
        self.notify(message)
        if choice == "nudge" and self.deliver is not None:
            delivered = await self.call(self.deliver)
            if delivered is not FAILED and delivered:
                self.notify(delivered)
        await self.after_change(line, removed=choice == "decline")

    async def _ask(self, choice: str, line: ClientLine) -> tuple[dict[str, Any], str] | None:
        """What the action needs beyond the client (tasks and comment, a user), and how to name it."""
        if choice == "nudge":
            topics = nudge_topics()
            answer = await self.push_screen_wait(NudgeScreen(line, topics))
            if answer is None:
                return None
            tasks, comment = answer
            if not tasks:
                self.notify("choose at least one task to notify the bookkeepers about", severity="warning")
                return None
            labels = dict(topics)
            return {"tasks": tasks, "comment": comment}, ", ".join(labels[t].lower() for t in tasks)
        if choice in ("assign", "unassign"):
            email = await self._pick_user(choice, line)
            return None if email is None else ({"email": email}, email)
        return {}, ""

    async def _pick_user(self, choice: str, line: ClientLine) -> str | None:
        if choice == "unassign":
            emails = list(line.assigned)
        else:
            found = await self.call(self.data.users)
            if found is FAILED:
                return None
            emails = [e for e in found if e not in line.assigned]
        title = "Assign which user?" if choice == "assign" else "Unassign which user?"
        empty = "every active user is assigned already" if choice == "assign" else "nobody is assigned"
        return await self.push_screen_wait(PickerScreen(title, [(e, e) for e in emails], empty=empty))

    async def after_change(self, line: ClientLine, *, removed: bool = False) -> None:
        """Show what an action changed: the counts and the list, and the open details screen."""
        self.clients.reload(keep_cursor=True)
        self.clients.show_who()
        if not isinstance(self.screen, DetailsScreen):
            return
        details = FAILED if removed else await self.call(self.data.details, line.ref)
        if details is FAILED:
            self.pop_screen()  # the client is gone (a declined invitation)
        else:
            self.screen.show(details)
