"""config.toml <-> Settings: profiles, the current profile, per-profile options. Never holds a secret."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partnerctl.errors import ConfigMissing, InvalidInput, NotFound

APP_NAME = "partnerctl"
PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Keys a user may set with `profile set KEY VALUE`; each with a validator that returns the stored value.
_SECURITY = ("starttls", "ssl", "none")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise InvalidInput(f"mail.smtp.port must be a number, not {value!r}") from None
    if not 0 < port < 65536:
        raise InvalidInput(f"mail.smtp.port must be between 1 and 65535, not {port}")
    return port


def _choice(*choices: str):
    def check(value: str) -> str:
        if value not in choices:
            raise InvalidInput(f"expected one of {', '.join(choices)}, not {value!r}")
        return value

    return check


def _text(value: str) -> str:
    if not value.strip():
        raise InvalidInput("value must not be empty")
    return value.strip()


SETTABLE_KEYS: dict[str, Any] = {
    "store": _text,
    "user": _text,
    "mail.transport": _choice("maildir", "smtp"),
    "mail.from": _text,
    "mail.maildir": _text,
    "mail.smtp.host": _text,
    "mail.smtp.port": _port,
    "mail.smtp.security": _choice(*_SECURITY),
    "mail.smtp.username": _text,
    "mail.smtp.timeout": _port,
    "mail.smtp.cafile": _text,
}


def config_dir() -> Path:
    override = os.environ.get("PARTNERCTL_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    override = os.environ.get("PARTNERCTL_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_store_url() -> str:
    return f"sqlite:///{data_dir() / 'partnerctl.db'}"


def config_path() -> Path:
    return config_dir() / "config.toml"


@dataclass
class Profile:
    name: str
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def set(self, dotted: str, value: Any) -> None:
        parts = dotted.split(".")
        node = self.values
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def unset(self, dotted: str) -> bool:
        parts = dotted.split(".")
        node = self.values
        for part in parts[:-1]:
            if part not in node:
                return False
            node = node[part]
        return node.pop(parts[-1], None) is not None

    @property
    def store(self) -> str | None:
        return self.get("store")

    @property
    def user(self) -> str | None:
        return self.get("user")


@dataclass
class Settings:
    current_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise NotFound(
                f"no profile named {name!r}", hint="list them with `partnerctl profile list`"
            ) from None


def validate_profile_name(name: str) -> str:
    if not PROFILE_NAME_RE.match(name):
        raise InvalidInput(
            f"invalid profile name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return name


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigMissing(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigMissing(f"cannot read {path}: {exc.strerror}") from None
    profiles_raw = raw.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        raise ConfigMissing(f"{path}: [profiles] must be a table")
    profiles = {
        name: Profile(name, dict(values)) for name, values in profiles_raw.items() if isinstance(values, dict)
    }
    current = raw.get("current_profile")
    return Settings(current_profile=current if isinstance(current, str) else None, profiles=profiles)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    import tomli_w

    path = path or config_path()
    try:
        return _write_settings(settings, path, tomli_w)
    except OSError as exc:
        raise ConfigMissing(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_settings(settings: Settings, path: Path, tomli_w: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if settings.current_profile:
        data["current_profile"] = settings.current_profile
    data["profiles"] = {name: p.values for name, p in sorted(settings.profiles.items())}
    # Write then rename so a crash never leaves half a config file behind.
    tmp = path.with_suffix(".toml.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(data, fh)
    os.replace(tmp, path)
    return path


def parse_setting(key: str, value: str) -> Any:
    if "password" in key.lower() or "secret" in key.lower():
        raise InvalidInput(
            f"{key} is a secret and never goes in config.toml: use `partnerctl profile set-secret NAME KEY`"
        )
    try:
        check = SETTABLE_KEYS[key]
    except KeyError:
        raise InvalidInput(f"unknown key {key!r}; known keys: {', '.join(SETTABLE_KEYS)}") from None
    try:
        return check(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{key}: {exc.message}") from None
