"""Templates as TOML-ready documents: export and import (for git)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.templates.manage import (
    clear_default,
    create_template,
    find_template,
    flush_unique_name,
    get_template,
    lock_templates,
)
from partnerctl.services.templates.settings import (
    TemplateChanges,
    load_lookups,
    settings_from,
    template_snapshot,
)
from partnerctl.store.models import (
    ConfigTemplate,
    User,
)
from partnerctl.store.types import utcnow


def export_template(session: Session, name: str) -> dict:
    """The template as a TOML-ready document (no None values: TOML has none)."""
    return template_document(get_template(session, name))


def template_document(t: ConfigTemplate) -> dict:
    """What `template export` writes for a template (and the client book keeps in git)."""
    doc: dict[str, Any] = {
        "name": t.name,
        "description": t.description,
        "default": t.is_default,
        "version": t.version,
    }
    settings = dict(t.settings or {})
    product = settings.pop("product", None)
    doc.update(settings)
    if product:
        doc["product"] = {**product, "accept_pricing": True}
    return doc


_DOC_KEYS = {
    "name",
    "description",
    "default",
    "version",
    "currency",
    "language",
    "permissions",
    "groups",
    "users",
    "integrations",
    "product",
}


def _as_list(doc: dict, key: str) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{key} must be a list of strings")
    return value


def template_changes_from_doc(doc: dict) -> tuple[str, TemplateChanges]:
    """A template document (what `template export` writes) checked for its shape: its name and the
    settings it gives, as the changes that would create it. Values are validated when applied."""
    unknown = set(doc) - _DOC_KEYS
    if unknown:
        raise InvalidInput(f"unknown key(s) in template file: {', '.join(sorted(unknown))}")
    name = doc.get("name")
    if not isinstance(name, str):
        raise InvalidInput('the template file needs a name = "..."')
    product = doc.get("product")
    if product is not None and not isinstance(product, dict):
        raise InvalidInput('product must be a table: [product] key = "..."')
    for key in ("description", "currency", "language"):
        if key in doc and not isinstance(doc[key], str):
            raise InvalidInput(f"{key} must be a string")
    changes = TemplateChanges(
        description=doc.get("description", ""),
        users=_as_list(doc, "users"),
        integrations=_as_list(doc, "integrations"),
        permissions=_as_list(doc, "permissions"),
        groups=_as_list(doc, "groups"),
        currency=doc.get("currency") or None,
        language=doc.get("language") or None,
        product=product.get("key") if product else None,
        payer=product.get("payer") if product else None,
        seats=product.get("seats") if product else None,
        accept_pricing=bool(product.get("accept_pricing")) if product else False,
        default=bool(doc.get("default", False)),
    )
    return name, changes


def import_template(
    session: Session, actor: User, doc: dict, *, replace: bool = False
) -> tuple[ConfigTemplate, bool]:
    """Create (or with replace=True, overwrite) a template from an exported document."""
    require_admin(actor, "template import")
    name, changes = template_changes_from_doc(doc)
    lock_templates(session)
    existing = find_template(session, name)
    if existing is None:
        return create_template(session, actor, name, changes), True
    if not replace:
        raise Conflict(f"template {existing.name!r} already exists", hint="pass --replace to overwrite it")
    before = template_snapshot(existing)
    settings = settings_from(load_lookups(session), {}, changes)
    if changes.default and not existing.is_default:
        clear_default(session)
        existing.is_default = True
    if (settings, changes.description.strip(), existing.name) != (
        existing.settings,
        existing.description,
        name,
    ):
        existing.version += 1
    existing.name = name
    existing.settings = settings
    existing.description = changes.description.strip()
    existing.updated_at = utcnow()
    session.add(existing)
    flush_unique_name(session, name)
    audit.record(
        session,
        actor,
        "template.import",
        "template",
        existing.name,
        before=before,
        after=template_snapshot(existing),
    )
    return existing, False
