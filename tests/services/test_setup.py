"""Creating a partner space: idempotent init and exactly one default template."""

from __future__ import annotations

from sqlmodel import select

from partnerctl.services import templates
from partnerctl.services.setup import DEFAULT_TEMPLATE_NAME, ensure_default_template, init_partner_space
from partnerctl.store.models import AuditEvent
from tests.helpers.store import ADMIN, admin, scope


def test_init_twice_changes_nothing_and_says_why(engine):
    with scope(engine) as s:
        result = init_partner_space(s, partner="Other Partners", admin_email="zoe@other.example")
        assert (result.created, result.partner, result.admin) == (False, "Acme Partners", "zoe@other.example")
        assert len(result.notes) == 2
        again = init_partner_space(s, partner="Acme Partners", admin_email=ADMIN)
        assert (again.created, again.notes) == (False, [])


def test_the_default_template_is_the_one_templates_finds(engine):
    """Setup looks the default template up as the templates area does: by its flag, then by its
    name ("Standard" finds the stored key "standard"), and never makes a second one."""
    with scope(engine) as s:
        a = admin(s)
        current = templates.get_default(s)
        assert current.name == DEFAULT_TEMPLATE_NAME
        assert ensure_default_template(s, a).id == current.id
        current.is_default = False
        s.add(current)
        s.flush()
        assert templates.get_default(s) is None
        again = ensure_default_template(s, a)
        assert again.id == current.id and again.is_default
        assert templates.get_default(s).id == current.id
        assert [t.name for t in templates.list_templates(s)] == [DEFAULT_TEMPLATE_NAME]
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions[-1] == "template.set-default"
