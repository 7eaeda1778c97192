"""Tenant content through the CLI: add, list, and copy only downwards with skip/replace reporting."""

from __future__ import annotations

import re


def _actions(result) -> dict[tuple[str, str], str]:
    return {(r["tenant"], r["item"]): r["action"] for r in result.json()}


def _content(cli, tenant) -> dict[str, dict]:
    return {r["name"]: r for r in cli.ok("tenant", "content", "list", tenant, "-o", "json").json()}


def test_copy_goes_only_down_and_reports_each_item(initialized, cli, tmp_path):
    master = "Acme Partners"
    for name, parent in (("A", master), ("A1", "A"), ("A2", "A"), ("B", master)):
        cli.ok("tenant", "add", name, "--parent", parent)

    def put(tenant, item, body, *extra):
        path = tmp_path / f"{tenant}-{item}.txt"
        path.write_text(body)
        return cli.ok("tenant", "content", "add", tenant, item, "--file", path, *extra)

    put(master, "Welcome", "Willkommen!")
    put(master, "Signature", "Viele Grüße")
    put("A1", "welcome", "A1's own welcome")
    put("A2", "Welcome", "Willkommen!")  # identical to the master's
    cli.fails(4, "tenant", "content", "add", "A1", "WELCOME", "--file", tmp_path / "A1-welcome.txt")
    assert put("A1", "Welcome", "A1's own welcome, v2", "--replace").stderr.startswith("replaced")
    cli.fails(2, "tenant", "content", "add", "A1", "X", "--file", tmp_path / "missing.txt")

    # Never upward, never across branches, never onto itself.
    assert "only downwards" in cli.fails(2, "tenant", "content", "copy", "--from", "A1", "--to", "A").stderr
    assert "only downwards" in cli.fails(2, "tenant", "content", "copy", "--from", "A", "--to", "B").stderr
    cli.fails(2, "tenant", "content", "copy", "--from", "A1", "--to", master)
    cli.fails(2, "tenant", "content", "copy", "--from", "A", "--to", "A")
    cli.fails(2, "tenant", "content", "copy", "--from", master)  # neither --to nor --recursive
    cli.fails(3, "tenant", "content", "copy", "--from", master, "--to", "A1", "--item", "Nope")
    cli.fails(2, "tenant", "content", "copy", "--from", master, "--to", "A1", "--on-existing", "merge")

    one = cli.ok("tenant", "content", "copy", "--from", master, "--to", "A1", "-o", "json")
    assert _actions(one) == {("A1", "Signature"): "added", ("A1", "Welcome"): "skipped"}
    assert "added 1, replaced 0, skipped 1" in one.stderr
    # A1 keeps its own item (named as it was first added), untouched.
    assert _content(cli, "A1")["welcome"]["sha256"] != _content(cli, master)["Welcome"]["sha256"]

    down = cli.ok("tenant", "content", "copy", "--from", master, "--to", "A", "--recursive", "--item", "welcome",
                  "--on-existing", "replace", "-o", "json")  # fmt: skip
    assert _actions(down) == {
        ("A", "Welcome"): "added",
        ("A1", "Welcome"): "replaced",
        ("A2", "Welcome"): "unchanged",
    }
    a1 = _content(cli, "A1")
    assert a1["welcome"]["sha256"] == _content(cli, master)["Welcome"]["sha256"]
    assert a1["welcome"]["copied_from"] == master and a1["welcome"]["size"] == len(b"Willkommen!")
    assert "B" not in {t for t, _ in _actions(down)}  # the other branch is untouched

    # --recursive without --to reaches every tenant below --from; --from defaults to the current tenant.
    cli.ok("tenant", "use", master)
    everything = cli.ok("tenant", "content", "copy", "--recursive", "-o", "json")
    acts = _actions(everything)
    assert {t for t, _ in acts} == {"A", "A1", "A2", "B"}
    assert acts[("B", "Welcome")] == "added" and acts[("A", "Welcome")] == "unchanged"
    assert acts[("A2", "Signature")] == "added"
    event = cli.ok("audit", "list", "--action", "tenant.content.copy", "-o", "json").json()[0]
    assert event["after"]["targets"] == 4 and event["after"]["added"] == 4  # B: 2, A: 1, A2: 1
    # The summary line counts what the audit event counts, and what the rows say.
    summary = re.search(
        r"added (\d+), replaced (\d+), skipped (\d+) .*unchanged (\d+)", everything.stderr
    ).groups()
    actions = ("added", "replaced", "skipped", "unchanged")
    assert [int(n) for n in summary] == [event["after"][a] for a in actions]
    assert [int(n) for n in summary] == [list(acts.values()).count(a) for a in actions]

    cli.ok("tenant", "content", "remove", "B", "welcome")
    assert list(_content(cli, "B")) == ["Signature"]
    cli.fails(3, "tenant", "content", "remove", "B", "welcome")
    # Removing a tenant removes its content; a new tenant of that name starts empty.
    cli.ok("tenant", "remove", "B")
    cli.ok("tenant", "add", "B")
    assert _content(cli, "B") == {}


def test_help_states_the_size_limit_the_service_checks(cli):
    from partnerctl.services.tenants.content import CONTENT_MAX_BYTES

    # The help text is written out (commands import services lazily); it must say what is enforced.
    help_text = " ".join(cli.ok("tenant", "content", "add", "--help").stdout.split())
    assert f"at most {CONTENT_MAX_BYTES // (1024 * 1024)} MiB" in help_text
