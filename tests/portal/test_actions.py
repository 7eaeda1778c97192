"""The client menu under Pilot, on both stores: each action asks first, goes through the CLI's service and audit,
and a refusal is a message in the UI, never a traceback."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, OptionList, Static

from partnerctl.portal.screens import ActionMenu, ConfirmScreen, DetailsScreen, NudgeScreen, PickerScreen
from tests.helpers.portal import BOB, CARA, audit_actions, portal_space, press, run_portal, settle, table_refs
from tests.helpers.store import outbox_rows


async def open_menu(pilot) -> ActionMenu:
    await press(pilot, "full_stop")
    assert isinstance(pilot.app.screen, ActionMenu)
    return pilot.app.screen


async def choose(pilot, key: str) -> None:
    """Pick the menu entry (or picker choice) whose id is `key` with the keyboard."""
    options = pilot.app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(key)
    await press(pilot, "enter")


async def pick(pilot, label: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, PickerScreen)
    await choose(pilot, str([lbl for lbl, _ in screen.choices].index(label)))


async def answer(pilot, yes: bool) -> str:
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmScreen), screen
    question = screen.question
    await press(pilot, "y" if yes else "n")
    return question


def show(cli, ref: str) -> dict:
    return cli.ok("client", "show", ref, "-o", "json").json()


def errors(app) -> list[str]:
    return [text for severity, text in app.messages if severity == "error"]


def test_go_to_client_asks_then_sets_the_profiles_current_client(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await open_menu(pilot)
        await choose(pilot, "go")
        seen["question"] = await answer(pilot, False)
        seen["after_no"] = cli("client", "use").exit_code
        await open_menu(pilot)
        await choose(pilot, "go")
        await answer(pilot, True)
        seen["who"] = str(app.screen.query_one("#who", Static).render())

    app = run_portal(scenario)
    assert seen["question"] == "Make Bakkerij Jansen (BAK) the current client of this profile?"
    assert seen["after_no"] == 2  # no current client: nothing was changed
    assert cli.ok("client", "use").stdout.strip() == "BAK"
    assert "current client: BAK" in seen["who"]
    assert ("information", "current client: Bakkerij Jansen (BAK) in profile default") in app.messages


def _fill_nudge(pilot, *topics: str, comment: str = ""):
    async def fill():
        screen = pilot.app.screen
        assert isinstance(screen, NudgeScreen)
        for topic in topics:
            screen.query_one(f"#topic-{topic}", Checkbox).focus()
            await pilot.press("space")
        screen.query_one("#comment", Input).focus()
        await pilot.press(*comment)
        screen.query_one("#send").focus()
        await press(pilot, "enter")

    return fill()


def test_an_admin_notifies_the_bookkeepers_like_reminder_nudge(initialized, cli, tmp_path):
    from partnerctl.commands.portal import _deliver
    from partnerctl.context import AppContext

    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await open_menu(pilot)
        await choose(pilot, "nudge")
        await _fill_nudge(pilot, "missing-receipts", comment="see me")
        seen["question"] = await answer(pilot, True)

    app = run_portal(scenario, deliver=lambda: _deliver(AppContext()))
    assert seen["question"] == "E-mail the bookkeepers of Bakkerij Jansen (BAK) about missing receipts?"
    assert errors(app) == []
    assert ("information", f"nudged 1 bookkeeper of BAK: {BOB}") in app.messages
    assert audit_actions(cli)[-1] == "reminder.nudge"
    [mail] = outbox_rows(initialized, "nudge")
    assert mail["to_addr"] == BOB and mail["status"] == "sent"  # delivered, as `reminder nudge` does
    assert ("information", "delivered 1, failed 0, deferred 0, left in outbox 0") in app.messages
    assert len(list((tmp_path / "data" / "maildir" / "new").iterdir())) == 1


def test_a_bookkeeper_nudging_is_refused_with_a_message_and_nothing_changes(initialized, cli):
    portal_space(cli)
    before = audit_actions(cli)

    async def scenario(app, pilot):
        await open_menu(pilot)
        await choose(pilot, "nudge")
        await _fill_nudge(pilot, "balance")
        await answer(pilot, True)

    app = run_portal(scenario, as_user=BOB)
    assert errors(app) == [f"only admins may do reminder nudge; {BOB} is a bookkeeper"]
    assert app.return_code is None  # still running when the scenario ended: no crash
    assert audit_actions(cli) == before
    assert outbox_rows(initialized, "nudge") == []


def test_a_nudge_needs_a_task_and_can_be_cancelled(initialized, cli):
    portal_space(cli)
    before = audit_actions(cli)
    seen = {}

    async def scenario(app, pilot):
        await open_menu(pilot)
        await choose(pilot, "nudge")
        await _fill_nudge(pilot)  # no task ticked
        seen["screen"] = type(app.screen)
        await open_menu(pilot)
        await choose(pilot, "nudge")
        await press(pilot, "escape")

    app = run_portal(scenario)
    assert ("warning", "choose at least one task to notify the bookkeepers about") in app.messages
    assert seen["screen"].__name__ == "ClientsScreen"
    assert audit_actions(cli) == before


def test_assign_and_unassign_a_user(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await open_menu(pilot)
        await choose(pilot, "assign")
        seen["choices"] = [value for _, value in app.screen.choices]
        await pick(pilot, CARA)
        seen["assign"] = await answer(pilot, True)
        await open_menu(pilot)
        await choose(pilot, "unassign")
        seen["assigned"] = [value for _, value in app.screen.choices]
        await pick(pilot, BOB)
        seen["unassign"] = await answer(pilot, True)

    app = run_portal(scenario)
    assert seen["choices"] == ["anna@acme.example", CARA]  # bob is assigned already
    assert seen["assign"] == f"Assign {CARA} to Bakkerij Jansen (BAK)?"
    assert seen["assigned"] == [BOB, CARA]  # the list was reloaded after the assignment
    assert seen["unassign"] == f"Unassign {BOB} from Bakkerij Jansen (BAK)?"
    assert errors(app) == []
    assert show(cli, "BAK")["assigned"] == [CARA]
    assert audit_actions(cli)[-2:] == ["client.assign", "client.unassign"]


def test_accept_and_decline_invitations(initialized, cli):
    portal_space(cli)
    cli.ok("client", "add", "Second Invite", "--ref", "INV2", "--invited", "--no-template")
    seen = {}

    async def scenario(app, pilot):
        await pilot.press("1")  # Invites
        await settle(pilot)
        seen["invites"] = table_refs(app)
        await open_menu(pilot)
        seen["menu"] = [a.key for a in app.screen.actions]
        await choose(pilot, "accept")
        seen["accept"] = await answer(pilot, True)
        seen["after_accept"] = table_refs(app)
        await open_menu(pilot)
        await choose(pilot, "decline")
        seen["decline"] = await answer(pilot, True)
        seen["after_decline"] = (table_refs(app), app.screen.counts)

    app = run_portal(scenario)
    assert seen["invites"] == ["INV", "INV2"]
    assert seen["menu"] == ["details", "go", "nudge", "assign", "unassign", "accept", "decline", "archive"]
    assert seen["accept"] == "Accept the invitation of Invited Co (INV)?"
    assert seen["after_accept"] == ["INV2"]
    assert seen["decline"] == "Decline the invitation of Second Invite (INV2)? The client is removed."
    assert seen["after_decline"] == ([], {"invites": 0, "onboarding": 2, "mine": 0, "all": 3})
    assert errors(app) == []
    assert show(cli, "INV")["status"] == "onboarding"
    cli.fails(3, "client", "show", "INV2")
    actions = audit_actions(cli)
    assert (
        actions[-1] == "client.decline" and "client.accept" in actions[-3:-1]
    )  # accepting applies the template


def test_archive_from_the_details_screen(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await press(pilot, "enter")
        await open_menu(pilot)
        seen["menu"] = [a.key for a in app.screen.actions]
        await choose(pilot, "archive")
        seen["no"] = await answer(pilot, False)
        await open_menu(pilot)
        await choose(pilot, "archive")
        await answer(pilot, True)
        seen["details"] = (type(app.screen), app.screen.details["status"])
        await open_menu(pilot)
        seen["menu_after"] = [a.key for a in app.screen.actions]
        await press(pilot, "escape", "escape")
        seen["list"] = table_refs(app)

    app = run_portal(scenario)
    assert "accept" not in seen["menu"] and "archive" in seen["menu"]
    assert seen["no"] == "Archive Bakkerij Jansen (BAK)? It leaves every tab."
    assert seen["details"] == (DetailsScreen, "archived")
    assert "archive" not in seen["menu_after"] and "nudge" not in seen["menu_after"]
    assert seen["list"] == ["GAR", "INV"]
    assert ("information", "nothing changed") in app.messages
    assert show(cli, "BAK")["status"] == "archived"
    assert audit_actions(cli)[-1] == "client.archive"


def test_a_conflict_meanwhile_is_a_message(initialized, cli):
    """Someone accepts the invitation on the command line while the portal asks: the portal says why."""
    portal_space(cli)

    async def scenario(app, pilot):
        await press(pilot, "1")
        await open_menu(pilot)
        await choose(pilot, "accept")
        cli.ok("client", "accept", "INV")
        await answer(pilot, True)

    app = run_portal(scenario)
    assert errors(app) == ["client INV is onboarding; only invited clients can be accepted"]
    assert app.return_code is None


def test_a_bookkeeper_archiving_is_refused(initialized, cli):
    portal_space(cli)
    before = audit_actions(cli)

    async def scenario(app, pilot):
        await open_menu(pilot)
        await choose(pilot, "archive")
        await answer(pilot, True)

    app = run_portal(scenario, as_user=BOB)
    assert errors(app) == [f"only admins may do client archive; {BOB} is a bookkeeper"]
    assert show(cli, "BAK")["status"] == "active"
    assert audit_actions(cli) == before


def test_read_only_disables_every_action(initialized, cli):
    portal_space(cli)
    before = audit_actions(cli)
    seen = {}

    async def scenario(app, pilot):
        menu = await open_menu(pilot)
        options = menu.query_one(OptionList)
        seen["disabled"] = {
            options.get_option_at_index(i).id: options.get_option_at_index(i).disabled
            for i in range(options.option_count)
        }
        seen["label"] = str(menu.query_one("#read-only", Static).render())
        for key in ("archive", "go"):
            options.highlighted = [o.id for o in options.options].index(key)
            await press(pilot, "enter")
            seen.setdefault("screens", []).append(type(app.screen).__name__)
        await choose(pilot, "details")
        seen["details"] = type(app.screen)
        await press(pilot, "escape")
        await press(pilot, "a")
        seen["menu_again"] = type(app.screen)

    run_portal(scenario, read_only=True)
    assert seen["disabled"] == {
        "details": False, "go": True, "nudge": True, "assign": True, "unassign": True, "archive": True
    }  # fmt: skip
    assert seen["label"] == "read-only: actions are disabled (--read-only)"
    assert seen["screens"] == ["ActionMenu", "ActionMenu"]  # a disabled entry cannot be picked
    assert seen["details"] is DetailsScreen
    assert seen["menu_again"] is ActionMenu
    assert audit_actions(cli) == before
    assert cli("client", "use").exit_code == 2  # no current client was set


def test_an_unexpected_failure_is_a_message_not_a_traceback(initialized, cli, monkeypatch):
    """A store call that fails in a way no rule foresaw (here: the group list raises) leaves the
    portal running, with the error as a message."""
    from partnerctl.portal.data import PortalData

    portal_space(cli)

    def broken(self):
        raise RuntimeError("the disk is on fire\nsecond line")

    monkeypatch.setattr(PortalData, "groups", broken)
    seen = {}

    async def scenario(app, pilot):
        await press(pilot, "g")
        seen["screen"] = type(app.screen).__name__
        await press(pilot, "m")
        seen["refs"] = table_refs(app)

    app = run_portal(scenario)
    assert errors(app) == ["unexpected RuntimeError: the disk is on fire"]
    assert seen == {"screen": "ClientsScreen", "refs": ["BAK"]}  # no picker opened; the portal goes on
