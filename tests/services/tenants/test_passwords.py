"""Administrator passwords: strength judged with the tenant and person, salted hashes, reuse fingerprints."""

from __future__ import annotations

import pytest
from sqlmodel import select

from partnerctl.errors import InvalidInput
from partnerctl.services import tenants as svc
from partnerctl.services.tenants import passwords
from partnerctl.store.credentials import PasswordUse, password_use, pepper_fingerprint
from partnerctl.store.models import TenantAdmin, TenantCredentialKey
from tests.helpers.store import admin, scope


def test_password_rules_use_the_tenant_and_person(engine):
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Konditorei Sonnenschein")
        svc.create_tenant(s, admin(s), name="Other Shop")
    # Strong on its own, weak for this tenant: zxcvbn gets the tenant name and e-mail as user inputs.
    with scope(engine) as s, pytest.raises(InvalidInput, match="too weak"):
        svc.add_admin(s, admin(s), "Konditorei Sonnenschein", email="mara@konditorei.example",
                      password="KonditoreiSonnenschein")  # fmt: skip
    with scope(engine) as s:
        a, count = svc.add_admin(
            s, admin(s), "Other Shop", email="mara@other.example", password="KonditoreiSonnenschein"
        )
        assert count == 1
        admin_id = a.id
    with scope(engine) as s:
        # Read as the store's owner (the only one who may): the hash is salted argon2id, and the
        # fingerprint is HMAC(pepper, argon2id(password, salt)) whether partnerctl (SQLite) or the
        # database (PostgreSQL, a trigger) applied the pepper: both give the same value.
        stored_hash, fp = s.exec(
            select(TenantAdmin.password_hash, TenantAdmin.pw_fingerprint).where(TenantAdmin.id == admin_id)
        ).one()
        pepper = s.exec(select(TenantCredentialKey.pepper)).one()
        assert stored_hash.startswith("$argon2id$") and len(fp) == 64
        assert "KonditoreiSonnenschein" not in stored_hash + fp
        prehash = passwords.password_prehash(s, "KonditoreiSonnenschein")
        assert fp == pepper_fingerprint(pepper, prehash) != prehash.hex()
        # Equal passwords give equal fingerprints in one store (that is how reuse is found)...
        conn = s.connection()
        assert password_use(conn, prehash, admin_id) is PasswordUse.current
        assert password_use(conn, prehash, None) is PasswordUse.other
        assert password_use(conn, passwords.password_prehash(s, "KonditoreiSonnenschein!"), None) is (
            PasswordUse.free
        )
        # ...while the login hash is salted: two hashes of one password differ.
        assert passwords.hash_password("KonditoreiSonnenschein") != passwords.hash_password(
            "KonditoreiSonnenschein"
        )
    for _ in range(20):
        generated = svc.generate_password()
        passwords.check_password_strength(generated)
        assert len(generated) == 20


@pytest.mark.parametrize("backend", ["sqlite"])
def test_strength_limits_never_repeat_the_password(backend):
    with pytest.raises(InvalidInput, match="at least 12") as short:
        passwords.check_password_strength("Sh0rt!pw")
    with pytest.raises(InvalidInput, match="at most 128"):
        passwords.check_password_strength("Aa1!" * 40)
    with pytest.raises(InvalidInput, match="too weak") as weak:
        passwords.check_password_strength("xq12345xq12345")
    assert "Sh0rt!pw" not in short.value.message
    assert "xq12345" not in weak.value.message + (weak.value.hint or "")
