"""Input rules shared by every area: one wording for "unknown X", whichever area parses it."""

from __future__ import annotations

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.services import users
from partnerctl.services.billing import subscriptions
from partnerctl.services.clients import model
from partnerctl.services.outbox import queue
from partnerctl.services.reminders import schedule
from partnerctl.services.tenants import rules
from partnerctl.services.validation import one_of, parse_choice
from partnerctl.store.models.core import Role


def test_one_of_lists_the_choices():
    assert one_of(["a"]) == "a"
    assert one_of(["a", "b"]) == "a or b"
    assert one_of(Role) == "admin or bookkeeper"


def test_parse_choice_ignores_case_and_space_and_names_the_choices():
    assert parse_choice(Role, "  ADMIN ", "role") is Role.admin
    assert parse_choice(Role, Role.bookkeeper, "role") is Role.bookkeeper
    with pytest.raises(InvalidInput, match=r"^unknown role 'owner': use admin or bookkeeper$"):
        parse_choice(Role, "owner", "role")


@pytest.mark.parametrize(
    ("parse", "what", "choices"),
    [
        (users.parse_role, "role", "admin or bookkeeper"),
        (subscriptions.parse_payer, "payer", "partner or client"),
        (subscriptions.parse_status, "status", "active, suspended or cancelled"),
        (queue.parse_status, "status", "pending, sent or failed"),
        (schedule.parse_frequency, "frequency", "daily, weekly or monthly"),
        (rules.parse_type, "tenant type", "standard or custom"),
        (model.parse_status, "status", "invited, onboarding, active or archived"),
    ],
)
def test_every_area_words_an_unknown_choice_the_same_way(parse, what, choices):
    with pytest.raises(InvalidInput) as err:
        parse("nonsense")
    assert err.value.message == f"unknown {what} 'nonsense': use {choices}"
