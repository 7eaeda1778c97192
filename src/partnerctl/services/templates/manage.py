"""Template records: add, edit, find, remove, and exactly one default at any time."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.templates.settings import (
    TemplateChanges,
    load_lookups,
    settings_from,
    template_snapshot,
)
from partnerctl.services.validation import (
    require_text,
)
from partnerctl.store.models import (
    Client,
    ConfigTemplate,
    User,
)
from partnerctl.store.types import utcnow


def lock_templates(session: Session) -> None:
    """Serialise template writers: two `set-default` at once must not both clear then set."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text("SELECT pg_advisory_xact_lock(727001)"))


def find_template(session: Session, name: str) -> ConfigTemplate | None:
    return session.exec(
        select(ConfigTemplate).where(ConfigTemplate.name_key == (name or "").strip().lower())
    ).first()


def get_template(session: Session, name: str) -> ConfigTemplate:
    template = find_template(session, name)
    if template is None:
        raise NotFound(f"no template {name!r}", hint="list them with `partnerctl template list`")
    return template


def get_default(session: Session) -> ConfigTemplate | None:
    return session.exec(select(ConfigTemplate).where(ConfigTemplate.is_default == True)).first()  # noqa: E712


def list_templates(session: Session) -> list[ConfigTemplate]:
    return list(session.exec(select(ConfigTemplate).order_by(ConfigTemplate.name_key)))


def clear_default(session: Session) -> ConfigTemplate | None:
    current = get_default(session)
    if current is not None:
        current.is_default = False
        session.add(current)
        session.flush()
    return current


def flush_unique_name(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if "default" in str(exc.orig).lower():
            raise Conflict("another default template was set at the same moment; try again") from None
        raise Conflict(f"template {name!r} already exists") from None


def create_template(
    session: Session, actor: User, name: str, changes: TemplateChanges, *, version: int = 1
) -> ConfigTemplate:
    require_admin(actor, "template add")
    name = require_text(name, "template name", max_length=100)
    description = (changes.description or "").strip()
    if len(description) > 1000:
        raise InvalidInput("description is longer than 1000 characters")
    lock_templates(session)
    if find_template(session, name) is not None:
        raise Conflict(
            f"template {name!r} already exists", hint=f"change it with `partnerctl template edit {name!r}`"
        )
    settings = settings_from(load_lookups(session), {}, changes)
    if changes.default:
        clear_default(session)
    template = ConfigTemplate(
        name=name, name_key=name.lower(), description=description,
        is_default=changes.default, version=version, settings=settings,
    )  # fmt: skip
    session.add(template)
    flush_unique_name(session, name)
    audit.record(session, actor, "template.add", "template", template.name, after=template_snapshot(template))
    return template


def edit_template(session: Session, actor: User, name: str, changes: TemplateChanges) -> ConfigTemplate:
    """Change a template; its version goes up by one. Existing clients are not touched."""
    require_admin(actor, "template edit")
    lock_templates(session)
    template = get_template(session, name)
    before = template_snapshot(template)
    settings = settings_from(load_lookups(session), template.settings or {}, changes)
    changed = settings != (template.settings or {})
    if changes.new_name is not None:
        new_name = require_text(changes.new_name, "template name", max_length=100)
        other = find_template(session, new_name)
        if other is not None and other.id != template.id:
            raise Conflict(f"template {new_name!r} already exists")
        changed |= new_name != template.name
        template.name, template.name_key = new_name, new_name.lower()
    if changes.description is not None and changes.description.strip() != template.description:
        template.description = changes.description.strip()
        changed = True
    if changes.default and not template.is_default:
        clear_default(session)
        template.is_default = True
        changed = True
    if not changed:
        raise InvalidInput("nothing to change: the template already has these settings")
    template.settings = settings
    template.version += 1
    template.updated_at = utcnow()
    session.add(template)
    flush_unique_name(session, template.name)
    audit.record(
        session,
        actor,
        "template.edit",
        "template",
        template.name,
        before=before,
        after=template_snapshot(template),
    )
    return template


def set_default(session: Session, actor: User, name: str) -> tuple[ConfigTemplate, str | None]:
    require_admin(actor, "template set-default")
    lock_templates(session)
    template = get_template(session, name)
    if template.is_default:
        return template, template.name
    previous = clear_default(session)
    template.is_default = True
    template.updated_at = utcnow()
    session.add(template)
    flush_unique_name(session, template.name)
    audit.record(
        session, actor, "template.set-default", "template", template.name,
        before={"default": previous.name if previous else None}, after={"default": template.name},
    )  # fmt: skip
    return template, previous.name if previous else None


def remove_template(session: Session, actor: User, name: str) -> str:
    require_admin(actor, "template remove")
    lock_templates(session)
    template = get_template(session, name)
    if template.is_default:
        raise Conflict(
            f"{template.name} is the default template and cannot be removed",
            hint="make another template the default first: `partnerctl template set-default NAME`",
        )
    snap = template_snapshot(template)
    # Clients keep what they were created with; they just no longer point at a template.
    session.exec(sa.update(Client).where(Client.template_id == template.id).values(template_id=None))
    session.delete(template)
    session.flush()
    audit.record(session, actor, "template.remove", "template", snap["name"], before=snap)
    return snap["name"]
