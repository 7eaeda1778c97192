"""Subscription services: validation, the client editor and its invitation, isolation, states."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from partnerctl.errors import Conflict, Forbidden, InvalidInput, NotFound
from partnerctl.services import billing as subs
from partnerctl.store.models import OutboxMessage, User
from tests.helpers.store import add_bookkeeper, add_client, add_product, admin, scope

TODAY = date(2026, 3, 10)


# -- add ---------------------------------------------------------------------------------------------


def test_add_validates_input(engine):
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "C1")
        p = add_product(s, "sig", "2.50")
        with pytest.raises(InvalidInput, match="at least 1"):
            subs.add_subscription(s, a, client=c, product=p, seats=0, today=TODAY)
        with pytest.raises(InvalidInput, match="in the past"):
            subs.add_subscription(s, a, client=c, product=p, next_payment=date(2026, 3, 9), today=TODAY)
        with pytest.raises(InvalidInput, match="contact"):
            subs.add_subscription(s, a, client=c, product=p, allow_client_edit=True, contact_name="Eva",
                                  today=TODAY)  # fmt: skip
        with pytest.raises(InvalidInput, match="invalid contact e-mail"):
            subs.add_subscription(s, a, client=c, product=p, allow_client_edit=True, contact_name="Eva",
                                  contact_email="eva@", today=TODAY)  # fmt: skip
        with pytest.raises(NotFound):
            subs.create_subscription(s, a, client_ref="NOPE", product_key="sig", today=TODAY)
        with pytest.raises(NotFound):
            subs.create_subscription(s, a, client_ref="C1", product_key="nope", today=TODAY)
        # Backdated with --start: a past next payment is fine (billing catches up).
        sub = subs.add_subscription(s, a, client=c, product=p, seats=3, start=date(2025, 12, 31),
                                    next_payment=date(2026, 1, 31), today=TODAY)  # fmt: skip
        assert (sub.next_payment_date, sub.anchor_day, sub.seats) == (date(2026, 1, 31), 31, 3)
        # Defaults: starts today, first payment today, the partner pays.
        sub2 = subs.add_subscription(s, a, client=c, product=p, today=TODAY)
        assert (sub2.start_date, sub2.next_payment_date, sub2.payer) == (TODAY, TODAY, "partner")


def test_client_edit_invites_contact_in_client_language_without_billing_access(engine):
    with scope(engine) as s:
        add_client(s, "NL1", language="nl", name="Bakkerij Jansen")
        p = add_product(s, "sig-m365", "2.50")
        users_before = len(s.exec(select(User)).all())
        sub = subs.create_subscription(
            s, admin(s), client_ref="NL1", product_key="sig-m365", seats=5, allow_client_edit=True,
            contact_name="Eva de Vries", contact_email="Eva@Bakkerij.example", today=TODAY,
        )  # fmt: skip
        assert sub.editor_email == "eva@bakkerij.example" and sub.editor_invited_at is not None
        msgs = s.exec(select(OutboxMessage)).all()
        assert len(msgs) == 1
        msg = msgs[0]
        assert msg.to_addr == "eva@bakkerij.example" and msg.language == "nl"
        assert "nodigt u uit" in msg.subject and "Bakkerij Jansen" in msg.subject and p.name in msg.subject
        assert "Acme Partners" in msg.body_text and "facturering" in msg.body_text
        # The contact is not made a partner user: no access to billing or anything else here.
        assert len(s.exec(select(User)).all()) == users_before
        # Changing the contact's e-mail re-invites; withdrawing clears the editor.
        subs.edit_subscription(s, admin(s), sub.id, contact_email="eva2@bakkerij.example", today=TODAY)
        assert [m.to_addr for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))] == [
            "eva@bakkerij.example", "eva2@bakkerij.example"]  # fmt: skip
        subs.edit_subscription(s, admin(s), sub.id, allow_client_edit=False, today=TODAY)
        assert (sub.allow_client_edit, sub.editor_email) == (False, None)


def test_contact_options_need_client_editing_on_add_and_edit_alike(engine):
    """One rule for `subscription add` and `edit`: the contact options only go with client editing."""
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "C1")
        p = add_product(s, "sig", "2.50")
        with pytest.raises(InvalidInput) as on_add:
            subs.add_subscription(s, a, client=c, product=p, contact_email="eva@c1.example", today=TODAY)
        sub = subs.add_subscription(s, a, client=c, product=p, today=TODAY)
        with pytest.raises(InvalidInput) as on_edit:
            subs.edit_subscription(s, a, sub.id, contact_email="eva@c1.example", today=TODAY)
        assert str(on_add.value) == str(on_edit.value)
        assert "only apply with --allow-client-edit" in str(on_edit.value)
        with pytest.raises(InvalidInput, match="do not go with --no-client-edit"):
            subs.edit_subscription(s, a, sub.id, allow_client_edit=False, contact_name="Eva", today=TODAY)
        with pytest.raises(InvalidInput, match="needs the client contact") as on_add:
            subs.add_subscription(s, a, client=c, product=p, allow_client_edit=True, contact_name="Eva",
                                  today=TODAY)  # fmt: skip
        with pytest.raises(InvalidInput, match="needs the client contact") as on_edit:
            subs.edit_subscription(s, a, sub.id, allow_client_edit=True, contact_name="Eva", today=TODAY)
        assert str(on_add.value) == str(on_edit.value)
        # Once the client edits, a contact option alone changes the editor; the same address is no re-invite.
        subs.edit_subscription(s, a, sub.id, allow_client_edit=True, contact_name="Eva",
                               contact_email="eva@c1.example", today=TODAY)  # fmt: skip
        subs.edit_subscription(s, a, sub.id, contact_name="Eva Jansen", today=TODAY)
        assert (sub.editor_name, sub.editor_email) == ("Eva Jansen", "eva@c1.example")
        assert [m.to_addr for m in s.exec(select(OutboxMessage))] == ["eva@c1.example"]


@pytest.mark.parametrize("language,phrase", [("de", "lädt Sie ein"), ("fr", "vous invite"),
                                             ("da", "inviterer dig"), ("en", "invites you")])  # fmt: skip
def test_invitation_is_translated(language, phrase):
    from partnerctl.mail.render import render

    ctx = {"contact_name": "X", "contact_email": "x@y.example", "client_name": "C", "product_name": "P",
           "partner_name": "Acme"}  # fmt: skip
    rendered = render(subs.INVITE_TEMPLATE, language, ctx)
    assert rendered.language == language and phrase in rendered.subject
    assert "$" not in rendered.subject + rendered.text


# -- isolation and states -----------------------------------------------------------------------------


def test_bookkeeper_sees_only_assigned_clients_and_cannot_change(engine):
    with scope(engine) as s:
        a = admin(s)
        c1, c2 = add_client(s, "A1"), add_client(s, "B2")
        p = add_product(s, "sig", "2.50")
        s1 = subs.add_subscription(s, a, client=c1, product=p, today=TODAY)
        s2 = subs.add_subscription(s, a, client=c2, product=p, today=TODAY)
        bk = add_bookkeeper(s, "bob@acme.example", c1)
        assert [v.id for v in subs.list_subscriptions(s, bk)] == [s1.id]
        assert {v.id for v in subs.list_subscriptions(s, a)} == {s1.id, s2.id}
        assert subs.show_subscription(s, bk, s1.id).client_ref == "A1"
        with pytest.raises(NotFound):
            subs.show_subscription(s, bk, s2.id)
        with pytest.raises(NotFound):
            subs.list_subscriptions(s, bk, client_ref="B2")
        with pytest.raises(Forbidden):
            subs.edit_subscription(s, bk, s1.id, seats=4)


def test_list_filters_and_monthly_value(engine):
    with scope(engine) as s:
        a = admin(s)
        c1, c2 = add_client(s, "A1", name="Alpha"), add_client(s, "B2", name="Beta", currency="USD")
        p = add_product(s, "sig", "2.50")
        y = add_product(s, "arch", "100", period="yearly")
        s1 = subs.add_subscription(s, a, client=c1, product=p, seats=4, today=TODAY)
        s2 = subs.add_subscription(s, a, client=c1, product=y, seats=1, payer="client", today=TODAY,
                                   next_payment=date(2026, 6, 1))  # fmt: skip
        s3 = subs.add_subscription(s, a, client=c2, product=p, seats=2, today=TODAY)
        by_id = {v.id: v for v in subs.list_subscriptions(s, a)}
        assert (by_id[s1.id].monthly_value, by_id[s1.id].currency) == (Decimal("10.00"), "EUR")
        assert by_id[s2.id].monthly_value == Decimal("8.33")  # 100 / 12, half-even
        # No EUR->USD rate yet: shown in the product's currency, never guessed.
        assert (by_id[s3.id].monthly_value, by_id[s3.id].currency) == (Decimal("5.00"), "EUR")
        subs.set_rate(s, a, "EUR", "USD", "1.08")
        v3 = subs.show_subscription(s, a, s3.id)
        assert (v3.monthly_value, v3.currency) == (Decimal("5.40"), "USD")
        assert [v.id for v in subs.list_subscriptions(s, a, payer="client")] == [s2.id]
        assert [v.id for v in subs.list_subscriptions(s, a, product_key="arch")] == [s2.id]
        assert {v.id for v in subs.list_subscriptions(s, a, due_before=date(2026, 4, 1))} == {s1.id, s3.id}
        assert [v.id for v in subs.list_subscriptions(s, a, search="bet")] == [s3.id]
        assert [v.client_ref for v in subs.list_subscriptions(s, a, sort="client", descending=True)][
            0
        ] == "B2"
        subs.suspend_subscription(s, a, s1.id)
        assert [v.id for v in subs.list_subscriptions(s, a, status="suspended")] == [s1.id]
        with pytest.raises(InvalidInput):
            subs.list_subscriptions(s, a, status="paused")


def test_suspend_resume_cancel(engine):
    with scope(engine) as s:
        a = admin(s)
        c = add_client(s, "A1")
        p = add_product(s, "sig", "2.50")
        sub = subs.add_subscription(s, a, client=c, product=p, start=date(2026, 1, 31), today=TODAY)
        subs.suspend_subscription(s, a, sub.id)
        with pytest.raises(Conflict):
            subs.suspend_subscription(s, a, sub.id)
        # Resuming skips the periods that passed while suspended, keeping the month-end anchor.
        subs.resume_subscription(s, a, sub.id, today=date(2026, 4, 2))
        assert (sub.status, sub.next_payment_date) == ("active", date(2026, 4, 30))
        subs.cancel_subscription(s, a, sub.id)
        with pytest.raises(Conflict, match="cancelled"):
            subs.edit_subscription(s, a, sub.id, seats=2)
        with pytest.raises(Conflict):
            subs.resume_subscription(s, a, sub.id)
        with pytest.raises(InvalidInput, match="in the past"):
            sub2 = subs.add_subscription(s, a, client=c, product=p, today=TODAY)
            subs.edit_subscription(s, a, sub2.id, next_payment=date(2026, 1, 1), today=TODAY)
