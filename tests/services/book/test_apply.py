"""Planning and applying against a real store (SQLite and PostgreSQL): the cases the CLI tests leave
out, the lock that keeps a plan's store state in place, and the check after applying."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
import tomli_w
from sqlmodel import select

from partnerctl.errors import Conflict
from partnerctl.services import billing, book, clients, users
from partnerctl.services.book.snapshot import lock_book
from partnerctl.store.models import Subscription
from tests.helpers.store import add_product, admin, scope


def load(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def save(path: Path, doc: dict) -> None:
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")


def export(engine, directory: Path) -> Path:
    with scope(engine, readonly=True) as s:
        book.export_book(s, admin(s), directory)
    return directory


def plan_and_apply(engine, directory: Path, tmp_path: Path, *, prune: bool = False) -> book.Plan:
    with scope(engine, readonly=True) as s:
        result = book.plan_book(s, admin(s), directory, prune=prune)
    book.save_plan(result, tmp_path / "p.plan", directory=directory, actor="anna@acme.example")
    with scope(engine) as s:
        book.apply_plan(s, admin(s), tmp_path / "p.plan")
    with scope(engine, readonly=True) as s:
        assert book.plan_book(s, admin(s), directory, prune=prune).changes == []
    return result


def new_client(s, ref: str, **options):
    return clients.create_client(s, admin(s), clients.ClientCreate(name=ref.title(), ref=ref, no_template=True,
                                                                   **options))  # fmt: skip


def test_removing_the_first_of_two_subscriptions_of_a_product_converges(engine, tmp_path):
    with scope(engine) as s:
        add_product(s, "sig", "2.50")
        new_client(s, "BAK")
        for seats in (10, 2):
            billing.create_subscription(s, admin(s), client_ref="BAK", product_key="sig", seats=seats)
    directory = export(engine, tmp_path / "book")
    bak = load(directory / "clients" / "BAK.toml")
    assert [sub["seats"] for sub in bak["subscriptions"]] == [10, 2]
    bak["subscriptions"] = bak["subscriptions"][1:]  # keep the 2-seat one
    save(directory / "clients" / "BAK.toml", bak)
    result = plan_and_apply(engine, directory, tmp_path)
    (change,) = result.changes
    assert (
        change.fields["subscriptions.sig"]["to"]["seats"] == 2
        and change.fields["subscriptions.sig#2"]["to"] is None
    )
    with scope(engine, readonly=True) as s:
        live = s.exec(select(Subscription.seats).where(Subscription.status != "cancelled")).all()
    assert live == [2]


def test_an_integration_goes_back_from_connected_to_pending(engine, tmp_path):
    with scope(engine) as s:
        from partnerctl.services import catalog

        catalog.create_integration(s, admin(s), key="exact", name="Exact")
        new_client(s, "BAK", integrations=["exact"])
        clients.edit_client(s, admin(s), "BAK", clients.ClientUpdate(connect_integrations=["exact"]))
    directory = export(engine, tmp_path / "book")
    bak = load(directory / "clients" / "BAK.toml")
    assert bak["integrations"] == {"exact": "connected"}
    save(directory / "clients" / "BAK.toml", {**bak, "integrations": {"exact": "pending"}})
    plan_and_apply(engine, directory, tmp_path)


def test_handing_over_the_admin_role_in_one_plan(engine, tmp_path):
    with scope(engine) as s:
        users.create_user(s, admin(s), email="bob@acme.example")
    directory = export(engine, tmp_path / "book")
    doc = load(directory / "users.toml")
    doc["users"][0]["role"] = "bookkeeper"  # anna, the only admin, steps down...
    doc["users"][1]["role"] = "admin"  # ...as bob steps up: bob goes first
    save(directory / "users.toml", doc)
    result = plan_and_apply(engine, directory, tmp_path)
    assert [c.key for c in result.changes] == ["bob@acme.example", "anna@acme.example"]


def test_a_deactivated_user_in_a_template_or_client_is_no_change(engine, tmp_path):
    from partnerctl.services import templates

    with scope(engine) as s:
        users.create_user(s, admin(s), email="bob@acme.example")
        templates.create_template(s, admin(s), "Small", templates.TemplateChanges(users=["bob@acme.example"]))
        new_client(s, "BAK", assign=["bob@acme.example"])
        users.deactivate_user(s, admin(s), "bob@acme.example")
    directory = export(engine, tmp_path / "book")
    with scope(engine, readonly=True) as s:
        assert book.plan_book(s, admin(s), directory).changes == []
    save(directory / "clients" / "NEW.toml", {"name": "New", "users": ["bob@acme.example"]})
    with scope(engine, readonly=True) as s, pytest.raises(Exception, match="bob@acme.example is deactivated"):
        book.plan_book(s, admin(s), directory)


def test_a_currency_change_moves_the_money(engine, tmp_path):
    with scope(engine) as s:
        add_product(s, "sig", "2.50")
        billing.set_rate(s, admin(s), "EUR", "DKK", "7.46")
        new_client(s, "BAK")
        billing.create_subscription(s, admin(s), client_ref="BAK", product_key="sig", seats=10)
    directory = export(engine, tmp_path / "book")
    save(directory / "clients" / "BAK.toml", {**load(directory / "clients" / "BAK.toml"), "currency": "DKK"})
    result = plan_and_apply(engine, directory, tmp_path)
    assert result.money == [
        {"currency": "DKK", "before": "0.00", "after": "186.50", "delta": "186.50"},
        {"currency": "EUR", "before": "25.00", "after": "0.00", "delta": "-25.00"},
    ]


def test_nothing_is_committed_unless_the_store_ends_up_as_the_files_say(engine, tmp_path):
    with scope(engine) as s:
        new_client(s, "BAK")
    directory = export(engine, tmp_path / "book")
    save(directory / "clients" / "BAK.toml", {**load(directory / "clients" / "BAK.toml"), "name": "Wanted"})
    with scope(engine, readonly=True) as s:
        result = book.plan_book(s, admin(s), directory)
    plan_file = tmp_path / "p.plan"
    book.save_plan(result, plan_file, directory=directory, actor="anna@acme.example")
    doc = json.loads(plan_file.read_text())
    doc["changes"][0]["fields"]["name"]["to"] = "Something else"  # a plan that does not do what the files say
    plan_file.write_text(json.dumps(doc))
    # As a command does: the error leaves the session scope, which rolls back.
    with pytest.raises(Conflict, match="still differs from the files"), scope(engine) as s:
        book.apply_plan(s, admin(s), plan_file)
    with scope(engine, readonly=True) as s:
        assert clients.client_details(s, admin(s), "BAK")["name"] == "Bak"


def test_apply_keeps_other_writers_out_until_it_ends(engine, store_url):
    """The tables a plan read cannot change between the fingerprint check and the commit."""
    from partnerctl.store.engine import normalize_url

    with scope(engine) as s:
        new_client(s, "BAK")
    url = normalize_url(store_url)
    sqlite = url.get_backend_name() == "sqlite"
    # Another writer that gives up quickly instead of queueing for long.
    other = sa.create_engine(url, connect_args={"timeout": 0.3} if sqlite else {})
    try:
        with scope(engine) as s:
            lock_book(s)
            s.exec(sa.text("SELECT count(*) FROM clients")).one()  # SQLite: BEGIN IMMEDIATE has begun
            for table in ("subscriptions", "clients", "users"):
                with other.connect() as conn, pytest.raises(sa.exc.OperationalError):
                    if not sqlite:
                        conn.exec_driver_sql("SET lock_timeout = '300ms'")
                    conn.exec_driver_sql(f"UPDATE {table} SET id = id")
            with other.connect() as conn:  # reading goes on meanwhile
                assert conn.exec_driver_sql("SELECT count(*) FROM clients").scalar() == 1
        with other.begin() as conn:
            conn.exec_driver_sql("UPDATE clients SET name = 'theirs'")
    finally:
        other.dispose()


def test_export_refuses_a_reference_that_is_not_a_file_name(engine, tmp_path):
    """References made by partnerctl always are; one written into the store by other means is refused."""
    from partnerctl.errors import InvalidInput
    from tests.helpers.store import add_client

    with scope(engine) as s:
        add_client(s, "../../escape")
    with scope(engine, readonly=True) as s, pytest.raises(InvalidInput, match="cannot be a file name"):
        book.export_book(s, admin(s), tmp_path / "book")
    assert not (tmp_path / "escape.toml").exists() and list((tmp_path / "book" / "clients").iterdir()) == []
