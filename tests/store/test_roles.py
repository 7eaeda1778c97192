"""Role names: the group roles of a store carry its database (roles are cluster-wide), and login
role names follow PostgreSQL's identifier rules."""

from __future__ import annotations

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.store.roles import check_role_name, group_roles


def test_group_roles_are_named_after_the_database():
    roles = group_roles("partners")
    assert (roles.admin, roles.bookkeeper) == ("partnerctl_partners_admin", "partnerctl_partners_bookkeeper")
    assert roles.for_role("admin") == roles.admin and roles.for_role("bookkeeper") == roles.bookkeeper


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("my-db", "my_db"),  # sanitising alone would give both the same names
        ("Partners", "partners"),
        ("x" * 60 + "a", "x" * 60 + "b"),  # too long: cut, so a hash tells them apart
    ],
)
def test_two_databases_never_share_group_roles(one, other):
    a, b = group_roles(one), group_roles(other)
    assert set(a.both).isdisjoint(b.both)
    for name in (*a.both, *b.both):
        assert len(name.encode()) <= 63 and name.replace("_", "").isalnum() and name == name.lower()


def test_login_role_names_follow_identifier_rules():
    assert check_role_name(" bob_1$ ") == "bob_1$"
    for bad in (
        "",
        "Bob",
        "1bob",
        "bob smith",
        'bo"b',
        "b" * 64,
        "pg_monitor",
        "public",
        "partnerctl_x_admin",
    ):
        with pytest.raises(InvalidInput):
            check_role_name(bad)
