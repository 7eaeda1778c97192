"""Tenant administrator passwords: strength, generation, argon2id hashes and reuse fingerprints.

A fingerprint is HMAC(pepper, argon2id(password, salt)); this module computes the argon2id part,
store/credentials.py applies the pepper where the pepper may be read (see docs/security.md).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable

from sqlmodel import Session

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.store.credentials import KeyParams, create_key, load_key
from partnerctl.store.models.tenants import Tenant

PASSWORD_MIN_LENGTH = 12


PASSWORD_MAX_LENGTH = 128


PASSWORD_MIN_SCORE = 3


# zxcvbn refuses longer input; a password longer than this is judged on its first 72 characters.
_ZXCVBN_MAX = 72


GENERATED_PASSWORD_LENGTH = 20


def generate_password(length: int = GENERATED_PASSWORD_LENGTH) -> str:
    """A random password from letters, digits and punctuation, with at least one of each kind."""
    alphabet = string.ascii_letters + string.digits + "!#%+-.:=?@_"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw)
            and any(not c.isalnum() for c in pw)
        ):
            return pw


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """At least 12 characters and a zxcvbn score of 3 or 4; the message never repeats the password."""
    from zxcvbn import zxcvbn

    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(f"the password is too short: it needs at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"the password is too long: at most {PASSWORD_MAX_LENGTH} characters")
    inputs = [i for i in user_inputs if i]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    if result["score"] < PASSWORD_MIN_SCORE:
        feedback = result.get("feedback") or {}
        warning = (feedback.get("warning") or "").rstrip(".")
        suggestions = " ".join(feedback.get("suggestions") or [])
        raise InvalidInput(
            f"the password is too weak (strength {result['score']} of 4, at least {PASSWORD_MIN_SCORE} needed)"
            + (f": {warning}" if warning else ""),
            hint=suggestions or "use a longer passphrase, or --generate-password",
        )


def password_user_inputs(tenant: Tenant, email: str, username: str, name: str) -> list[str]:
    inputs = [email, email.split("@")[0], username, tenant.name, *tenant.name.split(), name, *name.split()]
    return [i for i in inputs if i]


def credential_key(session: Session) -> KeyParams:
    """The store's salt and argon2id cost parameters, made on first use (the pepper with them)."""
    from argon2 import PasswordHasher
    from sqlalchemy.exc import IntegrityError

    conn = session.connection()
    key = load_key(conn)
    if key is None:
        ph = PasswordHasher()
        key = KeyParams(
            salt=secrets.token_bytes(16),
            time_cost=ph.time_cost,
            memory_cost=ph.memory_cost,
            parallelism=ph.parallelism,
        )
        try:
            create_key(conn, key)
        except IntegrityError:
            raise Conflict(
                "another process is setting up the password key of this store; try again"
            ) from None
    return key


def password_prehash(session: Session, password: str) -> bytes:
    """argon2id of the password with the store's fixed salt: the costly part of its fingerprint."""
    from argon2.low_level import Type, hash_secret_raw

    key = credential_key(session)
    return hash_secret_raw(
        password.encode("utf-8"),
        key.salt,
        time_cost=key.time_cost,
        memory_cost=key.memory_cost,
        parallelism=key.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)
