"""AppContext: the resolved profile, store, acting user and output format, with a lazy engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partnerctl import config
from partnerctl.errors import ConfigMissing, Forbidden, StoreUnavailable
from partnerctl.output import Output

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

    from partnerctl.services.acting import Acting
    from partnerctl.store.models import User

# Engines are cached per URL so `batch` (many commands, one process) pays connection set-up once.
_ENGINES: dict[str, Any] = {}
_SCHEMA_CHECKED: set[str] = set()


@dataclass
class AppContext:
    profile_flag: str | None = None
    store_flag: str | None = None
    as_user: str | None = None
    output_format: str | None = None
    no_input: bool = False
    _settings: config.Settings | None = field(default=None, repr=False)
    _out: Output | None = field(default=None, repr=False)
    _acting: Acting | None = field(default=None, repr=False)

    # -- configuration -----------------------------------------------------
    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            self._settings = config.load_settings()
        return self._settings

    @property
    def profile_name(self) -> str:
        return (
            self.profile_flag
            or os.environ.get("PARTNERCTL_PROFILE")
            or self.settings.current_profile
            or "default"
        )

    @property
    def profile(self) -> config.Profile:
        """The active profile; an unnamed default that is not configured yet is an empty profile."""
        name = self.profile_name
        if name in self.settings.profiles:
            return self.settings.profiles[name]
        if self.profile_flag or os.environ.get("PARTNERCTL_PROFILE"):
            self.settings.profile(name)  # raises NotFound with a hint
        return config.Profile(name)

    def save_settings(self) -> None:
        config.save_settings(self.settings)

    def set_current(self, key: str, value: str | None) -> bool:
        """Point the profile's current `client` or `tenant` at `value` (None clears it), saved in config.toml.

        Returns False when there was nothing to clear.
        """
        profile = self.settings.profiles.setdefault(self.profile_name, self.profile)
        had = profile.unset(key) if value is None else True
        if value is not None:
            profile.set(key, value)
        self.save_settings()
        return had

    def use_client(self, ref: str) -> tuple[str, str]:
        """`client use REF` and the portal's "go to client": the client `ref`, as the acting user sees it,
        becomes the profile's current client. Returns its reference and name."""
        from partnerctl.services.access import get_client_for

        with self.session(readonly=True) as s:
            client = get_client_for(s, self.actor(s), ref)
            ref_out, name = client.ref, client.name
        self.set_current("client", ref_out)
        return ref_out, name

    @property
    def out(self) -> Output:
        if self._out is None:
            self._out = Output(self.output_format)
        return self._out

    # -- store -------------------------------------------------------------
    def store_url_raw(self) -> str:
        return (
            self.store_flag
            or os.environ.get("PARTNERCTL_STORE")
            or self.profile.store
            or config.default_store_url()
        )

    def engine(self, *, check_schema: bool = True) -> Engine:
        from partnerctl.store.engine import is_sqlite, make_engine, normalize_url

        url = normalize_url(self.store_url_raw())
        cache_key = url.render_as_string(hide_password=False)
        engine = _ENGINES.get(cache_key)
        if engine is None:
            password = None
            if not is_sqlite(url) and not url.password:
                from partnerctl.secrets import resolve_secret

                password = resolve_secret(self.profile_name, "store-password")
            engine = make_engine(url, password=password)
            _ENGINES[cache_key] = engine
        if check_schema and cache_key not in _SCHEMA_CHECKED:
            with translate_db_errors(engine, self.profile_name):
                from partnerctl.store.schema import ensure_schema

                ensure_schema(engine)
            _SCHEMA_CHECKED.add(cache_key)
        if self._acting is not None and self._acting.on_behalf:
            from partnerctl.store.engine import acting_for

            # Every later transaction of this command acts for that user too (row-level security).
            return acting_for(engine, self._acting.user.id)
        return engine

    @contextmanager
    def session(self, *, readonly: bool = False, check_schema: bool = True) -> Iterator[Session]:
        from partnerctl.store.engine import session_scope

        engine = self.engine(check_schema=check_schema)
        with translate_db_errors(engine, self.profile_name), session_scope(engine, readonly=readonly) as s:
            yield s

    # -- who acts ------------------------------------------------------------
    def acting(self, conn: Connection) -> Acting:
        """The real and the effective user (services.acting), resolved once per command."""
        from partnerctl.services.acting import bind_acting, resolve_acting

        if self._acting is None:
            self._acting = resolve_acting(
                conn,
                as_email=self.as_user or os.environ.get("PARTNERCTL_USER"),
                profile_email=self.profile.user,
            )
            # This transaction began before we knew; later ones get it from engine().
            bind_acting(conn, self._acting)
        return self._acting

    def actor(self, session: Session) -> User:
        """The user whose view and rights the command has; the audit log also learns the real user."""
        from partnerctl.services.audit import ACTING_KEY
        from partnerctl.store.models import User

        acting = self.acting(session.connection())
        session.info[ACTING_KEY] = acting.real.email
        return session.get(User, acting.user.id)


def dispose_engines() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _SCHEMA_CHECKED.clear()


@contextmanager
def translate_db_errors(engine: Engine, profile: str) -> Iterator[None]:
    """Connection failures are exit 6 (or 7 when a password is missing), with one clear line."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    from partnerctl.store.engine import redact

    try:
        yield
    except DBAPIError as exc:
        if not isinstance(exc, (OperationalError, InterfaceError)):
            if _sqlstate(exc) == "42501":
                # insufficient_privilege: a grant or a row-level security policy of a PostgreSQL store.
                raise Forbidden(f"the store refused: {_first_line(exc)}") from None
            raise
        detail = (
            str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            if str(getattr(exc, "orig", exc)).strip()
            else ""
        )
        lowered = detail.lower()
        if "password" in lowered and ("no password" in lowered or "authentication failed" in lowered):
            from partnerctl.secrets import missing_secret_message

            raise ConfigMissing(missing_secret_message(profile, "store-password")) from None
        if "locked" in lowered or "busy" in lowered:
            from partnerctl.errors import Conflict

            raise Conflict(f"the store is locked by another process ({detail}); try again") from None
        raise StoreUnavailable(f"cannot use the store {redact(engine.url)}: {detail}") from None


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
