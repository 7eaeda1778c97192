"""Creating a partner space: the partner, its first admin, the default template."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from partnerctl.services import audit
from partnerctl.services.partner import get_partner
from partnerctl.services.templates import find_template, get_default
from partnerctl.services.tenants import ensure_master_tenant
from partnerctl.services.users import create_user, find_user, link_first_admin
from partnerctl.services.validation import normalize_email, require_text
from partnerctl.store.models import ConfigTemplate, Partner, User
from partnerctl.store.models.core import Role

DEFAULT_TEMPLATE_NAME = "Standard"


@dataclass
class InitResult:
    created: bool
    partner: str
    admin: str
    notes: list[str]


def init_partner_space(
    session: Session, *, partner: str, admin_email: str, admin_name: str = ""
) -> InitResult:
    """Idempotent: a second run with the same store changes nothing and says so."""
    partner_name = require_text(partner, "partner name")
    email = normalize_email(admin_email, field="admin e-mail")
    existing = get_partner(session)
    if existing is not None:
        notes = []
        if existing.name != partner_name:
            notes.append(f"the store already belongs to partner {existing.name!r}; nothing changed")
        if find_user(session, email) is None:
            notes.append(f"{email} is not a user of this store; add it with `partnerctl user add`")
        return InitResult(False, existing.name, email, notes)
    session.add(Partner(name=partner_name))
    session.flush()
    admin, _ = create_user(session, email, email=email, name=admin_name, role=Role.admin.value)
    # On PostgreSQL the first admin is whoever runs init: linked before anything that row-level
    # security guards (the master tenant below) is written.
    warning = link_first_admin(session, admin)
    audit.record(session, admin, "partner.init", "partner", partner_name, after={"name": partner_name})
    ensure_default_template(session, admin)
    # The partner's own master tenant, root of the tenant tree (`tenant add` also creates it if missing).
    ensure_master_tenant(session, admin)
    return InitResult(True, partner_name, email, [warning] if warning else [])


def ensure_default_template(session: Session, actor: User) -> ConfigTemplate:
    """Every partner space has a default template from the start."""
    current = get_default(session)
    if current is not None:
        return current
    existing = find_template(session, DEFAULT_TEMPLATE_NAME)
    if existing is not None:
        existing.is_default = True
        session.add(existing)
        session.flush()
        audit.record(
            session,
            actor,
            "template.set-default",
            "template",
            existing.name,
            after={"default": existing.name},
        )
        return existing
    template = ConfigTemplate(
        name=DEFAULT_TEMPLATE_NAME,
        name_key=DEFAULT_TEMPLATE_NAME.lower(),
        description="Default template",
        is_default=True,
    )
    session.add(template)
    session.flush()
    audit.record(
        session,
        actor,
        "template.add",
        "template",
        template.name,
        after={"name": template.name, "default": True},
    )
    return template
