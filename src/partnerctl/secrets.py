"""The one caller of keyring: secrets resolved from explicit input, then the environment, then keyring."""

from __future__ import annotations

import os

from partnerctl.errors import ConfigMissing, InvalidInput

SERVICE = "partnerctl"
# The secret keys partnerctl knows, and the environment variable that overrides each one.
SECRET_ENV = {
    "store-password": "PARTNERCTL_STORE_PASSWORD",
    "smtp-password": "PARTNERCTL_SMTP_PASSWORD",
}


def check_key(key: str) -> str:
    if key not in SECRET_ENV:
        raise InvalidInput(f"unknown secret {key!r}; known secrets: {', '.join(SECRET_ENV)}")
    return key


def _username(profile: str, key: str) -> str:
    return f"{profile}/{key}"


def _keyring_get(profile: str, key: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, _username(profile, key))
    except KeyringError:
        # No usable backend (headless, cron): behave as if nothing were stored there.
        return None


def resolve_secret(
    profile: str, key: str, *, explicit: str | None = None, required: bool = False
) -> str | None:
    """Find a secret: explicit input (e.g. --password-stdin) first, then the env var, then keyring."""
    check_key(key)
    if explicit is not None:
        return explicit
    env_value = os.environ.get(SECRET_ENV[key])
    if env_value:
        return env_value
    value = _keyring_get(profile, key)
    if value is None and required:
        raise ConfigMissing(missing_secret_message(profile, key))
    return value


def missing_secret_message(profile: str, key: str) -> str:
    return (
        f"no {key} for profile {profile!r}: set {SECRET_ENV[key]}, or store it with "
        f"`partnerctl profile set-secret {profile} {key}` (reads it from stdin)"
    )


def secret_source(profile: str, key: str) -> str:
    """Where a secret would come from, without revealing it."""
    if os.environ.get(SECRET_ENV[key]):
        return f"env {SECRET_ENV[key]}"
    return "keyring" if _keyring_get(profile, key) is not None else "not set"


def set_secret(profile: str, key: str, value: str) -> None:
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    check_key(key)
    if not value:
        raise InvalidInput("the secret is empty")
    try:
        keyring.set_password(SERVICE, _username(profile, key), value)
    except NoKeyringError:
        raise ConfigMissing(
            f"no keyring backend is available on this machine; set {SECRET_ENV[key]} in the environment instead"
        ) from None
    except KeyringError as exc:
        raise ConfigMissing(
            f"keyring refused to store the secret ({exc}); set {SECRET_ENV[key]} in the environment instead"
        ) from None


def delete_secret(profile: str, key: str) -> bool:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    check_key(key)
    try:
        keyring.delete_password(SERVICE, _username(profile, key))
    except PasswordDeleteError:
        return False
    except KeyringError:
        return False
    return True
