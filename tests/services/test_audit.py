"""The audit log: events are written in the caller's transaction, or collected by `grouped`."""

from __future__ import annotations

from sqlmodel import select

from partnerctl.services import audit
from partnerctl.store.models import AuditEvent
from tests.helpers.store import ADMIN, scope


def test_grouped_collects_events_instead_of_writing_them(engine):
    with scope(engine) as s:
        start = len(s.exec(select(AuditEvent)).all())
        with audit.grouped(s) as outer:
            audit.record(s, ADMIN, "client.edit", "client", "A", after={"password": "x", "name": "A"})
            with audit.grouped(s) as inner:
                audit.record(s, ADMIN, "client.assign", "client", "A")
            audit.record(s, ADMIN, "subscription.add", "subscription", "1")
        s.flush()
        assert [e.action for e in outer] == ["client.edit", "subscription.add"]
        assert [e.action for e in inner] == ["client.assign"]
        assert outer[0].after == {"name": "A"}  # secrets are dropped all the same
        assert len(s.exec(select(AuditEvent)).all()) == start
        audit.record(s, ADMIN, "book.apply", "client", "A")
        s.flush()
        assert [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))][-1] == "book.apply"
