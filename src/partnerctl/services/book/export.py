"""`book export`: the store as a directory of TOML files for git, in a fixed order, so that the same
store always gives the same bytes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlmodel import Session

from partnerctl.services.book.files import (
    CATALOG,
    CLIENTS,
    SUFFIX,
    TEMPLATES,
    USERS,
    Writer,
    template_file_names,
)
from partnerctl.services.book.model import (
    INTEGRATION_FIELDS,
    PRODUCT_FIELDS,
    catalog_document,
    client_document,
    integration_from_store,
    product_from_store,
    user_document,
    user_from_store,
)
from partnerctl.services.book.snapshot import store_clients
from partnerctl.services.catalog import list_integrations, list_products
from partnerctl.services.templates import list_templates, template_document
from partnerctl.services.users import list_users
from partnerctl.store.models import User


def toml_bytes(doc: dict) -> bytes:
    import tomli_w

    return tomli_w.dumps(doc).encode("utf-8")


def export_book(session: Session, actor: User, directory: Path, *, force: bool = False) -> Counter:
    """Write clients/<ref>.toml, templates/<name>.toml, users.toml and catalog.toml into `directory`
    (the clients `actor` may see); the number of objects written, by kind."""
    writer = Writer(directory, force=force)
    counts: Counter = Counter()
    found = list_templates(session)
    names = template_file_names([t.name for t in found])
    writer.folder(TEMPLATES)
    for t in found:
        writer.write(TEMPLATES, names[t.name], toml_bytes(template_document(t)))
        counts["templates"] += 1
    # Sorted here, not by the database: its collation must not change the bytes.
    people = [user_document(user_from_store(u)) for u in sorted(list_users(session), key=lambda u: u.email)]
    writer.write(None, USERS, toml_bytes({"users": people}))
    counts["users"] = len(people)
    products = [
        catalog_document(product_from_store(p), PRODUCT_FIELDS)
        for p in sorted(list_products(session), key=lambda p: p.key)
    ]
    integrations = [
        catalog_document(integration_from_store(i), INTEGRATION_FIELDS)
        for i in sorted(list_integrations(session), key=lambda i: i.key)
    ]
    writer.write(None, CATALOG, toml_bytes({"products": products, "integrations": integrations}))
    counts["products"], counts["integrations"] = len(products), len(integrations)
    writer.folder(CLIENTS)
    for obj in store_clients(session, actor):
        writer.write(CLIENTS, obj.key + SUFFIX, toml_bytes(client_document(obj)))
        counts["clients"] += 1
    counts["removed"] = writer.remove_stale() if force else 0
    return counts
