"""Tenants through the CLI: the tree, unique names, charsets, logos, move, remove, switching into one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.helpers.store import ADMIN


def _image(path, fmt: str, size=(120, 40), noise: bool = False) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    if noise:
        img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def test_tree_hierarchy_names_and_master(initialized, cli):
    # init created the master tenant, named after the partner space.
    master = cli.ok("tenant", "show", "acme partners", "-o", "json").json()
    assert master["master"] is True and master["status"] == "master"
    cli.ok("tenant", "add", "Bakery Berlin")
    cli.ok("tenant", "add", "Bakery Munich", "--parent", "BAKERY BERLIN", "--edition", "professional")
    cli.ok("tenant", "add", "Shop", "--type", "custom", "--charset", "latin-1")
    cli.ok("tenant", "add", "Straße")
    # Names are unique ignoring case (and German sharp s).
    dup = cli.fails(4, "tenant", "add", "bakery  berlin")
    assert "'Bakery Berlin' already exists" in dup.stderr
    cli.fails(4, "tenant", "add", "STRASSE")
    cli.fails(3, "tenant", "add", "Orphan", "--parent", "Nowhere")
    cli.fails(2, "tenant", "add", "Bad", "--edition", "gold")
    cli.fails(2, "tenant", "add", "Bad", "--type", "premium")
    cli.fails(2, "tenant", "add", "   ")

    tree = cli.ok("tenant", "tree", "-o", "json").json()
    assert tree["name"] == "Acme Partners"
    children = {c["name"]: c for c in tree["children"]}
    assert sorted(children) == ["Bakery Berlin", "Shop", "Straße"]
    munich = children["Bakery Berlin"]["children"][0]
    assert munich == {
        "name": "Bakery Munich",
        "type": "standard",
        "edition": "professional",
        "admins": 0,
        "status": "no admin",
        "children": [],
    }
    assert children["Shop"]["status"] == "needs setup" and children["Shop"]["type"] == "custom"

    # The Rich tree shows type, edition, admin count and status on every node.
    text = cli.ok("tenant", "tree").stdout
    lines = text.splitlines()
    assert lines[0].startswith("Acme Partners  STANDARD · basic · 0 admins · master")
    munich_line = next(ln for ln in lines if "Bakery Munich" in ln)
    assert "STANDARD · professional · 0 admins · no admin" in munich_line
    # Munich is drawn one level deeper than its parent.
    berlin_line = next(ln for ln in lines if "Bakery Berlin" in ln)
    assert munich_line.index("Bakery Munich") > berlin_line.index("Bakery Berlin")
    sub = cli.ok("tenant", "tree", "bakery berlin").stdout.splitlines()
    assert sub[0].startswith("Bakery Berlin") and len(sub) == 2
    cli.fails(3, "tenant", "tree", "nope")
    flat = cli.ok("tenant", "tree", "-o", "csv").stdout.splitlines()
    assert flat[0] == "name,parent,depth,type,edition,admins,status"
    assert "Bakery Munich,Bakery Berlin,2,standard,professional,0,no admin" in flat

    rows = {r["name"]: r for r in cli.ok("tenant", "list", "-o", "json").json()}
    assert rows["Bakery Munich"]["parent"] == "Bakery Berlin"
    assert rows["Shop"]["charset"] == "ISO-8859-1"
    assert [
        r["name"] for r in cli.ok("tenant", "list", "--parent", "Bakery Berlin", "-o", "json").json()
    ] == ["Bakery Munich"]
    assert cli.ok("tenant", "list", "--search", "BAKERY", "-o", "ids").stdout.split("\n")[:2] == [
        "Bakery Berlin",
        "Bakery Munich",
    ]
    assert cli.ok("tenant", "list", "--type", "custom", "-o", "ids").stdout.split() == ["Shop"]


def test_charset_rules(initialized, cli):
    result = cli.fails(2, "tenant", "add", "Latin", "--charset", "ISO-8859-1")
    assert "STANDARD tenants are always UTF-8" in result.stderr and "--type custom" in result.stderr
    cli.ok("tenant", "add", "Utf", "--charset", "utf8")
    assert cli.ok("tenant", "show", "Utf", "-o", "json").json()["charset"] == "UTF-8"
    cli.fails(2, "tenant", "add", "Klingon", "--type", "custom", "--charset", "klingon-1")
    cli.ok("tenant", "add", "Legacy", "--type", "custom", "--charset", "cp1252")
    assert cli.ok("tenant", "show", "Legacy", "-o", "json").json()["charset"] == "WINDOWS-1252"
    cli.fails(2, "tenant", "edit", "Utf", "--charset", "latin1")
    cli.ok("tenant", "edit", "Legacy", "--charset", "iso-8859-15")
    assert cli.ok("tenant", "show", "Legacy", "-o", "json").json()["charset"] == "ISO-8859-15"


def test_logo_is_checked_by_content(initialized, cli, tmp_path):
    png = _image(tmp_path / "logo.png", "PNG")
    cli.ok("tenant", "add", "With Logo", "--logo", tmp_path / "logo.png")
    info = cli.ok("tenant", "show", "With Logo", "-o", "json").json()
    assert info["logo"] == f"image/png 120x40, {len(png)} bytes" and info["shows"] == "logo"
    cli.ok("tenant", "show", "With Logo", "--save-logo", tmp_path / "out.png", "-o", "json")
    assert (tmp_path / "out.png").read_bytes() == png
    # A JPEG named .png is stored as what it really is.
    _image(tmp_path / "really-jpeg.png", "JPEG")
    cli.ok("tenant", "edit", "With Logo", "--logo", tmp_path / "really-jpeg.png")
    assert cli.ok("tenant", "show", "With Logo", "-o", "json").json()["logo"].startswith("image/jpeg 120x40")
    for fmt, mime in (("GIF", "image/gif"), ("WEBP", "image/webp")):
        _image(tmp_path / f"l.{fmt}", fmt)
        cli.ok("tenant", "add", f"Logo {fmt}", "--logo", tmp_path / f"l.{fmt}")
        assert cli.ok("tenant", "show", f"Logo {fmt}", "-o", "json").json()["logo"].startswith(mime)

    # Without a logo, the name shows.
    cli.ok("tenant", "edit", "With Logo", "--remove-logo")
    plain = cli.ok("tenant", "show", "With Logo", "-o", "json").json()
    assert plain["logo"] is None and plain["shows"] == "name 'With Logo'"

    (tmp_path / "fake.png").write_text("this is not an image")
    assert "not an image" in cli.fails(2, "tenant", "add", "Fake", "--logo", tmp_path / "fake.png").stderr
    _image(tmp_path / "bmp.png", "BMP")
    cli.fails(2, "tenant", "add", "Bmp", "--logo", tmp_path / "bmp.png")
    _image(tmp_path / "wide.png", "PNG", size=(601, 50))
    assert "at most 600x300" in cli.fails(2, "tenant", "add", "Wide", "--logo", tmp_path / "wide.png").stderr
    _image(tmp_path / "heavy.png", "PNG", size=(600, 300), noise=True)
    assert "KiB" in cli.fails(2, "tenant", "add", "Heavy", "--logo", tmp_path / "heavy.png").stderr
    data = _image(tmp_path / "cut.png", "PNG", size=(300, 200), noise=True)
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    cli.fails(2, "tenant", "add", "Cut", "--logo", tmp_path / "cut.png")
    cli.fails(2, "tenant", "add", "Missing", "--logo", tmp_path / "missing.png")
    # Nothing of the refused ones was created.
    names = cli.ok("tenant", "list", "-o", "ids").stdout.split("\n")
    assert not {"Fake", "Bmp", "Wide", "Heavy", "Cut", "Missing"} & set(names)


def test_move_refuses_cycles_and_remove_needs_recursive_yes(initialized, cli):
    for name, parent in (("A", None), ("B", "A"), ("C", "B"), ("D", None)):
        cli.ok("tenant", "add", name, *(["--parent", parent] if parent else []))
    assert "cycle" in cli.fails(2, "tenant", "move", "A", "--parent", "C").stderr
    cli.fails(2, "tenant", "move", "A", "--parent", "a")
    cli.fails(2, "tenant", "move", "Acme Partners", "--parent", "D")
    cli.ok("tenant", "move", "B", "--parent", "D")
    tree = cli.ok("tenant", "tree", "D", "-o", "json").json()
    assert tree["children"][0]["name"] == "B" and tree["children"][0]["children"][0]["name"] == "C"
    assert cli.ok("tenant", "tree", "A", "-o", "json").json()["children"] == []

    assert "--recursive --yes" in cli.fails(4, "tenant", "remove", "D").stderr
    cli.fails(2, "tenant", "remove", "D", "--recursive")  # not a terminal: no prompt, needs --yes
    cli.fails(2, "tenant", "remove", "Acme Partners", "--recursive", "--yes")
    cli.ok("tenant", "remove", "D", "--recursive", "--yes")
    assert cli.ok("tenant", "list", "-o", "ids").stdout.split("\n")[:-1] == ["A", "Acme Partners"]
    cli.ok("tenant", "remove", "A")
    removed = [e["key"] for e in cli.ok("audit", "list", "--action", "tenant.remove", "-o", "json").json()]
    assert sorted(removed) == ["A", "B", "C", "D"]
    moved = cli.ok("audit", "list", "--action", "tenant.move", "-o", "json").json()[0]
    assert moved["actor"] == ADMIN and moved["before"]["parent_id"] != moved["after"]["parent_id"]


def test_use_switches_the_profile_and_scoped_commands_default_to_it(initialized, cli, tmp_path):
    cli.ok("tenant", "add", "Bakery Berlin")
    cli.fails(2, "tenant", "admin", "list")  # no current tenant yet
    switched = cli.ok("tenant", "use", "bakery berlin")
    assert f"as {ADMIN} (admin)" in switched.stderr
    assert cli.ok("tenant", "use").stdout.strip() == "Bakery Berlin"
    config = (tmp_path / "config" / "config.toml").read_text()
    assert 'tenant = "Bakery Berlin"' in config
    assert cli.ok("tenant", "use", "-o", "json").json() == {"profile": "default", "tenant": "Bakery Berlin"}
    assert cli.ok("tenant", "show", "-o", "json").json()["name"] == "Bakery Berlin"
    (tmp_path / "t.txt").write_text("hello")
    cli.ok("tenant", "content", "add", "Bakery Berlin", "Welcome", "--file", tmp_path / "t.txt")
    assert [r["name"] for r in cli.ok("tenant", "content", "list", "-o", "json").json()] == ["Welcome"]
    cli.fails(3, "tenant", "use", "Nowhere")
    # A rename follows the current tenant; removing it clears it.
    cli.ok("tenant", "edit", "Bakery Berlin", "--name", "Bakery Berlin-Mitte")
    assert cli.ok("tenant", "use").stdout.strip() == "Bakery Berlin-Mitte"
    cli.ok("tenant", "remove", "Bakery Berlin-Mitte")
    assert cli.ok("tenant", "use", "-o", "json").json()["tenant"] is None
    cli.ok("tenant", "add", "Other")
    cli.ok("tenant", "use", "Other")
    cli.ok("tenant", "use", "--clear")
    assert "tenant" not in (tmp_path / "config" / "config.toml").read_text()


def test_edit_and_permissions(initialized, cli):
    cli.ok("tenant", "add", "Shop", "--type", "custom")
    cli.ok("tenant", "add", "Plain")
    cli.fails(2, "tenant", "edit", "Shop")
    cli.fails(2, "tenant", "edit", "Plain", "--needs-setup")
    cli.fails(4, "tenant", "edit", "Shop", "--name", "PLAIN")
    cli.ok("tenant", "edit", "Shop", "--configured", "--edition", "enterprise")
    shop = cli.ok("tenant", "show", "Shop", "-o", "json").json()
    assert shop["needs_setup"] is False and shop["status"] == "no admin" and shop["edition"] == "enterprise"
    cli.fails(3, "tenant", "edit", "Shop", "--client", "NOPE-1")
    # Bookkeepers can look, not change.
    cli.ok("user", "add", "bob@acme.example")
    cli.ok("--as", "bob@acme.example", "tenant", "list")
    cli.fails(5, "--as", "bob@acme.example", "tenant", "add", "Nope")
    cli.fails(5, "--as", "bob@acme.example", "tenant", "remove", "Plain")
    edit = cli.ok("audit", "list", "--action", "tenant.edit", "-o", "json").json()[0]
    assert edit["before"]["edition"] == "basic" and edit["after"]["edition"] == "enterprise"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_master_is_created_lazily_on_a_store_without_one(initialized, cli, store_url):
    from sqlalchemy import create_engine, text

    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM tenants"))
    engine.dispose()
    assert "no tenants yet" in cli.ok("tenant", "tree").stderr
    cli.ok("tenant", "add", "First")
    tree = json.loads(cli.ok("tenant", "tree", "-o", "json").stdout)
    assert tree["name"] == "Acme Partners" and tree["children"][0]["name"] == "First"


def test_line_renderer_draws_exactly_what_rich_draws():
    from rich.console import Console

    from partnerctl.commands.tenant import render_tree, tree_lines
    from partnerctl.services.tenants import TenantNode, TenantTree

    spec = [(1, None, 0), (2, 1, 1), (3, 2, 2), (4, 3, 3), (5, 2, 2), (6, 1, 1), (7, 6, 2), (8, 1, 1)]
    nodes = {
        i: TenantNode(i, p, f"T{i}", "standard" if i % 2 else "custom", "basic", d, i % 3, "ready")
        for i, p, d in spec
    }
    for n in nodes.values():
        if n.parent_id:
            nodes[n.parent_id].children.append(n.id)
    tree = TenantTree([1], nodes)
    buf = io.StringIO()
    Console(file=buf, width=200, no_color=True, legacy_windows=False).print(render_tree(tree))
    assert buf.getvalue().splitlines() == tree_lines(tree)
    assert tree_lines(tree)[3] == "│   │   └── T4  CUSTOM · basic · 1 admin · ready"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_big_tree_prints_every_node(initialized, cli, store_url):
    from sqlalchemy import create_engine, insert, select

    from partnerctl.store.models.tenants import Tenant

    engine = create_engine(store_url)
    with engine.begin() as conn:
        master = conn.execute(select(Tenant.id).where(Tenant.is_master)).scalar_one()
        conn.execute(insert(Tenant), [
            {"name": f"T{i:04d}", "name_key": f"t{i:04d}", "parent_id": master, "type": "standard",
             "edition": "basic", "charset": "UTF-8", "is_master": False, "needs_setup": False, "handed_over": False}
            for i in range(2100)
        ])  # fmt: skip
    engine.dispose()
    lines = cli.ok("tenant", "tree").stdout.splitlines()
    assert len(lines) == 2101
    assert lines[1] == "├── T0000  STANDARD · basic · 0 admins · no admin"
    assert lines[-1] == "└── T2099  STANDARD · basic · 0 admins · no admin"


@pytest.mark.slow
def test_concurrent_crossing_moves_never_make_a_cycle(initialized, cli):
    cli.ok("tenant", "add", "A")
    cli.ok("tenant", "add", "B")
    procs = [
        subprocess.Popen([sys.executable, "-m", "partnerctl", "tenant", "move", name, "--parent", parent],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        for name, parent in (("A", "B"), ("B", "A"))
    ]  # fmt: skip
    codes = sorted(p.wait(timeout=120) for p in procs)
    for p in procs:
        assert "Traceback" not in p.stderr.read()
    assert codes == [0, 2], codes  # the second one sees the first move and refuses the cycle
    tree = cli.ok("tenant", "tree", "-o", "json").json()
    (top,) = tree["children"]
    assert top["name"] in ("A", "B") and len(top["children"]) == 1


def test_help_states_the_logo_limits_the_service_checks(cli):
    from partnerctl.services.tenants.logo import LOGO_MAX_BYTES, LOGO_MAX_HEIGHT, LOGO_MAX_WIDTH

    # The help text is written out (commands import services lazily); it must say what is enforced.
    limits = f"at most {LOGO_MAX_BYTES // 1024} KiB and {LOGO_MAX_WIDTH}x{LOGO_MAX_HEIGHT} pixels"
    assert limits in " ".join(cli.ok("tenant", "add", "--help").stdout.split())
